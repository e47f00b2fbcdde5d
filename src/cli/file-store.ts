/**
 * A store whose blobs live in a temporary folder (records stay in memory): the CLI's pull and
 * push go through it so that no layer is ever held whole in memory, whatever the image size.
 */

import { createReadStream, mkdtempSync, openAsBlob, rmSync } from "node:fs";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncIterable } from "../core/archive/bytes.ts";
import type { RandomAccess } from "../core/archive/tar-reader.ts";
import { type Digest, isDigest } from "../core/digest.ts";
import { LayerLabError } from "../core/errors.ts";
import { withDerivedTars } from "../core/store/derived.ts";
import { ingest } from "../core/store/ingest.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { BlobInfo, BlobStore, PutOptions, PutResult, Store } from "../core/store/types.ts";
import { type FileRange, fileRangeBlob, fileRangeOf, rangeOf } from "./file-ranges.ts";

let counter = 0;
const WRITE_BYTES = 1 << 20;

/**
 * A file to import from by byte ranges (the import then reads entries in parallel), whose slices
 * a temp-file store adopts by reference: a layer of an archive is never copied to disk again.
 */
export async function openFileRanges(path: string): Promise<RandomAccess> {
  const file = await openAsBlob(path);
  return {
    size: file.size,
    slice: (start: number, end: number) =>
      rangeOf(file, { path, start, end }) as unknown as ReturnType<RandomAccess["slice"]>,
  };
}

class FileBlobStore implements BlobStore {
  /** Blobs kept as ranges of files the person gave (see openFileRanges). */
  private readonly refs = new Map<Digest, FileRange>();
  constructor(private readonly dir: string) {}

  private path(digest: Digest): string {
    if (!isDigest(digest)) throw new LayerLabError("STORE", `'${digest}' is not a digest`);
    return join(this.dir, digest.slice(7));
  }
  private missing(digest: Digest): LayerLabError {
    return new LayerLabError("NOT_FOUND", `blob ${digest} is not in the store`);
  }
  async has(digest: Digest) {
    return (await this.size(digest)) !== undefined;
  }
  async size(digest: Digest) {
    const ref = this.refs.get(digest);
    if (ref) return ref.end - ref.start;
    try {
      return (await stat(this.path(digest))).size;
    } catch {
      return undefined;
    }
  }
  async get(digest: Digest) {
    const size = await this.size(digest);
    if (size === undefined) return undefined;
    return this.read(digest, 0, size);
  }
  async read(digest: Digest, offset: number, length: number) {
    const ref = this.refs.get(digest);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(ref ? ref.path : this.path(digest), "r");
    } catch {
      throw this.missing(digest);
    }
    const base = ref ? ref.start : 0;
    try {
      const size = ref ? ref.end - ref.start : (await fh.stat()).size;
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const { bytesRead } = await fh.read(out, at, n - at, base + offset + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return out.subarray(0, at);
    } finally {
      await fh.close();
    }
  }
  async blob(digest: Digest): Promise<Blob | undefined> {
    const ref = this.refs.get(digest);
    if (ref) return fileRangeBlob(ref.path, ref.start, ref.end);
    const path = this.path(digest);
    try {
      return await fileRangeBlob(path, 0, (await stat(path)).size);
    } catch {
      return undefined;
    }
  }
  stream(digest: Digest): AsyncIterable<Uint8Array> {
    const ref = this.refs.get(digest);
    if (ref) {
      return (async function* () {
        if (ref.end === ref.start) return;
        const opts = { highWaterMark: 1 << 20, start: ref.start, end: ref.end - 1 };
        for await (const c of createReadStream(ref.path, opts)) yield c as Uint8Array;
      })();
    }
    const path = this.path(digest);
    const missing = () => this.missing(digest);
    return (async function* () {
      try {
        await stat(path);
      } catch {
        throw missing();
      }
      for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield c as Uint8Array;
    })();
  }
  put(bytes: Uint8Array, options?: PutOptions) {
    return this.putStream(
      (async function* () {
        yield bytes;
      })(),
      options,
    );
  }
  async putStream(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const tmp = join(this.dir, `.partial-${process.pid}-${counter++}`);
    const fh = await open(tmp, "w");
    // Network chunks are small (tens of KiB): gathered into 1 MiB writes, a tenth of the calls.
    const buf = new Uint8Array(WRITE_BYTES);
    let fill = 0;
    const flush = async () => {
      if (fill > 0) await fh.write(buf, 0, fill);
      fill = 0;
    };
    try {
      const { digest, size } = await ingest(source, options, async (chunk) => {
        if (chunk.byteLength >= WRITE_BYTES) {
          await flush();
          await fh.write(chunk);
          return;
        }
        if (fill + chunk.byteLength > WRITE_BYTES) await flush();
        buf.set(chunk, fill);
        fill += chunk.byteLength;
      });
      await flush();
      await fh.close();
      if (await this.has(digest)) {
        await rm(tmp, { force: true });
        return { digest, size, deduplicated: true };
      }
      await rename(tmp, this.path(digest));
      return { digest, size, deduplicated: false };
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }
  async adopt(blob: Blob, digest: Digest, options?: Pick<PutOptions, "signal">): Promise<PutResult> {
    const range = fileRangeOf(blob);
    if (range && isDigest(digest)) {
      // The importer has read and hashed these bytes: keep where they are, as the interface allows.
      const had = await this.has(digest);
      if (!had) this.refs.set(digest, range);
      return { digest, size: range.end - range.start, deduplicated: had };
    }
    return this.putStream(asyncIterable(blob.stream() as ReadableStream<Uint8Array>), {
      ...options,
      expected: digest,
    });
  }
  async delete(digest: Digest) {
    if (this.refs.delete(digest)) return true;
    try {
      await rm(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }
  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [...this.refs].map(([digest, r]) => ({ digest, size: r.end - r.start }));
    for (const name of await readdir(this.dir)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      out.push({ digest, size: (await stat(join(this.dir, name))).size });
    }
    return out;
  }
  async stats() {
    const all = await this.list();
    return { count: all.length, bytes: all.reduce((a, b) => a + b.size, 0) };
  }
}

/** A store with blobs in a new temporary folder, removed again by `close`. */
export function openTempFileStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "layerlab-store-"));
  const meta = openMemoryStore().meta;
  const blobs = new FileBlobStore(dir);
  return withDerivedTars({
    kind: "memory",
    blobs,
    meta,
    async clear() {
      for (const b of await blobs.list()) await blobs.delete(b.digest);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
