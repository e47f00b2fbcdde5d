/**
 * The archive scan of an import: docker-archive (legacy and Docker 25+), OCI image layout archives
 * and containerd exports read once as a stream (or, from a File/Blob, entry by entry by offset,
 * several at once, large ones possibly by helper workers). Small JSON-looking entries (manifests,
 * configs, index.json) are held in memory; everything else is a layer candidate handed to the
 * layer ingest (ingest-layer.ts) as it passes. Links are recorded so manifest.json may name a
 * path through them. The manifests are read afterwards (select-manifest.ts).
 */
import { asyncIterable } from "../archive/bytes.ts";
import { peek, SNIFF_BYTES } from "../archive/compression.ts";
import type { TarHeader } from "../archive/tar-header.ts";
import { type RandomAccess, readAll, readTar, readTarHeaders } from "../archive/tar-reader.ts";
import { type Digest, isDigest, sha256 } from "../digest.ts";
import { ArchiveError, DigestMismatchError, throwIfAborted } from "../errors.ts";
import {
  type EntryJob,
  type FailedCandidate,
  type IngestedEntry,
  type IngestOptions,
  IngestSession,
  isBlob,
  type LayerCandidate,
} from "./ingest-layer.ts";
import { cleanEntryPath } from "./layer-index.ts";
import type { Descriptor, ImageIndex, ImageManifest } from "./oci.ts";

/** What the scan reads from an import's options, beyond the layer ingest's. */
export interface ScanOptions extends IngestOptions {
  /** Entries read at once when the source is a File or Blob (default 2). */
  concurrency?: number;
  /**
   * With a File or Blob source: ingests one large entry elsewhere (a worker running
   * ingestArchiveEntry on `file.slice(start, end)` into the same store), so layers decompress and
   * hash on several cores. Default: in this thread.
   */
  ingestEntry?: (job: EntryJob) => Promise<IngestedEntry>;
  /** With `ingestEntry`: entries smaller than this are read here (default 1 MiB). */
  remoteMinBytes?: number;
}

/** Entries smaller than this are read by the import itself, not handed to a worker. */
const REMOTE_MIN_BYTES = 1 << 20;

/** A small JSON-looking entry kept in memory until the manifests are known. */
export interface JsonEntry {
  kind: "json";
  path: string;
  digest: Digest;
  bytes: Uint8Array;
}

/** One scanned archive entry: a layer, an entry that is no readable layer, or held JSON. */
export type Entry = LayerCandidate | FailedCandidate | JsonEntry;

const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** The first pass of an import: every entry of the archive, found by path and by digest. */
export class ArchiveScan<O extends ScanOptions = ScanOptions> extends IngestSession<O> {
  heldJson = 0;
  readonly byPath = new Map<string, Entry>();
  readonly links = new Map<string, { target: string; symlink: boolean }>();
  readonly byDigest = new Map<Digest, Entry>();

