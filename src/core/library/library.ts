import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { REGISTRY_KV } from "../store/gc.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";

/** One image as the library lists it, with what it shares with the others. */
export interface ImageSummary {
  id: Digest;
  names: string[];
  source: ImageRecord["source"];
  storedAt: number;
  layers: { id: Digest; size: number; sharedWith: number }[];
  /** Sum of its layers' uncompressed sizes. */
  size: number;
  /** Bytes of its layers that other images use too. */
  sharedBytes: number;
  notes?: Record<string, string>;
}

/** The whole library: every image, and what storing shared layers once saves. */
export interface LibrarySummary {
  images: ImageSummary[];
  /** Sum over images of their sizes: what storing each image separately would take. */
  logicalBytes: number;
  /** Each distinct layer counted once: what is stored. */
  storedBytes: number;
  savedBytes: number;
}

/** Summarises images and their layer sharing (a layer is shared when several images list it). */
export function summarizeLibrary(
  images: readonly ImageRecord[],
  layers: readonly LayerRecord[],
): LibrarySummary {
  const sizeOf = new Map(layers.map((l) => [l.id, l.size]));
  const users = new Map<Digest, number>();
  for (const img of images) for (const id of new Set(img.layers)) users.set(id, (users.get(id) ?? 0) + 1);
  let logicalBytes = 0;
  const summaries = images.map((img): ImageSummary => {
    const rows = img.layers.map((id) => ({
      id,
      size: sizeOf.get(id) ?? 0,
      sharedWith: (users.get(id) ?? 1) - 1,
    }));
    const size = rows.reduce((n, r) => n + r.size, 0);
    logicalBytes += size;
    return {
      id: img.id,
      names: img.names,
      source: img.source,
      storedAt: img.storedAt,
      layers: rows,
      size,
      sharedBytes: rows.reduce((n, r) => n + (r.sharedWith > 0 ? r.size : 0), 0),
      notes: img.notes,
    };
  });
  let storedBytes = 0;
  for (const id of users.keys()) storedBytes += sizeOf.get(id) ?? 0;
  summaries.sort((a, b) => a.storedAt - b.storedAt || a.id.localeCompare(b.id));
  return { images: summaries, logicalBytes, storedBytes, savedBytes: logicalBytes - storedBytes };
}

/** Finds an image by `name:tag` (a bare name means `:latest`), full digest, or unique id prefix. */
export function findImage(images: readonly ImageRecord[], ref: string): ImageRecord | undefined {
  const r = ref.trim();
  const withTag = /:[^/]+$/.test(r) || r.includes("@") ? r : `${r}:latest`;
  const byName = images.find((i) => i.names.includes(r) || i.names.includes(withTag));
  if (byName) return byName;
  const hex = r.replace(/^sha256:/, "");
  if (/^[0-9a-f]{6,64}$/.test(hex)) {
    const hits = images.filter((i) => i.id.slice(7).startsWith(hex));
    if (hits.length === 1) return hits[0];
  }
  return undefined;
}

/**
 * Every blob an image needs: config, manifest, the archive JSON it came with, and each layer's
 * tar, original blob and index.
 */
function blobsOf(img: ImageRecord, layers: Map<string, LayerRecord>): Digest[] {
  const out: Digest[] = [img.config];
  if (img.manifest) out.push(img.manifest);
  for (const j of img.archiveJson ?? []) out.push(j.digest);
  for (const id of img.layers) {
    const l = layers.get(id);
    out.push(id);
    if (l) {
      out.push(l.blob);
      if (l.index) out.push(l.index);
    }
  }
  return out;
}

/**
 * Deletes an image, then every layer record and blob that no remaining image or container uses.
 * Metadata goes first in one batch, so a failure part-way leaves only unreferenced blobs behind.
 */
