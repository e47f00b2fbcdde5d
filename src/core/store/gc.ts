/**
 * Garbage collection: blobs and layer records that nothing refers to (what an interrupted or
 * failed write left behind) are removed, so the bytes stored are the bytes the images, containers
 * and build cache account for.
 *
 * A blob is kept when any record names it: an image (config, manifest, archive JSON, layers), a
 * layer (its tar,
 * blob as it came, entry index), a container (its saved layer), or any digest found in a setting
 * (the build cache names layers by diffId). Entry indexes and saved container layers name the
 * content blobs of built and edited files, so they are read too, but only when there is anything
 * to collect (the common case reads no blob).
 */
import type { Digest } from "../digest.ts";
import type { LayerRecord, Store } from "./types.ts";

const DIGEST = /sha256:[0-9a-f]{64}/g;

/** Adds every digest-looking string inside `value` (records, settings) to `out`. */
function scanValue(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 64 || value === null || value === undefined) return;
  if (typeof value === "string") {
    if (value.length >= 71) for (const m of value.matchAll(DIGEST)) out.add(m[0]);
    return;
  }
  if (typeof value !== "object" || ArrayBuffer.isView(value)) return;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      scanValue(k, out, depth + 1);
      scanValue(v, out, depth + 1);
    }
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) scanValue(v, out, depth + 1);
}

/** Digests every record of the store refers to, closed over layer records (a layer's blob and index). */
async function recordReferences(store: Store): Promise<{
  refs: Set<string>;
  holders: Set<string>;
  layers: Map<string, LayerRecord>;
  usedLayers: Set<string>;
}> {
  const [images, layerList, containers, kv] = await Promise.all([
    store.meta.list("images"),
    store.meta.list("layers"),
    store.meta.list("containers"),
    store.meta.list("kv"),
  ]);
  const layers = new Map<string, LayerRecord>(layerList.map((l) => [l.id, l]));
  const refs = new Set<string>();
  const holders = new Set<string>();
  for (const img of images) {
    refs.add(img.config);
    if (img.manifest) refs.add(img.manifest);
    for (const j of img.archiveJson ?? []) refs.add(j.digest);
    for (const l of img.layers) refs.add(l);
  }
  for (const c of containers) {
    refs.add(c.image);
    if (c.changes) {
      refs.add(c.changes);
      holders.add(c.changes);
    }
  }
  for (const r of kv) scanValue(r.value, refs);
  const usedLayers = new Set<string>();
  for (const id of refs) {
    const l = layers.get(id);
    if (!l) continue;
    usedLayers.add(id);
    refs.add(l.blob);
    if (l.index) {
      refs.add(l.index);
      holders.add(l.index);
    }
  }
  return { refs, holders, layers, usedLayers };
}

/** What a collection removed. */
export interface GarbageReport {
  blobs: number;
  bytes: number;
  /** Layer records no image, container or cached build step used. */
  layers: number;
}

/**
 * Removes blobs and layer records nothing refers to. `only` limits the blobs considered (those
 * one failed operation wrote); without it every blob is. Run it only where no other write is in
 * flight (at open under an exclusive lock, or for the blobs of an operation that has ended).
 */
export async function collectGarbage(store: Store, only?: Iterable<Digest>): Promise<GarbageReport> {
  const { refs, holders, layers, usedLayers } = await recordReferences(store);
  const limit = only ? new Set<string>(only) : undefined;
  // A failed operation's layer records go with its blobs; at open, every layer nothing uses.
  const deadLayers = [...layers.values()]
    .filter((l) => !usedLayers.has(l.id) && (!limit || limit.has(l.id) || limit.has(l.blob)))
    .map((l) => l.id);
  if (deadLayers.length) {
    await store.meta.apply({ delete: { layers: deadLayers } });
    for (const id of deadLayers) {
      const l = layers.get(id)!;
      for (const d of [l.id, l.blob, l.index]) if (d && !refs.has(d)) limit?.add(d);
    }
  }
  const all = await store.blobs.list();
  const sizes = new Map(all.map((b) => [b.digest as string, b.size]));
  const candidates = all.filter((b) => !refs.has(b.digest) && (!limit || limit.has(b.digest)));
  if (candidates.length === 0) return { blobs: 0, bytes: 0, layers: deadLayers.length };
  // Contents of built layers and edited containers are blobs named inside indexes and saved layers.
  const inner = new Set<string>();
  for (const d of holders) {
    const held = await store.blobs.get(d as Digest).catch(() => undefined);
    if (held) scanValue(new TextDecoder().decode(held), inner);
  }
  let blobs = 0;
  let bytes = 0;
  for (const b of candidates) {
    if (inner.has(b.digest)) continue;
    if (await store.blobs.delete(b.digest)) {
      blobs++;
      bytes += sizes.get(b.digest) ?? 0;
    }
  }
  return { blobs, bytes, layers: deadLayers.length };
}