  /** Counts the archive's bytes as they are read (progress), and stops at cancellation. */
  async *count(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      throwIfAborted(this.signal, "import");
      this.bytesRead += chunk.byteLength;
      this.progress();
      yield chunk;
    }
  }

  /** First pass: every entry streams past once; layers go to the store, JSON stays in memory. */
  async scan(source: AsyncIterable<Uint8Array>): Promise<void> {
    const it = this.count(source)[Symbol.asyncIterator]();
    // The tar reader stops at the tar's end marker; the source is read on past it here, so a
    // compressed archive's own check (gzip's CRC and length, zstd's checksum) is read and holds:
    // a file cut after the marker is refused as well.
    const unclosable: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => it.next() }),
    };
    try {
      for await (const { header, body } of readTar(unclosable, { signal: this.signal })) {
        await this.handleEntry(header, body);
      }
      while (!(await it.next()).done) {}
    } finally {
      await it.return?.(undefined);
    }
  }

  /**
   * First pass over a File or Blob: headers are read by offset and up to `concurrency` entries
   * stream at once from their own slices, so several layers decompress and hash in parallel.
   */
  async scanFile(file: RandomAccess, concurrency: number): Promise<void> {
    const pending = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const run = (p: Promise<void>) => {
      const tracked = p.then(
        () => {
          pending.delete(tracked);
        },
        (err: unknown) => {
          pending.delete(tracked);
          // Errors after the abort are its echoes in the other entries; the first one is the cause.
          if (!this.signal.aborted) failure ??= { err };
          this.internal.abort();
        },
      );
      pending.add(tracked);
    };
    let headerError: { err: unknown } | undefined;
    try {
      for await (const header of readTarHeaders(file, { signal: this.signal })) {
        if (failure) break;
        const slice =
          header.type === "file" && header.size > 0
            ? file.slice(header.dataOffset, header.dataOffset + header.size)
            : undefined;
        const body = slice ? this.count(asyncIterable(slice.stream())) : (async function* () {})();
        const remote = this.options.ingestEntry;
        run(
          remote && (await this.isRemoteLayer(file, header))
            ? this.handleRemote(header, remote, file)
            : this.handleEntry(header, body, isBlob(slice) ? slice : undefined),
        );
        while (pending.size >= concurrency) await Promise.race(pending);
      }
    } catch (err) {
      if (!failure) headerError = { err };
      this.internal.abort();
    }
    // Every started entry must settle before the caller cleans up what they stored.
    while (pending.size) await Promise.allSettled([...pending]);
    // The first real failure wins over the cancellations it caused in the others.
    if (failure) throw failure.err;
    if (headerError) throw headerError.err;
    throwIfAborted(this.signal, "import");
  }

  /**
   * Whether a worker should ingest this entry: too large to be JSON, or over a mebibyte and not
   * starting like JSON (a layer, compressed or not). Anything else is read here.
   */
  private async isRemoteLayer(file: RandomAccess, header: TarHeader): Promise<boolean> {
    if (header.type !== "file" || header.size === 0) return false;
    if (header.size < (this.options.remoteMinBytes ?? REMOTE_MIN_BYTES)) return false;
    if (header.size > this.limits.maxJsonBytes) return true;
    const head = new Uint8Array(await file.slice(header.dataOffset, header.dataOffset + 64).arrayBuffer());
    const first = head.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
    return first !== 0x7b && first !== 0x5b;
  }

  /** An entry too large to be JSON, ingested by the caller's worker; its result joins this import. */
  async handleRemote(
    header: TarHeader,
    ingest: (job: EntryJob) => Promise<IngestedEntry>,
    file: RandomAccess,
  ): Promise<void> {
    const path = cleanEntryPath(header.name);
    this.progress(path);
    const start = header.dataOffset;
    const end = start + header.size;
    const r = await ingest({ path, start, end });
    for (const [digest, size] of r.added) if (!this.added.has(digest)) this.added.set(digest, size);
    if ("leftToStore" in r && r.leftToStore) {
      // The worker left its last writes to this thread, which mostly waits, and went on.
      const signal = this.signal;
      const { adopt, index } = r.leftToStore;
      delete r.leftToStore;
      if (adopt) {
        const slice = file.slice(start, end);
        this.note(
          isBlob(slice)
            ? await this.store.blobs.adopt(slice, r.digest, { signal })
            : await this.store.blobs.putStream(asyncIterable(slice.stream()), { expected: r.digest, signal }),
        );
      }
      if (index && r.index) this.note(await this.store.blobs.put(index, { expected: r.index, signal }));
    }
    this.bytesShared += r.bytesShared;
    this.bytesRead += header.size;
    let entry: Entry;
    if ("failed" in r) {
      const code = r.failed.code === "ARCHIVE_INVALID" ? "ARCHIVE_INVALID" : "ARCHIVE_HOSTILE";
      entry = {
        kind: "failed",
        path,
        digest: undefined,
        error: new ArchiveError(r.failed.message, {}, code),
      };
    } else {
      this.layersDone += 1;
      this.totalUncompressed += r.size ?? 0;
      if (this.totalUncompressed > this.limits.maxTotalBytes) {
        throw new ArchiveError(
          `layers expand to more than ${this.limits.maxTotalBytes} bytes in total`,
          { entry: path },
          "ARCHIVE_TOO_LARGE",
        );
      }
      const { added: _a, bytesShared: _b, ...layer } = r;
      entry = { kind: "layer", ...layer };
    }
    this.progress(path);
    const m = BLOB_PATH.exec(path);
    if (m && entry.digest && entry.digest !== `sha256:${m[1]}`) {
      throw new DigestMismatchError(`sha256:${m[1]}`, entry.digest, header.name);
    }
    this.byPath.set(path, entry);
    if (entry.digest) this.byDigest.set(entry.digest, entry);
  }

  async handleEntry(header: TarHeader, body: AsyncIterable<Uint8Array>, whole?: Blob): Promise<void> {
    const path = cleanEntryPath(header.name);
    if (header.type === "symlink" || header.type === "hardlink") {
      this.links.set(path, { target: header.linkname, symlink: header.type === "symlink" });
      return;
    }
    if (header.type !== "file") return;
    this.progress(path);
    const { head, stream } = await peek(body, SNIFF_BYTES);
    const looksJson = head[0] === 0x7b || head[0] === 0x5b;
    let entry: Entry;
    if (looksJson && header.size <= this.limits.maxJsonBytes) {
      this.heldJson += header.size;
      if (this.heldJson > this.limits.maxMetadataBytes) {
        throw new ArchiveError(
          `JSON entries exceed ${this.limits.maxMetadataBytes} bytes in total`,
          { entry: header.name },
          "ARCHIVE_TOO_LARGE",
        );
      }
      const bytes = await readAll(stream, this.limits.maxJsonBytes, header.name);
      entry = { kind: "json", path, digest: await sha256(bytes), bytes };
    } else if (header.size === 0) {
      return;
    } else {
      entry = await this.ingestLayer(stream, head, path, whole);
    }
    const m = BLOB_PATH.exec(path);
    if (m && entry.digest && entry.digest !== `sha256:${m[1]}`) {
      throw new DigestMismatchError(`sha256:${m[1]}`, entry.digest, header.name);
    }
    this.byPath.set(path, entry);
    if (entry.digest) this.byDigest.set(entry.digest, entry);
  }

  resolvePath(path: string, from: string): Entry {
    let p = path;
    for (let hops = 0; hops < 16; hops++) {
      const e = this.byPath.get(p);
      if (e) return e;
      const link = this.links.get(p);
      if (!link) break;
      const dir = link.symlink && p.includes("/") ? p.slice(0, p.lastIndexOf("/") + 1) : "";
      const joined = link.target.startsWith("/") ? link.target : `${dir}${link.target}`;
      p = normalizeArchivePath(joined, p);
    }
    throw new ArchiveError(`names '${path}', which is not in the archive`, { entry: from });
  }

  blob(digest: Digest, from: string): Entry {
    const e = this.byDigest.get(digest) ?? this.byPath.get(`blobs/sha256/${digest.slice(7)}`);
    if (!e) throw new ArchiveError(`names blob ${digest}, which is not in the archive`, { entry: from });
    return e;
  }

  /** The entry as a held JSON document, or an ArchiveError naming `from`. */
  held(e: Entry, from: string): JsonEntry {
    if (e.kind !== "json") throw new ArchiveError(`'${e.path}' is not a JSON document`, { entry: from });
    return e;
  }

  json<T>(e: Entry, from: string): T {
    const held = this.held(e, from);
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(held.bytes));
    } catch (err) {
      throw new ArchiveError(`invalid JSON: ${(err as Error).message}`, { entry: e.path });
    }
    if (doc === null || typeof doc !== "object")
      throw new ArchiveError("not a JSON object", { entry: e.path });
    return doc as T;
  }

  async layer(e: Entry, from: string): Promise<LayerCandidate> {
    if (e.kind === "failed") {
      throw new ArchiveError(`not a readable layer: ${e.error.message}`, { entry: e.path });
    }
    if (e.kind === "json") {
      // A tar whose first name starts with '{' was held as JSON; read it as a layer now.
      const bytes = e.bytes;
      const again = await this.ingestLayer(
        (async function* () {
          yield bytes;
        })(),
        bytes.subarray(0, SNIFF_BYTES),
        e.path,
      );
      if (again.kind !== "layer")
        throw new ArchiveError(`not a readable layer: ${again.error.message}`, { entry: from });
      this.byPath.set(e.path, again);
      return again;
    }
    return e;
  }

  /**
   * Whether a manifest (or an index, through any of its manifests) is in the archive with its
   * config and layers: containerd exports name platforms that were never pulled.
   */
  isComplete(digest: Digest, depth = 0): boolean {
    const e = this.byDigest.get(digest) ?? this.byPath.get(`blobs/sha256/${digest.slice(7)}`);
    if (!e) return false;
    if (e.kind !== "json" || depth > 8) return true;
    let doc: Partial<ImageManifest & ImageIndex>;
    try {
      doc = JSON.parse(new TextDecoder().decode(e.bytes));
    } catch {
      return true; // reported as invalid JSON when it is read
    }
    if (Array.isArray(doc.manifests))
      return doc.manifests.some((m) => isDigest(m.digest) && this.isComplete(m.digest, depth + 1));
    const has = (d: Descriptor | undefined) =>
      !d ||
      !isDigest(d.digest) ||
      this.byDigest.has(d.digest) ||
      this.byPath.has(`blobs/sha256/${d.digest.slice(7)}`);
    return has(doc.config) && (doc.layers ?? []).every(has);
  }
}

/** Whether a source is a File, Blob or other RandomAccess (read by offset), not a stream. */
export function isRandomAccess(s: unknown): s is RandomAccess {
  const r = s as RandomAccess;
  return (
    typeof r.slice === "function" && typeof r.size === "number" && !(Symbol.asyncIterator in (s as object))
  );
}

/** Resolves `.` and `..` in a path inside the archive; refuses one that climbs out of it. */
export function normalizeArchivePath(p: string, entry: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0)
        throw new ArchiveError("link points outside the archive", { entry }, "ARCHIVE_HOSTILE");
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}
