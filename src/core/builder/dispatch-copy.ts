/**
 * COPY and ADD planning: expand the sources, destination, --chown and --chmod; pick the source
 * tree (the context, an earlier stage or an image for COPY --from); compute the per-file checksums
 * that key the cache; and execute through copy.ts. `--link` copies onto an empty filesystem and
 * merges the result on top, as BuildKit's merge does.
 */

import { sha256 } from "../digest.ts";
import type { AddInstruction, CopyInstruction } from "../dockerfile/instructions.ts";
import { expandHeredocBody, isRemoteSource } from "../dockerfile/resolve.ts";
import { envFromMap } from "../dockerfile/shell.ts";
import { DockerfileError, LayerLabError } from "../errors.ts";
import { cleanPath as toRel } from "../fs/paths.ts";
import { hasWildcard, matchPath } from "./context.ts";
import { contextSource, copyInto, followSource, fsSource, parseChmod, type SourceTree } from "./copy.ts";
import { LayerFs } from "./layer-fs.ts";
import type { DispatchContext, StageState, StepPlan } from "./state.ts";
import { resolveUser } from "./user-lookup.ts";

/** The tree COPY reads from and the text that stands for it in the cache key. */
async function sourceTree(
  ctx: DispatchContext,
  stage: StageState,
  from: string | undefined,
): Promise<{ tree: SourceTree; key: string }> {
  if (from === undefined) return { tree: contextSource(await ctx.contextView()), key: "context" };
  const built = ctx.builtStage(from, stage.resolved.stage.index);
  if (built) return { tree: fsSource(built.fs), key: `stage:${built.key}` };
  const img = await ctx.resolveImage(from);
  if (!img)
    throw new LayerLabError(
      "BUILD",
      `COPY --from=${from}: no stage or image of that name (LayerLab builds offline: import the image first)`,
    );
  const fs = new LayerFs(ctx.images.readContent, ctx.epoch);
  for (const l of img.layers) fs.applyChangeset(l.changeset);
  return { tree: fsSource(fs), key: `image:${img.id ?? img.layers.map((l) => l.diffId).join(",")}` };
}

/** Plans a COPY or ADD. */
export async function planCopy(
  ctx: DispatchContext,
  stage: StageState,
  inst: CopyInstruction | AddInstruction,
): Promise<StepPlan> {
  const isAdd = inst.kind === "add";
  const cc = stage.config.config;
  const env = envFromMap(stage.env);
  const dest = ctx.expand(stage, inst.dest, inst.range);
  const heredocs = inst.heredocSources.map((h) => ({
    name: h.name,
    content: h.expand ? expandHeredocBody(h.data, env, inst.range) : h.data,
  }));
  const sources: string[] = [];
  for (const s of inst.sources) {
    const src = ctx.expand(stage, s, inst.range);
    if (isRemoteSource(src)) {
      if (!isAdd)
        throw new DockerfileError("source can't be a URL for COPY", inst.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      throw new LayerLabError(
        "BUILD",
        `ADD ${src}: LayerLab builds offline and cannot download remote sources. Download it into the build context and ADD the local file instead`,
      );
    }
    sources.push(src);
  }
  const { tree, key: sourceKey } = await sourceTree(ctx, stage, inst.kind === "copy" ? inst.from : undefined);
  const chown = inst.chown !== undefined ? ctx.expand(stage, inst.chown, inst.range) : undefined;
  const chmod = inst.chmod !== undefined ? ctx.expand(stage, inst.chmod, inst.range) : undefined;
  const chmodSpec = chmod !== undefined ? parseChmod(chmod) : undefined;
  const excludes = inst.exclude;
  const parents = inst.kind === "copy" && inst.parents;
  const unpack = inst.kind === "add" ? inst.unpack !== false : true;
  // BuildKit: --link with --chmod silently falls back to a normal copy.
  const linked = inst.link && chmod === undefined;
  const checksums =
    tree.kind === "context" ? await sourceChecksums(tree, sources) : new Map([["@", sourceKey]]);
  const instruction = JSON.stringify({
    kw: inst.kind,
    sources,
    heredocs,
    dest,
    wd: cc.WorkingDir ?? "/",
    chown,
    chmod,
    excludes,
    parents,
    unpack,
    from: sourceKey,
  });
  // BuildKit's commit message: flags it shows, sources, heredoc names, the destination as written (expanded).
  const shown = [isAdd ? "ADD" : "COPY"];
  if (parents) shown.push("--parents");
  if (chown !== undefined) shown.push(`--chown=${chown}`);
  if (chmod !== undefined) shown.push(`--chmod=${chmod}`);
  shown.push(...sources, ...heredocs.map((h) => `<<${h.name}`), dest);
  const createdBy = `${shown.join(" ")} # buildkit`;
  return {
    instruction,
    sources: checksums,
    layer: true,
    linked,
    execute: async () => {
      const owner = chown !== undefined ? await resolveUser(stage.fs, chown, "chown") : undefined;
      // --link copies onto an empty filesystem: it cannot see (or follow symlinks in) what is below.
      const target = linked ? new LayerFs(ctx.images.readContent, ctx.epoch) : stage.fs;
      target.beginStep();
      await copyInto(target, {
        isAdd,
        sources,
        heredocs,
        dest,
        workdir: cc.WorkingDir || "/",
        tree,
        ...(owner ? { chown: owner } : {}),
        ...(chmodSpec ? { chmod: chmodSpec } : {}),
        excludes,
        parents,
        unpack,
        epoch: ctx.epoch,
      });
      if (!linked) return { createdBy };
      const layer = target.diffStep();
      stage.fs.applyChangeset(layer);
      return { createdBy, layer };
    },
  };
}

/** Checksums of every context file the sources name (paths sorted), for the cache key. */
async function sourceChecksums(tree: SourceTree, sources: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const all: string[] = [];
  const seen = new Set<string>();
  const walk = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const n = tree.get(p);
    if (!n) {
      // A source reached through a symlink in the middle of its path (`COPY via/x`): what COPY
      // reads is the target, so the target's content is the step's input.
      const real = followSource(tree, p);
      if (real.node && real.path !== p) walk(real.path);
      return;
    }
    all.push(p);
    if (n.type === "dir") for (const k of tree.children(p)) walk(p === "" ? k : `${p}/${k}`);
    // COPY follows a source symlink: what it points at is part of the step's input.
    if (n.type === "symlink") walk(followSource(tree, p).path);
  };
  const roots = new Set<string>();
  for (const s of sources) {
    const clean = toRel(s.replace("/./", "/"));
    if (hasWildcard(clean) || clean.includes("**")) {
      const segs = clean.split("/");
      const fixed: string[] = [];
      for (const seg of segs) {
        if (hasWildcard(seg)) break;
        fixed.push(seg);
      }
      const root = fixed.join("/");
      const sub: string[] = [];
      const w = (p: string): void => {
        const n = tree.get(p);
        if (!n) return;
        sub.push(p);
        if (n.type === "dir") for (const k of tree.children(p)) w(p === "" ? k : `${p}/${k}`);
      };
      w(root);
      for (const p of sub) if (matchPath(clean, p) || clean.includes("**")) roots.add(p);
    } else roots.add(clean);
  }
  for (const r of roots) walk(r);
  for (const p of [...new Set(all)].sort()) {
    const n = tree.get(p);
    if (!n) continue;
    let sum = `${n.type}:${n.mode.toString(8)}:${n.target ?? ""}`;
    if (n.type === "file") sum += `:${await sha256(await tree.read(p, n))}`;
    out.set(p === "" ? "." : p, sum);
  }
  return out;
}
