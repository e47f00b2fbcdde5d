/**
 * Image archive import: docker-archive (legacy and Docker 25+), OCI image layout archives and
 * containerd exports, read once as a stream (or, from a File/Blob, entry by entry by offset).
 *
 * Pass 1 (scan, archive-scan.ts): every archive entry streams past once; small JSON entries are
 * held, layers go through the layer ingest (ingest-layer.ts) into the store as they pass, so
 * memory stays bounded whatever the archive size.
 * Pass 2 (resolve, here): the manifests are read and a platform chosen (select-manifest.ts), every
 * digest, diffId and size is checked, records are written in one atomic metadata batch, and blobs
 * the import added that nothing references (other platforms, VERSION files) are removed. On any
 * error or cancellation, every blob the import added is removed (blobs that were there before are
 * kept).
 *
 * The callers' names of the ingest (ingestArchiveEntry and its types, for the workers) are
 * re-exported here.
 */
import { asyncIterable } from "../archive/bytes.ts";
import type { Compression } from "../archive/compression.ts";
import type { RandomAccess } from "../archive/tar-reader.ts";
import type { Digest } from "../digest.ts";
import { ArchiveError, CancelledError, DigestMismatchError, throwIfAborted } from "../errors.ts";
import type { ArchiveJsonRef, ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { ArchiveScan, isRandomAccess, type ScanOptions } from "./archive-scan.ts";
import type { LayerWarning } from "./layer-index.ts";
import { type Descriptor, formatPlatform, type ImageConfig, type ImageManifest, MediaType } from "./oci.ts";
import { findImages } from "./select-manifest.ts";

export {
  type BlobPieces,
  type EntryJob,
  type ImportLimits,
  type ImportProgress,
  type IngestedEntry,
  ingestArchiveEntry,
  type PieceRequest,
  setReadBufferReuse,
  WHOLE_DIGEST_BUDGET_BYTES,
  WHOLE_DIGEST_MAX_BYTES,
} from "./ingest-layer.ts";

/** The most bytes of an archive's index.json or manifest.json kept with its images (as a manifest). */
export const MAX_ARCHIVE_JSON_BYTES = 4 * 2 ** 20;

/** Options of importArchive. */
export interface ImportOptions extends ScanOptions {
  /** Preferred platform of multi-platform images ("linux/arm64"); default linux/amd64, then the first present. */
  platform?: string;
}

/** One image an import stored. */
export interface ImportedImage {
  record: ImageRecord;
  /** The layers, bottom first, as stored (existing records are reused). */
  layers: LayerRecord[];
  /** Per-layer warnings of contained problems (duplicate entries, aufs metadata). */
  warnings: LayerWarning[];
}

/** What an import did. */
export interface ImportResult {
  images: ImportedImage[];
  /** Blobs the import added, and their bytes. */
  blobsAdded: number;
  bytesAdded: number;
  /** Bytes that were already stored (shared layers stored once). */
  bytesShared: number;
  /** Archive bytes read. */
  bytesRead: number;
}

function mediaTypeFor(c: Compression): string {
  return c === "gzip" ? MediaType.ociLayerGzip : c === "zstd" ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

/**
 * Imports every image of a docker-archive (legacy or Docker 25+), OCI layout archive or
 * containerd export into the store, reading the archive once as a stream. Layers are stored as
 * they came plus their uncompressed tar (named by diffId) and an entry index; every digest and
 * diffId is verified. All or nothing: on any error or cancellation the metadata is untouched and
 * every blob the import added is removed again.
 */
export async function importArchive(
  store: Store,
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | RandomAccess,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const imp = new ArchiveScan(store, options);
  try {
    if (isRandomAccess(source)) await imp.scanFile(source, Math.max(1, options.concurrency ?? 2));
    else await imp.scan(asyncIterable(source));
    throwIfAborted(options.signal, "import");
    const found = findImages(imp, options.platform);
    if (found.length === 0) throw new ArchiveError("the archive holds no image", { entry: "index.json" });
    const referenced = new Set<Digest>();
    // The archive's own index.json and manifest.json, kept byte for byte for the Raw view.
    const archiveJson: ArchiveJsonRef[] = [];
    for (const path of ["index.json", "manifest.json"] as const) {
      const e = imp.byPath.get(path);
      if (e?.kind !== "json" || e.bytes.byteLength > MAX_ARCHIVE_JSON_BYTES) continue;
      const res = imp.note(await store.blobs.put(e.bytes, { expected: e.digest, signal: options.signal }));
      archiveJson.push({ path, digest: res.digest });
    }
    const layerPuts = new Map<Digest, LayerRecord>();
    const imagePuts = new Map<Digest, ImageRecord>();
    const images: ImportedImage[] = [];
    for (const f of found) {
      throwIfAborted(options.signal, "import");
      const cfgEntry = imp.held(f.configEntry, f.manifest.from);
      const config = imp.json<ImageConfig>(cfgEntry, f.manifest.from);
      if (f.manifest.json && f.manifest.json.config.size !== cfgEntry.bytes.byteLength) {
        throw new ArchiveError(
          `config ${cfgEntry.digest} is ${cfgEntry.bytes.byteLength} bytes but the manifest says ${f.manifest.json.config.size}`,
          { entry: f.manifest.from },
        );
      }
      const diffIds = config?.rootfs?.diff_ids;
      if (!Array.isArray(diffIds))
        throw new ArchiveError("config has no rootfs.diff_ids", { entry: cfgEntry.path });
      if (diffIds.length !== f.layerEntries.length) {
        throw new ArchiveError(
          `config lists ${diffIds.length} layers but the manifest names ${f.layerEntries.length}`,
          { entry: cfgEntry.path },
        );
      }
      const layers: LayerRecord[] = [];
      const warnings: LayerWarning[] = [];
      const descriptors: Descriptor[] = [];
      for (let i = 0; i < f.layerEntries.length; i++) {
        const cand = await imp.layer(f.layerEntries[i]!, f.manifest.from);
        const desc = f.manifest.json?.layers[i];
        if (desc && desc.size !== cand.blobSize) {
          throw new ArchiveError(
            `layer ${desc.digest} is ${cand.blobSize} bytes but the manifest says ${desc.size}`,
            { entry: f.manifest.from },
          );
        }
        // A blobsOnly import never decompressed the layer: it takes the config's word for the diffId.
        if (cand.diffId !== undefined && cand.diffId !== diffIds[i]) {
          throw new DigestMismatchError(diffIds[i]!, cand.diffId, `layer ${i + 1} (${cand.path}) diffId`);
        }
        const diffId = cand.diffId ?? (diffIds[i] as Digest);
        const mediaType = desc?.mediaType ?? mediaTypeFor(cand.compression);
        descriptors.push({ mediaType, digest: cand.digest, size: cand.blobSize });
        warnings.push(...cand.warnings.map((w) => ({ ...w, entry: `${cand.path}: ${w.entry}` })));
        const existing = layerPuts.get(diffId) ?? (await store.meta.get("layers", diffId));
        const rec: LayerRecord = existing ?? {
          id: diffId,
          blob: cand.digest,
          mediaType,
          blobSize: cand.blobSize,
          // Unknown (0) when the layer was never decompressed (blobsOnly).
          size: cand.size ?? 0,
          ...(cand.index ? { index: cand.index } : {}),
        };
        if (!existing) layerPuts.set(rec.id, rec);
        // A layer stored before keeps its own blob and index; this import's copies go unless they
        // are the same (so nothing stays that no record names, and deleting frees everything).
        referenced.add(rec.blob);
        if (rec.index) referenced.add(rec.index);
        layers.push(rec);
      }
      const configRes = imp.note(await store.blobs.put(cfgEntry.bytes, { expected: cfgEntry.digest }));
      referenced.add(configRes.digest);
      let manifestBytes: Uint8Array;
      if (f.manifest.digest) {
        manifestBytes = imp.held(imp.blob(f.manifest.digest, "index.json"), "index.json").bytes;
      } else {
        // A legacy docker save has no manifest: describe it as the OCI manifest it would have.
        const synth: ImageManifest = {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, digest: configRes.digest, size: configRes.size },
          layers: descriptors,
        };
        manifestBytes = new TextEncoder().encode(JSON.stringify(synth));
      }
      const manRes = imp.note(await store.blobs.put(manifestBytes, { signal: options.signal }));
      const prior = imagePuts.get(configRes.digest) ?? (await store.meta.get("images", configRes.digest));
      // An image stored before keeps its manifest; a new name is all a second import adds.
      referenced.add(prior?.manifest ?? manRes.digest);
      const kept = prior?.archiveJson ?? archiveJson;
      for (const j of kept) referenced.add(j.digest);
      const record: ImageRecord = {
        id: configRes.digest,
        names: [...new Set([...(prior?.names ?? []), ...f.names])],
        source: prior?.source ?? "import",
        layers: layers.map((l) => l.id),
        config: configRes.digest,
        manifest: prior?.manifest ?? manRes.digest,
        ...(kept.length > 0 ? { archiveJson: kept } : {}),
        platform: f.platform ?? formatPlatform(config),
        storedAt: prior?.storedAt ?? Date.now(),
      };
      if (prior?.notes) record.notes = prior.notes;
      imagePuts.set(record.id, record);
      images.push({ record, layers, warnings });
    }
    throwIfAborted(options.signal, "import");
    await store.meta.apply({ put: { layers: [...layerPuts.values()], images: [...imagePuts.values()] } });
    let bytesAdded = 0;
    let blobsAdded = 0;
    for (const [digest, size] of imp.added) {
      if (referenced.has(digest)) {
        bytesAdded += size;
        blobsAdded++;
      } else await store.blobs.delete(digest);
    }
    return { images, blobsAdded, bytesAdded, bytesShared: imp.bytesShared, bytesRead: imp.bytesRead };
  } catch (err) {
    for (const digest of imp.added.keys()) await store.blobs.delete(digest).catch(() => false);
    if (options.signal?.aborted && !(err instanceof CancelledError)) throw new CancelledError("import");
    throw err;
  }
}
