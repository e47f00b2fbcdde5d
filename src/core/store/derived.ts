import { decompress, peek, SNIFF_BYTES, sniffCompression } from "../archive/compression.ts";
import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import type { BlobStore, LayerRecord, Store } from "./types.ts";

/** Whether a layer's tar can be decoded from a stored blob of its own (without reading it). */
export async function hasCompressedBlob(blobs: Pick<BlobStore, "has">, rec: LayerRecord): Promise<boolean> {
  return !rec.synthesized && rec.blob !== rec.id && (await blobs.has(rec.blob));
}

/**
 * The uncompressed tar of a layer that came compressed, as a stream decoded from the stored
 * compressed blob; undefined when the layer has no such blob (its tar is stored, or synthesized).
 */
export async function decodedLayerTar(
  blobs: Pick<BlobStore, "has" | "stream">,
  rec: LayerRecord,
): Promise<AsyncIterable<Uint8Array> | undefined> {
  if (!(await hasCompressedBlob(blobs, rec))) return undefined;
  const { head, stream } = await peek(blobs.stream(rec.blob), SNIFF_BYTES);
  const kind = sniffCompression(head);
  if (kind === "none") return undefined;
  // The layer was read whole when it was imported, so its size bounds the output (but not below
  // the largest zstd window, which a small layer may well declare); the digest is checked after.
  return decompress(stream, kind, { limit: Math.max(rec.size, 2 ** 28), entry: `layer ${rec.id}` });
}

/**
 * A store whose layer tars may be derived: an imported compressed layer keeps only its blob as it
 * came (and its entry index), and the tar its entries point into is decoded, verified against the
 * diffId and stored the first time something reads it. Everything else passes through unchanged.
 */
export function withDerivedTars<S extends Store>(store: S): S {
  const raw = store.blobs;
  const deriving = new Map<Digest, Promise<boolean>>();
  const derive = (digest: Digest): Promise<boolean> => {
    let p = deriving.get(digest);
    if (!p) {
      p = (async () => {
        const rec = await store.meta.get("layers", digest);
        const tar = rec && (await decodedLayerTar(raw, rec));
        if (!tar) return false;
        await raw.putStream(tar, { expected: digest });
        return true;
      })().finally(() => deriving.delete(digest));
      deriving.set(digest, p);
    }
    return p;
  };
  const notFound = (err: unknown) => err instanceof LayerLabError && err.code === "NOT_FOUND";
  const blobs = Object.create(raw) as typeof raw;
  blobs.get = async (digest) =>
    (await raw.get(digest)) ?? ((await derive(digest)) ? raw.get(digest) : undefined);
  blobs.read = async (digest, offset, length) => {
    try {
      return await raw.read(digest, offset, length);
    } catch (err) {
      if (notFound(err) && (await derive(digest))) return raw.read(digest, offset, length);
      throw err;
    }
  };
  blobs.stream = (digest) =>
    (async function* () {
      if (!(await raw.has(digest))) await derive(digest);
      yield* raw.stream(digest);
    })();
  return { ...store, blobs };
}
