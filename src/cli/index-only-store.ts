import { asyncIterable } from "../core/archive/bytes.ts";
import type { Digest } from "../core/digest.ts";
import { LayerLabError } from "../core/errors.ts";
import { ingest } from "../core/store/ingest.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { BlobStore, PutOptions, PutResult, Store } from "../core/store/types.ts";

/**
 * A memory store for commands that only read an archive's metadata (`inspect`): blobs written
 * whole (configs, manifests, layer entry indexes) are kept; blobs streamed in (layer contents)
 * are hashed, checked and counted, but their bytes are not kept. Keeping them is what made
 * `inspect` hold the whole uncompressed image in memory (a 145 MB example image peaked at
 * 477 MB RSS). Reading a blob that was not kept is a NOT_FOUND error that says why.
 */
export function openIndexOnlyStore(): Store {
  const base = openMemoryStore();
  const dropped = new Map<Digest, number>();
  const notKept = (digest: Digest): never => {
    throw new LayerLabError(
      "NOT_FOUND",
      `blob ${digest} was hashed but not kept: this command reads layer indexes, not layer contents`,
    );
  };
  const streamIn = async (source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> => {
    const { digest, size } = await ingest(source, options, () => {});
    const known = dropped.has(digest) || (await base.blobs.has(digest));
    if (!known) dropped.set(digest, size);
    return { digest, size, deduplicated: known };
  };
  const blobs: BlobStore = {
    has: async (d) => dropped.has(d) || base.blobs.has(d),
    size: async (d) => dropped.get(d) ?? base.blobs.size(d),
    async get(d) {
      if (dropped.has(d)) notKept(d);
      return base.blobs.get(d);
    },
    async read(d, offset, length) {
      if (dropped.has(d)) notKept(d);
      return base.blobs.read(d, offset, length);
    },
    stream(d) {
      if (dropped.has(d)) notKept(d);
      return base.blobs.stream(d);
    },
    put: (bytes, options) => base.blobs.put(bytes, options),
    putStream: streamIn,
    adopt: (blob, digest, options) =>
      streamIn(asyncIterable(blob.stream() as ReadableStream<Uint8Array>), { ...options, expected: digest }),
    async delete(d) {
      return dropped.delete(d) || base.blobs.delete(d);
    },
    async list() {
      return [...(await base.blobs.list()), ...[...dropped].map(([digest, size]) => ({ digest, size }))];
    },
    async stats() {
      const kept = await base.blobs.stats();
      let bytes = kept.bytes;
      for (const s of dropped.values()) bytes += s;
      return { count: kept.count + dropped.size, bytes };
    },
  };
  return { ...base, blobs };
}
