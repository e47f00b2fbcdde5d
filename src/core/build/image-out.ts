/**
 * Layer tars and images out of a build: a changeset becomes a deterministic tar (entries sorted,
 * times pinned, whiteouts as `.wh.` files), its sha256 the diffId; the image goes into the Store
 * as the importer stores images, so every view and the exporter read built and imported alike.
 */
import { TarParser } from "../archive/tar-reader.ts";
import { type TarWriteEntry, writeTar } from "../archive/tar-writer.ts";
import { createSha256, type Digest, sha256 } from "../digest.ts";
import type { Changeset } from "../fs/types.ts";
import { encodeLayerIndex, LayerIndexer } from "../image/layer-index.ts";
import { type ImageManifest, MediaType } from "../image/oci.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import type { ContentReader } from "./layer-fs.ts";
import type { BuildImageConfig } from "./types.ts";

/** A layer tar in memory with its digest. */
export interface LayerTar {
  diffId: Digest;
  bytes: Uint8Array;
}

/** Writes a changeset as a layer tar: whiteouts and entries in path order, times as given. */
export async function writeLayerTar(cs: Changeset, read: ContentReader, epoch: number): Promise<LayerTar> {
  type Item = { path: string; entry: () => Promise<TarWriteEntry> };
  const items: Item[] = [];
  for (const w of cs.whiteouts) {
    const slash = w.path.lastIndexOf("/");
    const dir = slash < 0 ? "" : `${w.path.slice(0, slash)}/`;
    const name = w.opaque ? `${w.path}/.wh..wh..opq` : `${dir}.wh.${w.path.slice(slash + 1)}`;
    items.push({
      path: name,
      entry: async () => ({ name, type: "file", mode: 0o644, mtime: epoch, body: new Uint8Array(0) }),
    });
  }
  for (const e of cs.entries) {
    items.push({
      path: e.path,
      entry: async () => {
        const t: TarWriteEntry = {
          name: e.type === "dir" ? `${e.path}/` : e.path,
          type: e.type,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: epoch,
        };
        if (e.linkname !== undefined) t.linkname = e.linkname;
        if (e.devmajor !== undefined) t.devmajor = e.devmajor;
        if (e.devminor !== undefined) t.devminor = e.devminor;
        if (e.xattrs) t.xattrs = e.xattrs;
        if (e.type === "file") {
          t.body = e.content ? await read(e.content, e.size) : new Uint8Array(0);
        }
        return t;
      },
    });
  }
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    for (const it of items) yield await it.entry();
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const h = await createSha256();
  for await (const chunk of writeTar(entries())) {
    h.update(chunk);
    parts.push(chunk);
    total += chunk.byteLength;
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { diffId: h.finish(), bytes };
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
  const index = indexer.finish(tar.diffId);
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
