import { gzip, sniffCompression } from "../archive/compression.ts";
import { createSha256, type Digest } from "../digest.ts";
import { ArchiveError, LayerLabError, throwIfAborted } from "../errors.ts";
import { decodedLayerTar, hasCompressedBlob } from "../store/derived.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { changesetTar, storeContentReader } from "./changeset-tar.ts";
import { decodeLayerIndex } from "./layer-index.ts";
import { type ArchiveImage, type BlobSource, writeDockerArchive, writeOciArchive } from "./layout-writer.ts";
import { type ImageManifest, MediaType } from "./oci.ts";

/** Archive formats LayerLab writes. */
export type ExportFormat = "docker" | "oci";

/** Options of exportImage. */
export interface ExportOptions {
  format: ExportFormat;
  /** name:tag to write; default the image's names. */
  names?: string[];
  signal?: AbortSignal;
  /** Bytes of layer data written so far. */
  onProgress?: (p: { bytesWritten: number }) => void;
}

function storedBlob(store: Store, digest: Digest, size: number, signal?: AbortSignal): BlobSource {
  return {
    digest,
    size,
    async *open() {
      for await (const c of store.blobs.stream(digest)) {
        throwIfAborted(signal, "export");
        yield c;
      }
    },
  };
}

async function requireBlob(store: Store, digest: Digest, what: string): Promise<Uint8Array> {
  const bytes = await store.blobs.get(digest);
  if (!bytes) throw new LayerLabError("NOT_FOUND", `${what} ${digest} is not in the store`);
  return bytes;
}

/** A deterministic gzip of a layer tar, measured first (digest and size) and streamed later. */
async function gzipBlob(tar: BlobSource, signal?: AbortSignal): Promise<BlobSource> {
  const h = await createSha256();
  let size = 0;
  for await (const c of gzip(tar.open())) {
    throwIfAborted(signal, "export");
    h.update(c);
    size += c.byteLength;
  }
  return { digest: h.finish(), size, open: () => gzip(tar.open()) };
}

/**
 * A layer's uncompressed tar: the stored blob, or for a synthesized layer the tar written again
 * from its index (the same bytes its diffId was taken of).
 */
async function layerTar(store: Store, rec: LayerRecord, signal?: AbortSignal): Promise<BlobSource> {
  if (rec.synthesized) {
    if (!rec.index)
      throw new LayerLabError("NOT_FOUND", `layer ${rec.id} has no index to write its tar from`);
    const index = decodeLayerIndex(await requireBlob(store, rec.index, "layer index"), rec.id);
    const read = storeContentReader(store);
    const epoch = rec.synthesized.epoch;
    return {
      digest: rec.id,
      size: rec.size,
      async *open() {
        for await (const c of changesetTar(index, read, epoch)) {
          throwIfAborted(signal, "export");
          yield c;
        }
      },
    };
  }
  const tarSize = await store.blobs.size(rec.id);
  if (tarSize !== undefined) return storedBlob(store, rec.id, tarSize, signal);
  // A compressed layer as it came: its tar is decoded from the blob while it is written out.
  if (!(await hasCompressedBlob(store.blobs, rec))) {
    throw new LayerLabError("NOT_FOUND", `layer tar ${rec.id} is not in the store`);
  }
  return {
    digest: rec.id,
    size: rec.size,
    async *open() {
      const tar = await decodedLayerTar(store.blobs, rec);
      if (!tar) throw new LayerLabError("NOT_FOUND", `layer tar ${rec.id} is not in the store`);
      for await (const c of tar) {
        throwIfAborted(signal, "export");
        yield c;
      }
    },
  };
}

/**
 * Gathers a stored image for writing: its config bytes as stored (so its ID is kept) and its
 * layers. Docker archives carry the uncompressed layer tars (as `docker save` writes them); OCI
 * archives carry gzip layers: the stored blob when it came gzipped (so its digest is kept), else
 * a deterministic gzip of the tar.
 */
export async function prepareImage(
  store: Store,
  image: ImageRecord,
  format: ExportFormat,
  options: { names?: string[]; signal?: AbortSignal } = {},
): Promise<ArchiveImage> {
  const config = await requireBlob(store, image.config, "config");
  const manifestBytes = image.manifest ? await store.blobs.get(image.manifest) : undefined;
  const manifest = manifestBytes
    ? (JSON.parse(new TextDecoder().decode(manifestBytes)) as ImageManifest)
    : undefined;
  const layers: ArchiveImage["layers"] = [];
  let keptAll = true;
  for (let i = 0; i < image.layers.length; i++) {
    throwIfAborted(options.signal, "export");
    const diffId = image.layers[i]!;
    const rec = await store.meta.get("layers", diffId);
    if (!rec) throw new LayerLabError("NOT_FOUND", `layer ${diffId} is not in the store`);
    const tar = await layerTar(store, rec, options.signal);
    if (format === "docker") {
      layers.push({ ...tar, mediaType: MediaType.ociLayer });
      keptAll &&= manifest?.layers[i]?.digest === diffId;
      continue;
    }
    // The blob this image's manifest names, if it is a stored gzip blob: keep it byte for byte.
    const named = manifest?.layers[i];
    const candidate = named?.digest ?? rec.blob;
    const size = await store.blobs.size(candidate);
    const head = size ? await store.blobs.read(candidate, 0, 4) : undefined;
    if (size !== undefined && head && sniffCompression(head) === "gzip") {
      layers.push({
        ...storedBlob(store, candidate, size, options.signal),
        mediaType: MediaType.ociLayerGzip,
      });
      keptAll &&= named?.digest === candidate && named.mediaType === MediaType.ociLayerGzip;
    } else {
      layers.push({ ...(await gzipBlob(tar, options.signal)), mediaType: MediaType.ociLayerGzip });
      keptAll = false;
    }
  }
  const keepManifest =
    format === "oci" &&
    keptAll &&
    manifestBytes !== undefined &&
    manifest?.mediaType === MediaType.ociManifest;
  if (layers.length === 0 && image.layers.length > 0) throw new ArchiveError("image has no layers to write");
  return {
    names: options.names ?? image.names,
    config,
    layers,
    ...(keepManifest ? { manifest: manifestBytes } : {}),
  };
}

/**
 * Writes a stored image as a docker-archive (Docker 25+ layout, loadable by `docker load` and
 * skopeo) or an OCI layout archive (gzip layers, readable by umoci and skopeo). The same image
 * gives the same bytes.
 */
export async function* exportImage(
  store: Store,
  imageId: Digest,
  options: ExportOptions,
): AsyncGenerator<Uint8Array> {
  const image = await store.meta.get("images", imageId);
  if (!image) throw new LayerLabError("NOT_FOUND", `image ${imageId} is not in the store`);
  const prepared = await prepareImage(store, image, options.format, options);
  const writer = options.format === "docker" ? writeDockerArchive : writeOciArchive;
  let bytesWritten = 0;
  for await (const c of writer([prepared])) {
    throwIfAborted(options.signal, "export");
    bytesWritten += c.byteLength;
    options.onProgress?.({ bytesWritten });
    yield c;
  }
}
