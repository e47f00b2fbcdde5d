/**
 * RUN: the command line (exec form, shell form under the current SHELL, heredocs), the step's
 * environment and user, and its `--mount`s, which the front end's parseRunMount reads with each
 * option value expanded (BuildKit's rule). Bind mounts put a stage's, an image's or the context's
 * files in place for the command only; cache mounts keep their contents across builds; secret and
 * ssh mounts are empty files offline. What a command writes under a mount never reaches the layer.
 */
import type { RunInstruction } from "../dockerfile/instructions.ts";
import { rangeInNode } from "../dockerfile/parser.ts";
import { parseRunMount } from "../dockerfile/run-mount.ts";
import { LayerLabError } from "../errors.ts";
import { cleanPath as toRel } from "../fs/paths.ts";
import type { FileEntry } from "../fs/types.ts";
import { BashFs } from "./bash-fs.ts";
import { writeEntries } from "./commands/apt.ts";
import { contextSource, copyInto, fsSource, type SourceTree } from "./copy.ts";
import { BuildFailure } from "./failure.ts";
import { LayerFs } from "./layer-fs.ts";
import { runCommand } from "./run.ts";
import {
  DEFAULT_SHELL,
  type DispatchContext,
  resolveRunUser,
  type StageState,
  type StepPlan,
} from "./state.ts";
import { homeOf } from "./user-lookup.ts";

/** A RUN --mount as the builder applies it: the target made absolute against WORKDIR. */
interface Mount {
  type: string;
  target: string;
  id: string;
  from?: string;
  source?: string;
  /** Set for a bind mount of a single file. */
  file?: boolean;
}

