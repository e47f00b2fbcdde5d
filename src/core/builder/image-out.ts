/**
 * Layer tars and images out of a build: a changeset becomes a deterministic tar (entries sorted,
 * times pinned, whiteouts as `.wh.` files), its sha256 the diffId; the image goes into the Store
 * as the importer stores images, so every view and the exporter read built and imported alike.
 */
import { TarParser } from "../archive/tar-reader.ts";
import { createSha256, type Digest, sha256 } from "../digest.ts";
import type { Changeset, FileEntry } from "../fs/types.ts";
import { changesetTar, hasSynthesizedContent, measureChangesetTar } from "../image/changeset-tar.ts";
import { encodeLayerIndex, LayerIndexer } from "../image/layer-index.ts";
import { type ImageManifest, MediaType } from "../image/oci.ts";
import { concatBytes } from "../store/chunks.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import type { ContentReader } from "./layer-fs.ts";
import type { BuildImageConfig } from "./types.ts";

/** A layer tar in memory with its digest. */
export interface LayerTar {
  diffId: Digest;
  bytes: Uint8Array;
}

/** Writes a changeset as a layer tar in memory: whiteouts and entries in path order, times as given. */
export async function writeLayerTar(cs: Changeset, read: ContentReader, epoch: number): Promise<LayerTar> {
  const parts: Uint8Array[] = [];
  const h = await createSha256();
  for await (const chunk of changesetTar(cs, read, epoch)) {
    h.update(chunk);
    parts.push(chunk);
  }
  return { diffId: h.finish(), bytes: concatBytes(parts) };
}

/** Inline contents larger than this are kept as blobs of their own, not inside an index. */
const INLINE_IN_INDEX = 64 * 1024;

/**
 * Puts a changeset in the store as a layer. A layer with synthesized contents keeps only its
 * index (the tar is measured for its diffId as it streams past, and written again on export),
 * so the teaching bases and simulated package installs cost no storage; any other layer is stored
 * as its tar.
 */
export async function storeChangesetLayer(
  store: Store,
  cs: Changeset,
  read: ContentReader,
  epoch: number,
): Promise<LayerRecord> {
  if (!hasSynthesizedContent(cs)) return storeLayer(store, await writeLayerTar(cs, read, epoch));
  const { diffId, size } = await measureChangesetTar(cs, read, epoch);
  const existing = await store.meta.get("layers", diffId);
  if (existing && (existing.synthesized || (await store.blobs.has(existing.blob)))) return existing;
  const entries: FileEntry[] = [];
  for (const e of cs.entries) {
    let content = e.content;
    if (e.type === "file" && content?.kind === "inline" && content.bytes.byteLength > INLINE_IN_INDEX) {
      content = { kind: "blob", blob: (await store.blobs.put(content.bytes)).digest };
    }
    const entry: FileEntry = { ...e, mtime: epoch };
    if (content) entry.content = content;
    entries.push(entry);
  }
  const index = await store.blobs.put(encodeLayerIndex({ entries, whiteouts: cs.whiteouts, warnings: [] }));
  const rec: LayerRecord = {
    id: diffId,
    blob: diffId,
    mediaType: MediaType.ociLayer,
    blobSize: size,
    size,
    index: index.digest,
    synthesized: { epoch },
  };
  await store.meta.put("layers", rec);
  return rec;
}

/** The chainIds of a layer stack, as the OCI config spec defines them. */
export async function chainIds(diffIds: readonly Digest[]): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : await sha256(`${prev} ${d}`));
  }
  return out;
}

/** Puts a layer tar (and its entry index) in the store, unless a layer with that diffId is there. */
export async function storeLayer(store: Store, tar: LayerTar): Promise<LayerRecord> {
  const existing = await store.meta.get("layers", tar.diffId);
  if (existing && (await store.blobs.has(existing.blob))) return existing;
  await store.blobs.put(tar.bytes, { expected: tar.diffId });
  const indexer = await LayerIndexer.create();
  const parser = new TarParser(indexer);
  parser.push(tar.bytes);
  parser.end();
  const index = await indexer.finish(tar.diffId);
  const indexRes = await store.blobs.put(encodeLayerIndex(index));
  const rec: LayerRecord = {
    id: tar.diffId,
    blob: tar.diffId,
    mediaType: MediaType.ociLayer,
    blobSize: tar.bytes.byteLength,
    size: tar.bytes.byteLength,
    index: indexRes.digest,
  };
  await store.meta.put("layers", rec);
  return rec;
}

/** Stores a built image (config, manifest, record) and moves its tags to it. */
export async function storeImage(
  store: Store,
  config: BuildImageConfig,
  layers: LayerRecord[],
  tags: string[],
  notes: Record<string, string>,
): Promise<{ record: ImageRecord; manifest: Digest }> {
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const cfg = await store.blobs.put(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.blob, size: l.blobSize })),
  };
  const man = await store.blobs.put(new TextEncoder().encode(JSON.stringify(manifest)));
  const prior = await store.meta.get("images", cfg.digest);
  const record: ImageRecord = {
    id: cfg.digest,
    names: [...new Set([...(prior?.names ?? []), ...tags])],
    source: prior?.source ?? "build",
    layers: layers.map((l) => l.id),
    config: cfg.digest,
    manifest: man.digest,
    platform: `${config.os}/${config.architecture}`,
    storedAt: prior?.storedAt ?? Date.now(),
    notes: { ...(prior?.notes ?? {}), ...notes },
  };
  // A tag names one image: moving it here takes it off any other.
  const others: ImageRecord[] = [];
  if (tags.length > 0) {
    for (const im of await store.meta.list("images")) {
      if (im.id === record.id) continue;
      const kept = im.names.filter((n) => !tags.includes(n));
      if (kept.length !== im.names.length) others.push({ ...im, names: kept });
    }
  }
  await store.meta.apply({ put: { images: [record, ...others] } });
  return { record, manifest: man.digest };
}
