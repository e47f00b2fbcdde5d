import { asyncIterable } from "../archive/bytes.ts";
import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { concatBytes, once } from "./chunks.ts";
import { withDerivedTars } from "./derived.ts";
import { asStorageFull } from "./faults.ts";
import { ingest } from "./ingest.ts";
import {
  type BlobInfo,
  type BlobStore,
  COLLECTIONS,
  type CollectionName,
  type MetaBatch,
  type MetaCollections,
  type MetaStore,
  type PutOptions,
  type PutResult,
  type Store,
} from "./types.ts";

/** The data behind a memory store; keep it and open again to model a reopen. */
export interface MemoryBackend {
  blobs: Map<Digest, Uint8Array>;
  meta: Map<CollectionName, Map<string, unknown>>;
}

/** A fresh, empty memory backend. */
export function createMemoryBackend(): MemoryBackend {
  return { blobs: new Map(), meta: new Map(COLLECTIONS.map((c) => [c, new Map()])) };
}

/** Options of a memory store. */
export interface MemoryStoreOptions {
  /**
   * Blob bytes the store may hold: a put that would pass it fails as a browser's does when its
   * quota is reached (for tests of what every write path does then).
   */
  quotaBytes?: number;
}

class MemoryBlobStore implements BlobStore {
  constructor(
    private readonly data: Map<Digest, Uint8Array>,
    private readonly options: MemoryStoreOptions = {},
  ) {}

  async has(digest: Digest) {
    return this.data.has(digest);
  }
  async get(digest: Digest) {
    return this.data.get(digest);
  }
  async read(digest: Digest, offset: number, length: number) {
    const bytes = this.require(digest);
    return bytes.slice(offset, Math.min(bytes.byteLength, offset + length));
  }
  async *stream(digest: Digest) {
    yield this.require(digest);
  }
  async size(digest: Digest) {
    return this.data.get(digest)?.byteLength;
  }
  put(bytes: Uint8Array, options?: PutOptions) {
    return this.putStream(once(bytes), options);
  }
  async putStream(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const parts: Uint8Array[] = [];
    const quota = this.options.quotaBytes;
    const used = quota === undefined ? 0 : (await this.stats()).bytes;
    let held = 0;
    const { digest, size } = await ingest(source, options, (chunk) => {
      if (quota !== undefined && used + held + chunk.byteLength > quota) {
        const refusal = new DOMException("The quota has been exceeded.", "QuotaExceededError");
        throw asStorageFull(refusal, { written: held, quota, usage: used });
      }
      held += chunk.byteLength;
      parts.push(chunk.slice());
    });
    if (this.data.has(digest)) return { digest, size, deduplicated: true };
    this.data.set(digest, concatBytes(parts, size));
    return { digest, size, deduplicated: false };
  }
  /** Memory cannot keep a Blob by reference: its bytes are read and checked against `digest`. */
  adopt(blob: Blob, digest: Digest, options?: Pick<PutOptions, "signal">): Promise<PutResult> {
    return this.putStream(asyncIterable(blob.stream() as ReadableStream<Uint8Array>), {
      ...options,
      expected: digest,
    });
  }
  async delete(digest: Digest) {
    return this.data.delete(digest);
  }
  async list(): Promise<BlobInfo[]> {
    return [...this.data].map(([digest, b]) => ({ digest, size: b.byteLength }));
  }
  async stats() {
    let bytes = 0;
    for (const b of this.data.values()) bytes += b.byteLength;
    return { count: this.data.size, bytes };
  }
  private require(digest: Digest): Uint8Array {
    const bytes = this.data.get(digest);
    if (!bytes) throw new LayerLabError("NOT_FOUND", `blob ${digest} is not in the store`);
    return bytes;
  }
}

class MemoryMetaStore implements MetaStore {
  constructor(private readonly data: Map<CollectionName, Map<string, unknown>>) {}

  private col(name: CollectionName): Map<string, unknown> {
    return this.data.get(name)!;
  }
  async get<K extends CollectionName>(collection: K, id: string) {
    const r = this.col(collection).get(id);
    return r === undefined ? undefined : (structuredClone(r) as MetaCollections[K]);
  }
  async list<K extends CollectionName>(collection: K) {
    return [...this.col(collection).values()].map((r) => structuredClone(r) as MetaCollections[K]);
  }
  async put<K extends CollectionName>(collection: K, record: MetaCollections[K]) {
    this.col(collection).set(record.id, structuredClone(record));
  }
  async delete(collection: CollectionName, id: string) {
    return this.col(collection).delete(id);
  }
  async apply(batch: MetaBatch) {
    // Clone everything first so a bad record fails before anything changes.
    const puts = Object.entries(batch.put ?? {}).map(
      ([c, rs]) => [c as CollectionName, (rs ?? []).map((r) => structuredClone(r))] as const,
    );
    for (const [c, ids] of Object.entries(batch.delete ?? {})) {
      for (const id of ids ?? []) this.col(c as CollectionName).delete(id);
    }
    for (const [c, rs] of puts) for (const r of rs) this.col(c).set(r.id, r);
  }
}

/** A store held in memory; pass the same backend to reopen it. */
export function openMemoryStore(
  backend: MemoryBackend = createMemoryBackend(),
  options: MemoryStoreOptions = {},
): Store {
  return withDerivedTars({
    kind: "memory",
    blobs: new MemoryBlobStore(backend.blobs, options),
    meta: new MemoryMetaStore(backend.meta),
    async clear() {
      backend.blobs.clear();
      for (const m of backend.meta.values()) m.clear();
    },
    close() {},
  });
}
