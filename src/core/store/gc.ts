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
 *
 * Settings the registry code keeps (src/core/registry/provenance.ts, transfer.ts, embedded.ts)
 * are read by what they mean, not only for the digests in them: see `REGISTRY_KV`.
 */
import type { Digest } from "../digest.ts";
import type { KvRecord, LayerRecord, Store } from "./types.ts";

const DIGEST = /sha256:[0-9a-f]{64}/g;

/**
 * Key prefixes of the settings the registry code writes, and what each one keeps alive:
 * - `compressed` + diffId → the gzip a tar-only layer was compressed to for a push: a blob derived
 *   from the layer, kept while the layer is; once the layer is gone the setting and its blob go.
 * - `sources` + digest → the repositories known to hold a blob (for mounts): pins nothing, and
 *   goes once the blob is gone.
 * - `transfers` + image id → what a pull or push moved: history, not a use of the blobs it names
 *   (those may be deleted); it goes with its image.
 * - `repo` + name → an embedded registry's repository (its blobs, manifests and tags): its
 *   content, kept whole, including manifests pushed by digest alone (named only as keys).
 */
export const REGISTRY_KV = {
  compressed: "registry-compressed:",
  sources: "registry-blob-sources:",
  transfers: "registry-transfers:",
  repo: "embedded-registry-repo:",
} as const;

/** The diffId a `registry-compressed:` setting belongs to, and the blob it names. */
function readCompressedSetting(r: KvRecord): { diffId: string; digest?: string } | undefined {
  if (!r.id.startsWith(REGISTRY_KV.compressed)) return undefined;
  const digest = (r.value as { digest?: unknown } | undefined)?.digest;
  return {
    diffId: r.id.slice(REGISTRY_KV.compressed.length),
    ...(typeof digest === "string" ? { digest } : {}),
  };
}

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
  kv: KvRecord[];
  images: Set<string>;
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
  const compressed: { diffId: string; digest?: string }[] = [];
  for (const r of kv) {
    const c = readCompressedSetting(r);
    if (c) compressed.push(c);
    else if (r.id.startsWith(REGISTRY_KV.sources) || r.id.startsWith(REGISTRY_KV.transfers)) continue;
    else if (r.id.startsWith(REGISTRY_KV.repo)) {
      // Manifests pushed by digest alone are named only as keys of `manifests`.
      const manifests = (r.value as { manifests?: unknown } | undefined)?.manifests;
      if (manifests && typeof manifests === "object") scanValue(Object.keys(manifests), refs);
      scanValue(r.value, refs);
    } else scanValue(r.value, refs);
  }
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
  // A layer's compressed copy lives as long as the layer (usedLayers is closed: a gzip is no layer).
  for (const c of compressed) if (c.digest && usedLayers.has(c.diffId)) refs.add(c.digest);
  return { refs, holders, layers, usedLayers, kv, images: new Set(images.map((i) => i.id)) };
}

/** What a collection removed. */
export interface GarbageReport {
  blobs: number;
  bytes: number;
  /** Layer records no image, container or cached build step used. */
  layers: number;
  /** Registry settings whose layer, blob or image is gone (a full collection only). */
  settings?: number;
}

/**
 * Removes blobs and layer records nothing refers to. `only` limits the blobs considered (those
 * one failed operation wrote); without it every blob is. Run it only where no other write is in
 * flight (at open under an exclusive lock, or for the blobs of an operation that has ended).
 */
export async function collectGarbage(store: Store, only?: Iterable<Digest>): Promise<GarbageReport> {
  const { refs, holders, layers, usedLayers, kv, images } = await recordReferences(store);
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
  const report = async (
    blobs: number,
    bytes: number,
    deleted: ReadonlySet<string>,
  ): Promise<GarbageReport> => {
    const settings = limit ? 0 : await collectRegistrySettings(store, kv, usedLayers, images, sizes, deleted);
    return { blobs, bytes, layers: deadLayers.length, ...(settings ? { settings } : {}) };
  };
  if (candidates.length === 0) return report(0, 0, new Set());
  // Contents of built layers and edited containers are blobs named inside indexes and saved layers.
  const inner = new Set<string>();
  for (const d of holders) {
    const held = await store.blobs.get(d as Digest).catch(() => undefined);
    if (held) scanValue(new TextDecoder().decode(held), inner);
  }
  let blobs = 0;
  let bytes = 0;
  const deleted = new Set<string>();
  for (const b of candidates) {
    if (inner.has(b.digest)) continue;
    if (await store.blobs.delete(b.digest)) {
      deleted.add(b.digest);
      blobs++;
      bytes += sizes.get(b.digest) ?? 0;
    }
  }
  return report(blobs, bytes, deleted);
}

/**
 * Removes the registry's settings that outlived what they describe: a compressed copy whose layer
 * is unused or whose blob is gone, the sources of a blob no longer stored, the transfers of a
 * deleted image. Returns how many went.
 */
async function collectRegistrySettings(
  store: Store,
  kv: readonly KvRecord[],
  usedLayers: ReadonlySet<string>,
  images: ReadonlySet<string>,
  stored: ReadonlyMap<string, number>,
  deleted: ReadonlySet<string>,
): Promise<number> {
  const present = (d: string | undefined) => d !== undefined && stored.has(d) && !deleted.has(d);
  const dead = kv
    .filter((r) => {
      const c = readCompressedSetting(r);
      if (c) return !usedLayers.has(c.diffId) || !present(c.digest);
      if (r.id.startsWith(REGISTRY_KV.sources)) return !present(r.id.slice(REGISTRY_KV.sources.length));
      if (r.id.startsWith(REGISTRY_KV.transfers))
        return !images.has(r.id.slice(REGISTRY_KV.transfers.length));
      return false;
    })
    .map((r) => r.id);
  if (dead.length) await store.meta.apply({ delete: { kv: dead } });
  return dead.length;
}