/** A heredoc-only shell command: `RUN <<EOF` (optionally `<<-`, a quoted delimiter or a fd). */
const HEREDOC_ONLY = /^\s*\d*<<-?\s*['"]?[^\s]+['"]?\s*$/;

function heredocBody(h: RunInstruction["heredocs"][number]): string {
  return h.chomp ? h.data.replace(/^\t+/gm, "") : h.data;
}

/** The argv BuildKit runs for this RUN under `shell`. */
function commandArgv(inst: RunInstruction, shell: string[]): string[] {
  if (!inst.prependShell) return [...inst.cmdLine];
  const line = inst.cmdLine[0] ?? "";
  const only = inst.heredocs[0];
  if (inst.heredocs.length === 1 && only && HEREDOC_ONLY.test(line)) {
    const body = heredocBody(only);
    const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(body);
    const interp = shebang
      ? shebang[1] === "/usr/bin/env"
        ? (shebang[2] ?? "")
        : (shebang[1] as string)
      : "";
    // BuildKit runs a #! heredoc as a file (/dev/pipes/NAME); LayerLab's shell can run shell scripts only.
    if (shebang && !/(^|\/)(sh|bash|ash|dash)$/.test(interp))
      return [interp.startsWith("/") ? interp : `/usr/bin/${interp}`, `/dev/pipes/${only.name}`];
    return [...shell, body];
  }
  if (inst.heredocs.length > 0)
    return [...shell, [line, ...inst.heredocs.map((h) => `${heredocBody(h)}${h.name}`)].join("\n")];
  return [...shell, line];
}

/** Reads the mounts with the stage's environment, targets made absolute against WORKDIR. */
function readMounts(ctx: DispatchContext, stage: StageState, inst: RunInstruction): Mount[] {
  const wd = stage.config.config.WorkingDir || "/";
  return inst.mounts.map((spec) => {
    const range = rangeInNode(inst.node, `--mount=${spec}`);
    const m = parseRunMount(spec, range, (w) => ctx.expand(stage, w, range));
    let target = m.target;
    if (!target && m.type === "secret") target = `/run/secrets/${m.id}`;
    if (!target && m.type === "ssh") target = "/run/buildkit/ssh_agent.0";
    const abs = `/${toRel(target, wd)}`;
    const out: Mount = { type: m.type, target: abs, id: m.id || abs };
    if (m.from) out.from = m.from;
    if (m.source) out.source = m.source;
    return out;
  });
}

/** Plans a RUN: its cache key is the argv, environment, user, workdir and mounts. */
export function planRun(ctx: DispatchContext, stage: StageState, inst: RunInstruction): StepPlan {
  const cc = stage.config.config;
  const mounts = readMounts(ctx, stage, inst);
  const argv = commandArgv(inst, cc.Shell ?? DEFAULT_SHELL);
  // BuildKit's runCommandString: every declared stage ARG, valued from the build environment.
  const declared = [...stage.args].map(([k, v]): [string, string] => [k, stage.env.get(k) ?? v ?? ""]);
  const prefix =
    declared.length > 0 ? `|${declared.length} ${declared.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
  const createdBy = `RUN ${prefix}${argv.join(" ")} # buildkit`;
  const envList = [...stage.env].map(([k, v]) => `${k}=${v}`);
  const instruction = JSON.stringify({
    run: argv,
    env: envList,
    user: cc.User ?? "",
    wd: cc.WorkingDir ?? "/",
    mounts,
    ...(inst.devices.length > 0 ? { devices: inst.devices } : {}),
  });
  const where = (step: number) => ({
    line: inst.range.start.line,
    step,
    instruction: inst.node.original.trim(),
  });
  return {
    instruction,
    layer: true,
    execute: async (step: number) => {
      for (const d of inst.devices) {
        // LayerLab's simulated RUN has no devices: a required one fails as BuildKit does without it.
        if (d.required)
          throw new BuildFailure(`device "${d.name}" is required but not available`, where(step));
        ctx.emit({
          kind: "warning",
          step,
          message: `--device=${d.name}: no devices in LayerLab's RUN; ignored`,
        });
      }
      const env: Record<string, string> = {};
      for (const [k, v] of stage.env) env[k] = v;
      const owner = cc.User ? await resolveRunUser(stage.fs, cc.User) : { uid: 0, gid: 0 };
      // runc sets HOME from the user's /etc/passwd entry when the environment has none.
      if (env.HOME === undefined) env.HOME = await homeOf(stage.fs, owner.uid);
      const cwd = cc.WorkingDir || "/";
      const bfs = new BashFs(stage.fs, owner);
      if (cwd !== "/" && !(await bfs.exists(cwd))) bfs.mkdirSync(cwd, true, 0o755, owner);
      const saved = await mountIn(ctx, stage, mounts);
      const r = await runCommand(stage.fs, {
        argv,
        env,
        cwd,
        owner,
        ...(stage.packages ? { packages: stage.packages } : {}),
        ...(ctx.opts.signal ? { signal: ctx.opts.signal } : {}),
      });
      mountOut(ctx, stage, mounts, saved);
      if (r.stdout) ctx.emit({ kind: "output", step, stream: "stdout", text: r.stdout });
      if (r.stderr) ctx.emit({ kind: "output", step, stream: "stderr", text: r.stderr });
      if (r.exitCode !== 0) {
        if (r.stderr.startsWith("runc run failed")) throw new BuildFailure(r.stderr.trim(), where(step));
        throw new BuildFailure(
          `process "${argv.join(" ")}" did not complete successfully: exit code: ${r.exitCode}`,
          where(step),
          `${r.stdout}${r.stderr}`,
        );
      }
      return { createdBy };
    },
  };
}

/** The tree a bind mount reads: a stage, an image or the context. */
async function mountSource(ctx: DispatchContext, stage: StageState, m: Mount): Promise<SourceTree> {
  if (m.from) {
    const built = ctx.builtStage(m.from, stage.resolved.stage.index);
    if (built) return fsSource(built.fs);
    const img = await ctx.resolveImage(m.from);
    if (!img) throw new LayerLabError("BUILD", `mount from=${m.from}: no stage or image of that name`);
    const fs = new LayerFs(ctx.images.readContent, ctx.epoch);
    for (const l of img.layers) fs.applyChangeset(l.changeset);
    return fsSource(fs);
  }
  return contextSource(await ctx.contextView());
}

/** Puts mounted contents in place; returns the filesystem as it was, to restore after the command. */
async function mountIn(
  ctx: DispatchContext,
  stage: StageState,
  mounts: Mount[],
): Promise<LayerFs | undefined> {
  if (mounts.length === 0) return undefined;
  const before = stage.fs.fork();
  for (const m of mounts) {
    const rel = toRel(m.target);
    const bfs = new BashFs(stage.fs, { uid: 0, gid: 0 });
    if (m.type === "bind") {
      const tree = await mountSource(ctx, stage, m);
      const src = toRel(m.source ?? "/");
      const isDir = src === "" || tree.get(src)?.type === "dir";
      m.file = !isDir;
      if (stage.fs.nodeAt(rel)) stage.fs.removeTree(rel);
      await copyInto(stage.fs, {
        isAdd: false,
        sources: [src === "" ? "." : src],
        heredocs: [],
        dest: isDir ? `${m.target}/` : m.target,
        workdir: "/",
        tree,
        excludes: [],
        parents: false,
        unpack: false,
        epoch: ctx.epoch,
      });
      continue;
    }
    if (m.type === "secret" || m.type === "ssh") {
      // Secrets are not available offline: the file exists and is empty, and never lands in the layer.
      const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
      bfs.mkdirSync(`/${parent}`, true);
      await bfs.writeBytes(m.target, new Uint8Array(0), 0o400);
      continue;
    }
    bfs.mkdirSync(m.target, true);
    for (const k of stage.fs.childrenOf(rel)) stage.fs.removeTree(`${rel}/${k}`);
    const cached = m.type === "cache" ? ctx.cache.mounts.get(m.id) : undefined;
    if (cached)
      writeEntries(
        bfs,
        cached.entries.map((e) => ({ ...e, path: `${rel}/${e.path}` })),
      );
  }
  return before;
}

/** Saves cache mounts, then puts back what was under every mount point before the command. */
function mountOut(
  ctx: DispatchContext,
  stage: StageState,
  mounts: Mount[],
  before: LayerFs | undefined,
): void {
  if (!before) return;
  for (const m of mounts) {
    const rel = toRel(m.target);
    if (m.type === "cache")
      ctx.cache.mounts.set(m.id, { entries: entriesUnder(stage.fs, rel), whiteouts: [] });
    // What was under the mount point before comes back; what the command wrote there is gone.
    if (stage.fs.nodeAt(rel)) stage.fs.removeTree(rel);
    copySubtree(before, stage.fs, rel);
    if (!stage.fs.nodeAt(rel) && !m.file && m.type !== "secret" && m.type !== "ssh") {
      // The runtime created the mount point, and it stays in the layer as an empty directory.
      new BashFs(stage.fs, { uid: 0, gid: 0 }).mkdirSync(m.target, true);
    }
  }
}

/** Every entry under `rel`, with paths relative to it (a cache mount's contents). */
function entriesUnder(fs: LayerFs, rel: string): FileEntry[] {
  const entries: FileEntry[] = [];
  const walk = (p: string): void => {
    for (const k of fs.childrenOf(p)) {
      const child = `${p}/${k}`;
      const n = fs.nodeAt(child);
      if (!n) continue;
      const e: FileEntry = {
        path: child.slice(rel.length + 1),
        type: n.type,
        mode: n.mode,
        uid: n.uid,
        gid: n.gid,
        size: n.size,
        mtime: n.mtime,
      };
      if (n.target !== undefined) e.linkname = n.target;
      if (n.data) e.content = { kind: "inline", bytes: n.data };
      else if (n.ref) e.content = n.ref;
      entries.push(e);
      if (n.type === "dir") walk(child);
    }
  };
  walk(rel);
  return entries;
}

function copySubtree(from: LayerFs, to: LayerFs, path: string): void {
  const n = from.nodeAt(path);
  if (!n) return;
  to.putNode(path, n, false);
  if (n.type === "dir") for (const k of from.childrenOf(path)) copySubtree(from, to, `${path}/${k}`);
}
