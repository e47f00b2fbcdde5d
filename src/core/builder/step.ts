/**
 * One step with Docker's build cache around it: the key is the parent's key, the planned
 * instruction and (COPY/ADD) the source checksums; a hit restores the stage as the step left it,
 * a miss executes the plan, stores the layer it made and records it. COPY --link keys and merges
 * its layer independently of what is below it.
 */
import { sha256 } from "../digest.ts";
import type { HistoryEntry } from "../image/oci.ts";
import { type CacheRecord, missReason, type StageMeta } from "./cache.ts";
import { storeChangesetLayer } from "./image-out.ts";
import { LayerFs } from "./layer-fs.ts";
import { clone, type DispatchContext, isoTime, type StageState, type StepPlan } from "./state.ts";

/** Runs a planned step through the cache; true when it was taken from the cache. `started` times the step. */
export async function runStep(
  ctx: DispatchContext,
  stage: StageState,
  plan: StepPlan,
  step: number,
  started: number,
): Promise<boolean> {
  // COPY --link makes a layer independent of what is below it, so its cache key has no parent.
  const parentKey = plan.linked ? "link" : stage.key;
  const key = await sha256(
    `${parentKey}\n${plan.instruction}\n${plan.sources ? [...plan.sources].join("\n") : ""}`,
  );
  const hit = ctx.opts.noCache ? undefined : ctx.cache.get(key);
  if (hit && (!hit.layer || (await layerPresent(ctx, hit)))) {
    if (plan.linked) await applyLinked(ctx, stage, hit, await sha256(`${stage.key}\n${key}`));
    else await restore(ctx, stage, hit, key);
    ctx.emit({
      kind: "step-done",
      step,
      cached: true,
      ms: Date.now() - started,
      ...(hit.layer ? { layerSize: hit.layer.size, diffId: hit.layer.diffId } : {}),
      emptyLayer: !hit.layer,
    });
    return true;
  }
  const reason = ctx.opts.noCache
    ? "--no-cache"
    : stage.missed
      ? "a previous step was rebuilt"
      : missReason(ctx.cache, parentKey, plan.instruction, plan.sources);
  stage.missed = true;
  stage.fs.beginStep();
  const out = await plan.execute(step);
  const history: HistoryEntry = {
    created: isoTime(ctx.epoch),
    created_by: out.createdBy,
    comment: "buildkit.dockerfile.v0",
  };
  let layer: CacheRecord["layer"];
  if (plan.layer && (out.layer || stage.fs.stepChanged)) {
    const cs = out.layer ?? stage.fs.diffStep();
    if (cs.entries.length > 0 || cs.whiteouts.length > 0) {
      const rec = await storeChangesetLayer(ctx.opts.store, cs, ctx.images.readContent, ctx.epoch);
      stage.layers.push(rec);
      stage.config.rootfs.diff_ids.push(rec.id);
      layer = { diffId: rec.id, size: rec.size, changeset: cs };
    }
  }
  if (!layer) history.empty_layer = true;
  if (plan.history !== false) (stage.config.history as HistoryEntry[]).push(history);
  stage.key = plan.linked ? await sha256(`${stage.key}\n${key}`) : key;
  const rec: CacheRecord = {
    key,
    parent: parentKey,
    instruction: plan.instruction,
    tree: stage.fs.snapshot(),
    meta: metaOf(stage),
    history,
  };
  if (plan.sources) rec.sources = plan.sources;
  if (layer) rec.layer = layer;
  ctx.cache.put(rec);
  ctx.emit({
    kind: "step-done",
    step,
    cached: false,
    reason,
    ms: Date.now() - started,
    ...(layer ? { layerSize: layer.size, diffId: layer.diffId } : {}),
    emptyLayer: !layer,
  });
  return false;
}

async function layerPresent(ctx: DispatchContext, hit: CacheRecord): Promise<boolean> {
  if (!hit.layer) return true;
  const rec = await ctx.opts.store.meta.get("layers", hit.layer.diffId);
  if (rec && (rec.synthesized || (await ctx.opts.store.blobs.has(rec.blob)))) return true;
  await storeChangesetLayer(ctx.opts.store, hit.layer.changeset, ctx.images.readContent, ctx.epoch);
  return true;
}

/** A cached COPY --link layer goes on top of whatever is below, as BuildKit's merge does. */
async function applyLinked(
  ctx: DispatchContext,
  stage: StageState,
  hit: CacheRecord,
  chainKey: string,
): Promise<void> {
  if (hit.layer) {
    stage.fs.applyChangeset(hit.layer.changeset);
    const rec = await ctx.opts.store.meta.get("layers", hit.layer.diffId);
    if (rec) {
      stage.layers.push(rec);
      stage.config.rootfs.diff_ids.push(rec.id);
    }
  }
  (stage.config.history as HistoryEntry[]).push({ ...hit.history });
  stage.key = chainKey;
}

function metaOf(stage: StageState): StageMeta {
  return { config: clone(stage.config), env: [...stage.env], args: [...stage.args], cmdSet: stage.cmdSet };
}

async function restore(
  ctx: DispatchContext,
  stage: StageState,
  hit: CacheRecord,
  key: string,
): Promise<void> {
  stage.fs = new LayerFs(ctx.images.readContent, ctx.epoch, hit.tree);
  stage.config = clone(hit.meta.config);
  stage.env = new Map(hit.meta.env);
  stage.args = new Map(hit.meta.args);
  stage.cmdSet = hit.meta.cmdSet;
  if (hit.layer) {
    const rec = await ctx.opts.store.meta.get("layers", hit.layer.diffId);
    if (rec) stage.layers.push(rec);
  }
  stage.key = key;
}
