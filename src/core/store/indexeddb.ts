import { type DBSchema, type IDBPDatabase, type IDBPTransaction, openDB } from "idb";
import type { Digest } from "../digest.ts";
import { LayerLabError, throwIfAborted } from "../errors.ts";
import { concatBytes, once, rechunk } from "./chunks.ts";
import { withDerivedTars } from "./derived.ts";
import { asStorageFull } from "./faults.ts";
import { digestHeld, ingest } from "./ingest.ts";
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

/** Blobs are kept as fixed-size chunks so big layers stream in and out and can be read by range. */
export const CHUNK_SIZE = 1 << 20;
/** Chunks written in one transaction, and transactions one put keeps in flight. */
const CHUNKS_PER_WRITE = 8;
const WRITES_IN_FLIGHT = 2;
/** An upload older than this with no blob record is an interrupted write: its chunks are removed. */
const STALE_UPLOAD_MS = 10 * 60 * 1000;

interface BlobRow {
  digest: Digest;
  size: number;
  /** The upload whose chunks hold the bytes. */
  upload: string;
  chunks: number;
  /** True when the one chunk is a Blob holding all the bytes (see `adopt`). */
  whole?: boolean;
}

/** A chunk: CHUNK_SIZE bytes of a streamed blob, or the whole of an adopted one. */
type ChunkValue = Uint8Array | Blob;

interface LayerLabDB extends DBSchema {
  blobs: { key: string; value: BlobRow };
  chunks: { key: [string, number]; value: ChunkValue };
  uploads: { key: string; value: { id: string; startedAt: number } };
  images: { key: string; value: MetaCollections["images"] };
  layers: { key: string; value: MetaCollections["layers"] };
  containers: { key: string; value: MetaCollections["containers"] };
  kv: { key: string; value: MetaCollections["kv"] };
}

type DB = IDBPDatabase<LayerLabDB>;

/** The schema version; each step of `upgrades` takes the database from version i to i+1. */
export const SCHEMA_VERSION = 1;
const upgrades: ((db: DB) => void)[] = [
  (db) => {
    db.createObjectStore("blobs", { keyPath: "digest" });
    db.createObjectStore("chunks");
    db.createObjectStore("uploads", { keyPath: "id" });
    for (const c of COLLECTIONS) db.createObjectStore(c, { keyPath: "id" });
  },
];

function chunkRange(upload: string): IDBKeyRange {
  return IDBKeyRange.bound([upload, 0], [upload, Number.MAX_SAFE_INTEGER]);
}

/** A standalone copy of a chunk, so IndexedDB never stores a larger buffer behind a view. */
function own(chunk: Uint8Array): Uint8Array {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
}

/**
 * Why a transaction failed: a request of an aborted transaction fails with AbortError while the
 * transaction's own error says why it aborted (QuotaExceededError when the quota refused it).
 * Also keeps the transaction's `done` from rejecting unheard.
 */
function refusal(tx: { error: DOMException | null; done: Promise<void> } | undefined, err: unknown): unknown {
  tx?.done.catch(() => {});
  return tx?.error ?? err;
}

