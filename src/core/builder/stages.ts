/**
 * Stage selection and FROM: which stage is the target, which stages it needs (its base stage,
 * COPY --from and RUN --mount from=, transitively; the rest are skipped as BuildKit skips them),
 * and how a stage starts from scratch, an earlier stage or a base image. Base names come already
 * expanded from the front end's resolveDockerfile.
 */

import { type Digest, sha256 } from "../digest.ts";
import type { ResolvedDockerfile, ResolvedStage } from "../dockerfile/resolve.ts";
import { DEFAULT_PATH } from "../dockerfile/resolve.ts";
import { mountFrom } from "../dockerfile/run-mount.ts";
import { LayerLabError } from "../errors.ts";
import type { Changeset } from "../fs/types.ts";
import { BuildFailure } from "./failure.ts";
import { storeChangesetLayer } from "./image-out.ts";
import { LayerFs } from "./layer-fs.ts";
import { clone, type DispatchContext, type StageState, splitPair } from "./state.ts";

/** Layers written for image changesets that came without a stored tar (built-in bases). */
const materialised = new WeakMap<Changeset, Digest>();

/** The stage `--target` names, or the last one. */
export function pickTarget(df: ResolvedDockerfile, target: string | undefined): ResolvedStage {
  if (target === undefined || target === "") return df.stages.at(-1) as ResolvedStage;
  const found = df.stages.find((s) => s.stage.name === target.toLowerCase());
  if (!found) throw new LayerLabError("BUILD", `target stage "${target}" could not be found`);
  return found;
}

/** The stage a COPY --from or a mount's from= names (a name or an index), when it is an earlier one. */
export function stageRef(df: ResolvedDockerfile, ref: string, before: number): ResolvedStage | undefined {
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    return i < before ? df.stages[i] : undefined;
  }
  return df.stages.find((s) => s.stage.index < before && s.stage.name === ref.toLowerCase());
}

/** Stages the target needs, in file order (unused stages are skipped, as BuildKit does). */
export function neededStages(df: ResolvedDockerfile, target: ResolvedStage): ResolvedStage[] {
  const need = new Set<number>();
  const visit = (s: ResolvedStage | undefined): void => {
    if (!s || need.has(s.stage.index)) return;
    need.add(s.stage.index);
    if (s.baseStage !== undefined) visit(df.stages[s.baseStage]);
    for (const inst of s.stage.instructions) {
      const refs =
        inst.kind === "copy"
          ? inst.from === undefined
            ? []
            : [inst.from]
          : inst.kind === "run"
            ? inst.mounts.map(mountFrom)
            : [];
      for (const ref of refs) if (ref) visit(stageRef(df, ref, s.stage.index));
    }
  };
  visit(target);
  return df.stages.filter((s) => need.has(s.stage.index));
}

function emptyStage(rs: ResolvedStage, fs: LayerFs): StageState {
  return {
    resolved: rs,
    label: rs.stage.id,
    fs,
    config: {
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [] },
      history: [],
    },
    env: new Map(),
    args: new Map(),
    cmdSet: false,
    layers: [],
    key: "",
    packages: undefined,
    standIn: undefined,
    missed: false,
  };
}

/**
 * FROM: a stage's filesystem, config, layers, environment and cache key from scratch, an earlier
 * stage or a base image (its layers stored once if they came without a tar).
 */
export async function startStage(
  ctx: DispatchContext,
  rs: ResolvedStage,
  parent: StageState | undefined,
  step: number,
): Promise<StageState> {
  const base = rs.baseName;
  const from = rs.stage.from;
  const stage = emptyStage(rs, new LayerFs(ctx.images.readContent, ctx.epoch));
  if (base.toLowerCase() === "scratch") {
    stage.config.config = { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/" };
    stage.key = await sha256("FROM scratch");
  } else if (parent) {
    stage.fs = parent.fs.fork();
    stage.config = clone(parent.config);
    stage.layers = [...parent.layers];
    stage.args = new Map(parent.args);
    stage.packages = parent.packages;
    stage.standIn = parent.standIn;
    stage.key = await sha256(`FROM stage ${parent.key}`);
  } else {
    const img = await ctx.resolveImage(base, rs.platform);
    if (!img) {
      throw new BuildFailure(
        `${base}: image not found. LayerLab builds offline: import the image first (docker save ${base} -o image.tar, then Import image archive, or \`layerlab build --load image.tar\`), or use a built-in base`,
        { line: from.range.start.line, step, instruction: from.node.original.trim() },
      );
    }
    for (const l of img.layers) stage.fs.applyChangeset(l.changeset);
    stage.config = clone(img.config);
    stage.config.config = stage.config.config ?? {};
    stage.config.history = stage.config.history ?? [];
    stage.config.rootfs = { type: "layers", diff_ids: [] };
    const store = ctx.opts.store;
    for (const l of img.layers) {
      const known = materialised.get(l.changeset);
      const rec =
        (await store.meta.get("layers", l.diffId)) ??
        (known ? await store.meta.get("layers", known) : undefined);
      if (rec) stage.layers.push(rec);
      else {
        // A built-in base has no tar yet: write it once and remember which layer it became.
        const stored = await storeChangesetLayer(store, l.changeset, ctx.images.readContent, ctx.epoch);
        materialised.set(l.changeset, stored.id);
        stage.layers.push(stored);
      }
    }
    stage.config.rootfs.diff_ids = stage.layers.map((l) => l.id);
    stage.packages = img.packages;
    stage.standIn = img.standIn;
    stage.key = await sha256(`FROM ${img.id ?? img.layers.map((l) => l.diffId).join(",")}`);
    if (img.standIn) ctx.emit({ kind: "warning", step, message: img.standIn });
    const has = `${img.config.os ?? "linux"}/${img.config.architecture ?? "amd64"}`;
    if (rs.platform && !rs.platform.startsWith(has)) {
      // The store holds one platform of an image (chosen at import); say so rather than pretend.
      ctx.emit({
        kind: "warning",
        step,
        message: `FROM --platform=${rs.platform}: the stored ${base} is ${has}; LayerLab keeps one platform per image (import the ${rs.platform} variant to use it)`,
      });
    }
  }
  const cc = stage.config.config;
  if (!(cc.Env ?? []).some((e) => e.startsWith("PATH=")))
    cc.Env = [...(cc.Env ?? []), `PATH=${DEFAULT_PATH}`];
  for (const e of cc.Env ?? []) {
    const [k, v = ""] = splitPair(e);
    stage.env.set(k, v);
  }
  for (const [k, v] of stage.args) if (v !== undefined) stage.env.set(k, v);
  return stage;
}