export async function deleteImage(
  store: Store,
  id: Digest,
): Promise<{ removedBlobs: number; freedBytes: number }> {
  const images = await store.meta.list("images");
  const target = images.find((i) => i.id === id);
  if (!target) throw new LayerLabError("NOT_FOUND", `no image ${id} in the store`);
  const containers = (await store.meta.list("containers")).filter((c) => c.image === id);
  const busy = containers.filter((c) => c.changes);
  if (busy.length > 0) {
    throw new LayerLabError(
      "STORE",
      `image ${target.names[0] ?? id} is used by container ${busy.map((c) => c.name).join(", ")}, which has changes: commit or reset it first`,
    );
  }
  const layerRecs = new Map((await store.meta.list("layers")).map((l) => [l.id, l]));
  const remaining = images.filter((i) => i.id !== id);
  const keep = new Set<string>();
  for (const img of remaining) for (const d of blobsOf(img, layerRecs)) keep.add(d);
  for (const c of await store.meta.list("containers")) if (c.changes && c.image !== id) keep.add(c.changes);
  const stillUsedLayers = new Set(remaining.flatMap((i) => i.layers));
  const dropLayers = target.layers.filter((l) => !stillUsedLayers.has(l));
  // The gzip a dropped layer was compressed to for a push goes with it; the image's transfers too.
  const compressedKeys = dropLayers.map((l) => `${REGISTRY_KV.compressed}${l}`);
  const compressed = (await Promise.all(compressedKeys.map((k) => store.meta.get("kv", k)))).flatMap((r) => {
    const digest = (r?.value as { digest?: unknown } | undefined)?.digest;
    return r && typeof digest === "string" ? [{ key: r.id, digest: digest as Digest }] : [];
  });
  // Containers with no changes go with their image.
  await store.meta.apply({
    delete: {
      images: [id],
      layers: dropLayers,
      containers: containers.map((c) => c.id),
      kv: [...compressed.map((c) => c.key), `${REGISTRY_KV.transfers}${id}`],
    },
  });
  let removedBlobs = 0;
  let freedBytes = 0;
  for (const d of new Set([...blobsOf(target, layerRecs), ...compressed.map((c) => c.digest)])) {
    if (keep.has(d)) continue;
    const size = await store.blobs.size(d);
    if (await store.blobs.delete(d)) {
      removedBlobs++;
      freedBytes += size ?? 0;
    }
  }
  return { removedBlobs, freedBytes };
}

/** Two images side by side: their layers position by position, and what they have in common. */
export interface ImageComparison {
  rows: { a?: ImageSummary["layers"][number]; b?: ImageSummary["layers"][number]; shared: boolean }[];
  /** Bytes of the layers both images use (stored once). */
  sharedBytes: number;
  /** Bytes only one of them has: what moving the other image over would have to transfer. */
  onlyA: number;
  onlyB: number;
}

/** Compares two images' layer stacks (a layer is shared when both images list its diffId). */
export function compareImages(a: ImageSummary, b: ImageSummary): ImageComparison {
  const inA = new Set<string>(a.layers.map((l) => l.id));
  const inB = new Set<string>(b.layers.map((l) => l.id));
  const rows: ImageComparison["rows"] = [];
  for (let i = 0; i < Math.max(a.layers.length, b.layers.length); i++) {
    const la = a.layers[i];
    const lb = b.layers[i];
    rows.push({ a: la, b: lb, shared: la !== undefined && lb !== undefined && la.id === lb.id });
  }
  const sum = (ls: ImageSummary["layers"], keep: (id: string) => boolean) =>
    ls.filter((l) => keep(l.id)).reduce((n, l) => n + l.size, 0);
  return {
    rows,
    sharedBytes: sum(a.layers, (id) => inB.has(id)),
    onlyA: sum(a.layers, (id) => !inB.has(id)),
    onlyB: sum(b.layers, (id) => !inA.has(id)),
  };
}

/** What the stored bytes are used by: each image's own blobs, and blobs images share, counted once. */
export interface StorageAccount {
  images: { id: Digest; name: string; bytes: number }[];
  /** Bytes of blobs that several images use (each counted once, not in any image's own bytes). */
  sharedBytes: number;
  /** Bytes of blobs no image uses (containers' changes, the build cache's contents, leftovers). */
  otherBytes: number;
  totalBytes: number;
}

/**
 * Accounts the stored blobs to the images that use them: a blob one image uses is that image's,
 * one several images use is counted once as shared, and the rest is other. Largest image first.
 */
export function accountStorage(
  images: readonly ImageRecord[],
  layers: readonly LayerRecord[],
  blobs: readonly { digest: Digest; size: number }[],
): StorageAccount {
  const layerRecs = new Map(layers.map((l) => [l.id, l]));
  const users = new Map<Digest, Set<Digest>>();
  for (const img of images) {
    for (const d of blobsOf(img, layerRecs)) {
      const set = users.get(d) ?? new Set<Digest>();
      set.add(img.id);
      users.set(d, set);
    }
  }
  const own = new Map<Digest, number>(images.map((i) => [i.id, 0]));
  let sharedBytes = 0;
  let otherBytes = 0;
  let totalBytes = 0;
  for (const b of blobs) {
    totalBytes += b.size;
    const u = users.get(b.digest);
    if (!u || u.size === 0) otherBytes += b.size;
    else if (u.size > 1) sharedBytes += b.size;
    else {
      const id = u.values().next().value as Digest;
      own.set(id, (own.get(id) ?? 0) + b.size);
    }
  }
  const rows = images
    .map((i) => ({ id: i.id, name: i.names[0] ?? i.id.slice(7, 19), bytes: own.get(i.id) ?? 0 }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  return { images: rows, sharedBytes, otherBytes, totalBytes };
}