let uploadSeq = 0;
function newUploadId(): string {
  uploadSeq += 1;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${uploadSeq}`;
}

class IdbBlobStore implements BlobStore {
  constructor(private readonly db: DB) {}

  async has(digest: Digest) {
    return (await this.db.getKey("blobs", digest)) !== undefined;
  }
  async get(digest: Digest) {
    const row = await this.db.get("blobs", digest);
    if (!row) return undefined;
    if (row.whole) return this.readWhole(row, 0, row.size);
    const parts = (await this.db.getAll("chunks", chunkRange(row.upload))) as Uint8Array[];
    return concatBytes(parts, row.size);
  }
  async read(digest: Digest, offset: number, length: number) {
    const row = await this.require(digest);
    const end = Math.min(row.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    if (row.whole) return this.readWhole(row, offset, end);
    const first = Math.floor(offset / CHUNK_SIZE);
    const last = Math.floor((end - 1) / CHUNK_SIZE);
    const range = IDBKeyRange.bound([row.upload, first], [row.upload, last]);
    const joined = concatBytes((await this.db.getAll("chunks", range)) as Uint8Array[]);
    const from = offset - first * CHUNK_SIZE;
    return joined.slice(from, from + (end - offset));
  }
  async *stream(digest: Digest) {
    const row = await this.require(digest);
    if (row.whole) {
      for (let at = 0; at < row.size; at += CHUNK_SIZE) {
        yield await this.readWhole(row, at, Math.min(row.size, at + CHUNK_SIZE));
      }
      return;
    }
    for (let i = 0; i < row.chunks; i++) {
      const chunk = (await this.db.get("chunks", [row.upload, i])) as Uint8Array | undefined;
      if (!chunk) throw new LayerLabError("STORE", `blob ${digest} is missing chunk ${i}`);
      yield chunk;
    }
  }
  async size(digest: Digest) {
    return (await this.db.get("blobs", digest))?.size;
  }
  async put(bytes: Uint8Array, options?: PutOptions): Promise<PutResult> {
    if (bytes.byteLength > CHUNK_SIZE) return this.putStream(once(bytes), options);
    // One chunk: hashed in one call and written in one transaction, so nothing is ever left
    // half-written and no upload needs recording.
    const digest = await digestHeld(bytes, options);
    let tx: IDBPTransaction<LayerLabDB, ("blobs" | "chunks")[], "readwrite"> | undefined;
    try {
      tx = this.db.transaction(["blobs", "chunks"], "readwrite");
      const existing = await tx.objectStore("blobs").get(digest);
      if (!existing) {
        const upload = newUploadId();
        const chunks = bytes.byteLength > 0 ? 1 : 0;
        if (chunks) await tx.objectStore("chunks").put(own(bytes), [upload, 0]);
        await tx.objectStore("blobs").put({ digest, size: bytes.byteLength, upload, chunks });
      }
      await tx.done;
      return { digest, size: bytes.byteLength, deduplicated: existing !== undefined };
    } catch (err) {
      // The one transaction failed whole: nothing of this blob is stored.
      throw asStorageFull(refusal(tx, err), { written: 0, needed: bytes.byteLength });
    }
  }
  async putStream(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const upload = newUploadId();
    await this.db.put("uploads", { id: upload, startedAt: Date.now() });
    let chunks = 0;
    // Chunks are written CHUNKS_PER_WRITE to a transaction, and the writes are pipelined: hashing
    // and decompressing the next chunks overlap IndexedDB committing the previous ones (a put
    // awaited chunk by chunk left the import idle about a third of the time). At most
    // WRITES_IN_FLIGHT transactions are pending, so memory stays bounded.
    const inFlight: Promise<unknown>[] = [];
    let batch: Uint8Array[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const tx = this.db.transaction("chunks", "readwrite");
      const first = chunks - batch.length;
      for (const [i, c] of batch.entries()) tx.store.put(c, [upload, first + i]).catch(() => {});
      batch = [];
      const write = tx.done;
      write.catch(() => {});
      inFlight.push(write);
    };
    try {
      const { digest, size } = await ingest(rechunk(source, CHUNK_SIZE), options, async (chunk) => {
        batch.push(own(chunk));
        chunks += 1;
        if (batch.length < CHUNKS_PER_WRITE) return;
        flush();
        if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
      });
      flush();
      await Promise.all(inFlight.splice(0));
      // One transaction makes the blob visible, or finds it already there and drops the copy.
      const tx = this.db.transaction(["blobs", "chunks", "uploads"], "readwrite");
      const existing = await tx.objectStore("blobs").get(digest);
      if (existing) await tx.objectStore("chunks").delete(chunkRange(upload));
      else await tx.objectStore("blobs").put({ digest, size, upload, chunks });
      await tx.objectStore("uploads").delete(upload);
      await tx.done;
      return { digest, size, deduplicated: existing !== undefined };
    } catch (err) {
      await Promise.allSettled(inFlight);
      // Left for the next open's collection if even this fails (a closed database).
      await this.discardUpload(upload).catch(() => {});
      throw asStorageFull(err, { written: chunks * CHUNK_SIZE });
    }
  }
  /**
   * Keeps the Blob itself as the blob's one chunk, in one transaction: IndexedDB copies a File's
   * bytes in the browser, so they never pass through this thread. The digest is the caller's.
   */
  async adopt(blob: Blob, digest: Digest, options?: Pick<PutOptions, "signal">): Promise<PutResult> {
    throwIfAborted(options?.signal, "storing a blob");
    let tx: IDBPTransaction<LayerLabDB, ("blobs" | "chunks")[], "readwrite"> | undefined;
    try {
      tx = this.db.transaction(["blobs", "chunks"], "readwrite");
      const existing = await tx.objectStore("blobs").get(digest);
      if (!existing) {
        const upload = newUploadId();
        await tx.objectStore("chunks").put(blob, [upload, 0]);
        await tx.objectStore("blobs").put({ digest, size: blob.size, upload, chunks: 1, whole: true });
      }
      await tx.done;
      return { digest, size: blob.size, deduplicated: existing !== undefined };
    } catch (err) {
      throw asStorageFull(refusal(tx, err), { written: 0, needed: blob.size });
    }
  }
  async delete(digest: Digest) {
    const tx = this.db.transaction(["blobs", "chunks"], "readwrite");
    const row = await tx.objectStore("blobs").get(digest);
    if (row) {
      await tx.objectStore("chunks").delete(chunkRange(row.upload));
      await tx.objectStore("blobs").delete(digest);
    }
    await tx.done;
    return row !== undefined;
  }
  async list(): Promise<BlobInfo[]> {
    return (await this.db.getAll("blobs")).map(({ digest, size }) => ({ digest, size }));
  }
  async stats() {
    const rows = await this.db.getAll("blobs");
    return { count: rows.length, bytes: rows.reduce((n, r) => n + r.size, 0) };
  }
  /**
   * Removes the chunks of uploads that never finished (a crash or a closed tab mid-write): those
   * started more than `olderThanMs` ago. Returns how many went.
   */
  async collectStaleUploads(olderThanMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    let n = 0;
    for (const u of await this.db.getAll("uploads")) {
      if (now - u.startedAt > olderThanMs) {
        await this.discardUpload(u.id);
        n++;
      }
    }
    return n;
  }
  /** Chunks that no blob owns: leftovers of failed writes (0 when the store is sound). */
  async countOrphanChunks() {
    const owned = (await this.db.getAll("blobs")).reduce((n, r) => n + r.chunks, 0);
    return (await this.db.count("chunks")) - owned;
  }
  private async discardUpload(upload: string) {
    const tx = this.db.transaction(["chunks", "uploads"], "readwrite");
    await tx.objectStore("chunks").delete(chunkRange(upload));
    await tx.objectStore("uploads").delete(upload);
    await tx.done;
  }
  private async readWhole(row: BlobRow, start: number, end: number): Promise<Uint8Array> {
    const blob = await this.db.get("chunks", [row.upload, 0]);
    if (!(blob instanceof Blob)) throw new LayerLabError("STORE", `blob ${row.digest} is missing its bytes`);
    return new Uint8Array(await blob.slice(start, end).arrayBuffer());
  }
  private async require(digest: Digest): Promise<BlobRow> {
    const row = await this.db.get("blobs", digest);
    if (!row) throw new LayerLabError("NOT_FOUND", `blob ${digest} is not in the store`);
    return row;
  }
}

class IdbMetaStore implements MetaStore {
  constructor(private readonly db: DB) {}

  async get<K extends CollectionName>(collection: K, id: string) {
    return (await this.db.get(collection, id)) as MetaCollections[K] | undefined;
  }
  async list<K extends CollectionName>(collection: K) {
    return (await this.db.getAll(collection)) as MetaCollections[K][];
  }
  async put<K extends CollectionName>(collection: K, record: MetaCollections[K]) {
    const tx = this.db.transaction(collection, "readwrite");
    try {
      await tx.store.put(record as never);
      await tx.done;
    } catch (err) {
      throw asStorageFull(refusal(tx, err));
    }
  }
  async delete(collection: CollectionName, id: string) {
    const tx = this.db.transaction(collection, "readwrite");
    const found = (await tx.store.getKey(id)) !== undefined;
    if (found) await tx.store.delete(id);
    await tx.done;
    return found;
  }
  async apply(batch: MetaBatch) {
    const names = new Set<CollectionName>([
      ...(Object.keys(batch.put ?? {}) as CollectionName[]),
      ...(Object.keys(batch.delete ?? {}) as CollectionName[]),
    ]);
    if (names.size === 0) return;
    const tx = this.db.transaction([...names], "readwrite");
    const ops: Promise<unknown>[] = [];
    for (const [c, ids] of Object.entries(batch.delete ?? {})) {
      for (const id of ids ?? []) ops.push(tx.objectStore(c as CollectionName).delete(id));
    }
    for (const [c, rs] of Object.entries(batch.put ?? {})) {
      for (const r of rs ?? []) ops.push(tx.objectStore(c as CollectionName).put(r as never));
    }
    try {
      await Promise.all(ops);
      await tx.done;
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      const full = asStorageFull(refusal(tx, err));
      if (full !== refusal(tx, err)) throw full;
      throw new LayerLabError("STORE", `could not save records: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Options of an IndexedDB store. */
export interface IndexedDbOptions {
  /**
   * Called when the store closed itself because another tab opened a newer schema (the old
   * connection steps aside rather than block the upgrade) or the browser closed it: every call
   * after fails, and the page should ask the person to reload.
   */
  onClosed?: (why: "versionchange" | "terminated") => void;
}

/** A store kept in the global IndexedDB (fake-indexeddb in Node tests), in the database `name`. */
export async function openIndexedDbStore(
  name = "layerlab",
  options: IndexedDbOptions = {},
): Promise<Store & { blobs: IdbBlobStore }> {
  const db: DB = await openDB<LayerLabDB>(name, SCHEMA_VERSION, {
    upgrade(database, oldVersion) {
      for (let v = oldVersion; v < SCHEMA_VERSION; v++) upgrades[v]!(database);
    },
    blocking() {
      // Another tab wants a newer schema: step aside rather than block it.
      db.close();
      options.onClosed?.("versionchange");
    },
    terminated() {
      options.onClosed?.("terminated");
    },
  });
  const blobs = new IdbBlobStore(db);
  await blobs.collectStaleUploads();
  return withDerivedTars({
    kind: "indexeddb",
    blobs,
    meta: new IdbMetaStore(db),
    async clear() {
      const stores = ["blobs", "chunks", "uploads", ...COLLECTIONS] as const;
      const tx = db.transaction(stores, "readwrite");
      await Promise.all(stores.map((s) => tx.objectStore(s).clear()));
      await tx.done;
    },
    close() {
      db.close();
    },
  });
}
