/**
 * Image archive import: docker-archive (legacy and Docker 25+), OCI image layout archives and
 * containerd exports, read once as a stream (or, from a File/Blob, entry by entry by offset).
 *
 * Pass 1 (scan): every archive entry streams past once. Small JSON-looking entries (manifests,
 * configs, index.json) are held in memory; everything else is treated as a layer candidate and
 * fanned out as it passes: the bytes as they came go to the blob store (the blob digest; a slice of
 * a picked File is adopted by reference), and a decompressor (gzip/zstd sniffed from the first
 * bytes) feeds the uncompressed tar to a hash (its digest is the diffId) and to a tar parser that
 * builds the layer's entry index (stored as a blob too). An uncompressed layer is stored as its
 * tar; a compressed one's tar is decoded from its blob when first read (store/derived.ts).
 * Nothing is held whole, so memory stays bounded whatever the archive size.
 * Pass 2 (resolve): manifest.json / index.json are read, a platform is chosen, every digest, diffId
 * and size is checked, records are written in one atomic metadata batch, and blobs the import
 * added that nothing references (other platforms, VERSION files) are removed. On any error or
 * cancellation, every blob the import added is removed (blobs that were there before are kept).
 */
import { asyncIterable, type ReadBuffer, readBlobWhole, streamBytes } from "../archive/bytes.ts";
import { Channel } from "../archive/channel.ts";
import {
  type Compression,
  decompress,
  type GzipEngine,
  peek,
  SNIFF_BYTES,
  sniffCompression,
} from "../archive/compression.ts";
import type { TarHeader } from "../archive/tar-header.ts";
import { type RandomAccess, readAll, readTar, readTarHeaders, TarParser } from "../archive/tar-reader.ts";
import { createSha256, type Digest, isDigest, oneShotSha256, sha256 } from "../digest.ts";
import {
  ArchiveError,
  CancelledError,
  DigestMismatchError,
  LayerLabError,
  throwIfAborted,
} from "../errors.ts";
import { isStorageFull } from "../store/faults.ts";
import type { ImageRecord, LayerRecord, PutResult, Store } from "../store/types.ts";
import {
  cleanEntryPath,
  encodeLayerIndex,
  LayerIndexer,
  type LayerLimits,
  type LayerWarning,
} from "./layer-index.ts";
import {
  type Descriptor,
  type DockerArchiveManifestEntry,
  formatPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  MediaType,
} from "./oci.ts";

/** Progress of an import: bytes of the archive read so far, and layers streamed so far. */
export interface ImportProgress {
  bytesRead: number;
  /** Total archive bytes, when the caller said (for a File, its size). */
  totalBytes?: number;
  layersDone: number;
  /** The archive entry being read. */
  entry?: string;
}

/** Limits that end a hostile import early. */
export interface ImportLimits extends LayerLimits {
  /** Most uncompressed bytes one layer may expand to (default 32 GiB). */
  maxLayerBytes?: number;
  /** Most uncompressed bytes all layers together may expand to (default 128 GiB). */
  maxTotalBytes?: number;
  /** Largest JSON entry (manifest, config, index) kept in memory (default 16 MiB). */
  maxJsonBytes?: number;
  /** Most bytes of JSON entries held at once (default 64 MiB). */
  maxMetadataBytes?: number;
}

/** Options of importArchive. */
export interface ImportOptions {
  /** Preferred platform of multi-platform images ("linux/arm64"); default linux/amd64, then the first present. */
  platform?: string;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  totalBytes?: number;
  limits?: ImportLimits;
  /** Compute each regular file's sha256 (default true). */
  hashFiles?: boolean;
  /** gzip decoder (default: the platform's DecompressionStream where there is one, else fflate). */
  gzipEngine?: GzipEngine;
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
  /**
   * ingestArchiveEntry on a Blob of at most this many bytes reads it whole for a one-shot digest
   * where the platform has one (default WHOLE_DIGEST_MAX_BYTES); larger ones stream.
   */
  wholeDigestMaxBytes?: number;
}

/** Entries smaller than this are read by the import itself, not handed to a worker. */
const REMOTE_MIN_BYTES = 1 << 20;
/**
 * A layer ingested from a Blob (a worker's slice of the picked File) of at most this many bytes is
 * read whole and digested by the platform's one-shot sha256 (WebCrypto: native code with the CPU's
 * SHA extensions, about 2.5x cheaper than the WebAssembly hash in Chromium). Larger ones stream.
 * Memory: a worker holds at most this much, plus WebCrypto's copy while it digests.
 */
export const WHOLE_DIGEST_MAX_BYTES = 32 * 2 ** 20;
/** What the helpers of one import may hold of layers read whole, together: each gets its share. */
export const WHOLE_DIGEST_BUDGET_BYTES = 64 * 2 ** 20;
/** Pieces in which a layer read whole is fed to the decompressor (its output stays small). */
const HELD_CHUNK_BYTES = 256 * 1024;

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

/** One large archive entry to ingest: its path and byte range in the archive. */
export interface EntryJob {
  path: string;
  start: number;
  end: number;
}

/** What ingesting one entry stored: the layer (or why it is not one) and the blobs it added. */
export type IngestedEntry = (
  | Omit<LayerCandidate, "kind">
  | { path: string; digest: undefined; failed: { code: string; message: string } }
) & {
  /** Blobs this ingest added (not there before), with their sizes: removed again if the import fails. */
  added: [Digest, number][];
  bytesShared: number;
};

/**
 * Ingests one archive entry as a layer into the store: stores it as it came, its uncompressed
 * tar and its entry index. For workers of a parallel import (see ImportOptions.ingestEntry): the
 * caller passes the result back to the import, which verifies it and owns the cleanup.
 */
export async function ingestArchiveEntry(
  store: Store,
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Blob,
  path: string,
  options: Pick<ImportOptions, "limits" | "hashFiles" | "gzipEngine" | "signal" | "wholeDigestMaxBytes"> & {
    /**
     * Leave the last writes to the caller (see `leftToStore` in the result): a Blob read whole is
     * not adopted here and the entry index is not put. A worker then takes its next layer at
     * once, while the import (whose thread mostly waits) stores these.
     */
    leaveWrites?: boolean;
    /**
     * Memory to read a Blob whole into, kept from one call to the next (see readBlobWhole): a
     * worker reading layer after layer then reuses the same buffer.
     */
    readBuffer?: ReadBuffer;
  } = {},
): Promise<IngestedEntry> {
  const imp = new Importer(store, options);
  try {
    const whole = isBlob(body) ? body : undefined;
    // A layer of up to WHOLE_DIGEST_MAX_BYTES is read whole, so its digest is one native call
    // (WebCrypto) rather than a WebAssembly hash of every chunk. A short read is refused as
    // truncated by ingestLayer, which counts the bytes either way.
    const oneShot = oneShotSha256();
    const held =
      whole && oneShot && whole.size <= (options.wholeDigestMaxBytes ?? WHOLE_DIGEST_MAX_BYTES)
        ? await readBlobWhole(whole, options.readBuffer)
        : undefined;
    const rawDigest = held ? oneShot!(held) : undefined;
    rawDigest?.catch(() => {});
    const source = held
      ? streamBytes(held, [HELD_CHUNK_BYTES])
      : whole
        ? (whole.stream() as ReadableStream<Uint8Array>)
        : (body as AsyncIterable<Uint8Array>);
    const { head, stream } = await peek(asyncIterable(source), SNIFF_BYTES);
    const c = await imp.ingestLayer(stream, head, path, whole, rawDigest, options.leaveWrites);
    // Decoded and hashed (the one-shot digest copied what it hashed): the memory can be reused.
    if (held && options.readBuffer && c.kind === "layer")
      options.readBuffer.buffer = held.buffer as ArrayBuffer;
    const added = [...imp.added];
    if (c.kind === "failed") {
      return {
        path,
        digest: undefined,
        failed: { code: c.error.code, message: c.error.message },
        added,
        bytesShared: 0,
      };
    }
    const { kind: _, ...layer } = c;
    return { ...layer, added, bytesShared: imp.bytesShared };
  } catch (err) {
    for (const digest of imp.added.keys()) await store.blobs.delete(digest).catch(() => false);
    throw err;
  }
}

/** A large archive entry streamed through layer ingestion as it passed. */
interface LayerCandidate {
  kind: "layer";
  path: string;
  /** Digest of the entry's bytes as they came. */
  digest: Digest;
  blobSize: number;
  compression: Compression;
  diffId: Digest;
  size: number;
  index: Digest;
  warnings: LayerWarning[];
  /**
   * With `leaveWrites` (ingestArchiveEntry): what the caller stores before the layer counts as
   * imported. The entry's bytes when `adopt` (the same slice of the File, under `digest`), and
   * the encoded entry index (under `index`).
   */
  leftToStore?: { adopt: boolean; index: Uint8Array };
}

/** An entry that could not be read as a layer; an error only if something references it. */
interface FailedCandidate {
  kind: "failed";
  path: string;
  digest: Digest | undefined;
  error: LayerLabError;
}

/** A small JSON-looking entry kept in memory until the manifests are known. */
interface JsonEntry {
  kind: "json";
  path: string;
  digest: Digest;
  bytes: Uint8Array;
}

type Entry = LayerCandidate | FailedCandidate | JsonEntry;

const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;
const GiB = 2 ** 30;

class Importer {
  readonly added = new Map<Digest, number>();
  bytesShared = 0;
  bytesRead = 0;
  layersDone = 0;
  totalUncompressed = 0;
  heldJson = 0;
  readonly byPath = new Map<string, Entry>();
  readonly links = new Map<string, { target: string; symlink: boolean }>();
  readonly byDigest = new Map<Digest, Entry>();
  readonly limits: Required<Omit<ImportLimits, keyof LayerLimits>> & LayerLimits;

  /** Aborted by the caller's signal, or by the first failure of parallel entries (to stop the rest). */
  readonly internal = new AbortController();
  readonly signal = this.internal.signal;

  constructor(
    readonly store: Store,
    readonly options: ImportOptions,
  ) {
    const outer = options.signal;
    if (outer?.aborted) this.internal.abort();
    else outer?.addEventListener("abort", () => this.internal.abort(), { once: true });
    const l = options.limits ?? {};
    this.limits = {
      ...l,
      maxLayerBytes: l.maxLayerBytes ?? 32 * GiB,
      maxTotalBytes: l.maxTotalBytes ?? 128 * GiB,
      maxJsonBytes: l.maxJsonBytes ?? 16 * 2 ** 20,
      maxMetadataBytes: l.maxMetadataBytes ?? 64 * 2 ** 20,
    };
  }

  note(r: PutResult): PutResult {
    if (!r.deduplicated) this.added.set(r.digest, r.size);
    else if (!this.added.has(r.digest)) this.bytesShared += r.size;
    return r;
  }

  progress(entry?: string): void {
    this.options.onProgress?.({
      bytesRead: this.bytesRead,
      totalBytes: this.options.totalBytes,
      layersDone: this.layersDone,
      entry,
    });
  }

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
    for await (const { header, body } of readTar(this.count(source), { signal: this.signal })) {
      await this.handleEntry(header, body);
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
      this.note(await this.store.blobs.put(index, { expected: r.index, signal }));
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
      this.totalUncompressed += r.size;
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

  /** Streams one entry: stores it as it came, decompresses, hashes the tar (its diffId) and indexes it. */
  async ingestLayer(
    source: AsyncIterable<Uint8Array>,
    head: Uint8Array,
    path: string,
    whole?: Blob,
    /** The digest of `whole`, when the caller takes it (see ingestArchiveEntry). */
    rawDigest?: Promise<Digest>,
    /** Store neither `whole` nor the entry index: hand them back in `leftToStore`. */
    leaveWrites?: boolean,
  ): Promise<LayerCandidate | FailedCandidate> {
    const compression = sniffCompression(head);
    const signal = this.signal;
    // The entry as it came: adopted as a Blob when it is a slice of the picked File (its bytes
    // are only hashed here), else streamed into the store. An uncompressed layer is its own tar.
    const rawHash = whole && !rawDigest ? await createSha256() : undefined;
    const rawChan = compression === "none" || whole ? undefined : new Channel();
    // A compressed layer's tar is not stored: its digest (the diffId) is taken as it streams past,
    // and the tar is decoded from the stored blob when something first reads it (withDerivedTars).
    const tarHash = compression === "none" ? undefined : await createSha256();
    const tarChan = compression === "none" && !whole ? new Channel() : undefined;
    const rawPut = rawChan ? this.store.blobs.putStream(rawChan, { signal }) : undefined;
    const tarPut = tarChan ? this.store.blobs.putStream(tarChan, { signal }) : undefined;
    rawPut?.catch(() => {});
    tarPut?.catch(() => {});
    const indexer = await LayerIndexer.create({ hashFiles: this.options.hashFiles, limits: this.limits });
    const parser = new TarParser(indexer);
    let size = 0;
    let rawSize = 0;
    const tap = async function* (src: AsyncIterable<Uint8Array>) {
      for await (const c of src) {
        rawSize += c.byteLength;
        rawHash?.update(c);
        if (rawChan) await rawChan.write(c);
        yield c;
      }
    };
    try {
      const guarded = guard(source);
      const compressed = rawChan || whole ? tap(guarded) : guarded;
      const remaining = this.limits.maxTotalBytes - this.totalUncompressed;
      const limit = Math.min(this.limits.maxLayerBytes, remaining);
      for await (const out of decompress(compressed, compression, {
        limit,
        entry: path,
        gzipEngine: this.options.gzipEngine,
        // Each chunk is parsed, hashed and copied (gathered files, WebCrypto) before the next.
        release: true,
      })) {
        size += out.byteLength;
        parser.push(out);
        tarHash?.update(out);
        if (tarChan) await tarChan.write(out);
        await indexer.drain();
      }
      parser.end();
      rawChan?.close();
      tarChan?.close();
      let adopted: PutResult | undefined;
      if (whole) {
        if (rawSize !== whole.size) {
          throw new ArchiveError(`truncated: read ${rawSize} of its ${whole.size} bytes`, { entry: path });
        }
        const digest = rawDigest ? await rawDigest : rawHash!.finish();
        adopted = leaveWrites
          ? { digest, size: whole.size, deduplicated: false }
          : this.note(await this.store.blobs.adopt(whole, digest, { signal }));
      }
      const rawRes = rawPut ? this.note(await rawPut) : (adopted ?? this.note(await tarPut!));
      const diffId = tarHash ? tarHash.finish() : rawRes.digest;
      this.totalUncompressed += size;
      const index = await indexer.finish(diffId);
      const indexBytes = encodeLayerIndex(index);
      const indexRes = leaveWrites
        ? { digest: await (oneShotSha256() ?? sha256)(indexBytes) }
        : this.note(await this.store.blobs.put(indexBytes, { signal }));
      this.layersDone += 1;
      this.progress(path);
      return {
        kind: "layer",
        path,
        digest: rawRes.digest,
        blobSize: rawRes.size,
        compression,
        diffId,
        size,
        index: indexRes.digest,
        warnings: index.warnings,
        ...(leaveWrites ? { leftToStore: { adopt: adopted !== undefined, index: indexBytes } } : {}),
      };
    } catch (err) {
      rawChan?.fail(err);
      tarChan?.fail(err);
      const puts = await Promise.allSettled([rawPut, tarPut]);
      // A store that refused the bytes (its quota) stops the stream feeding it: say that, not
      // that the stream's consumer stopped.
      for (const p of puts) if (p.status === "rejected" && isStorageFull(p.reason)) throw p.reason;
      const e = err instanceof LayerLabError ? err : undefined;
      // Not a tar (or not decodable): harmless unless a manifest names it as a layer.
      if (err instanceof SourceError) throw err.cause;
      if (e instanceof ArchiveError && e.code === "ARCHIVE_INVALID") {
        return { kind: "failed", path, digest: undefined, error: e };
      }
      throw err;
    }
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
}

/** A real Blob (a File or a slice of one), which a store may adopt without reading it again. */
function isBlob(b: unknown): b is Blob {
  return typeof Blob === "function" && b instanceof Blob;
}

function isRandomAccess(s: unknown): s is RandomAccess {
  const r = s as RandomAccess;
  return (
    typeof r.slice === "function" && typeof r.size === "number" && !(Symbol.asyncIterator in (s as object))
  );
}

/** An error of the outer archive seen while reading one entry: never mistaken for the entry's own. */
class SourceError extends Error {
  constructor(override readonly cause: unknown) {
    super("archive read failed");
  }
}

async function* guard(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (err) {
      throw new SourceError(err);
    }
    if (r.done) return;
    yield r.value;
  }
}

function normalizeArchivePath(p: string, entry: string): string {
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

/** An image found in the archive's manifests, before it is stored. */
interface FoundImage {
  names: string[];
  manifest: { digest?: Digest; json?: ImageManifest; from: string };
  configEntry: Entry;
  layerEntries: Entry[];
  platform?: string;
}

function wantedPlatforms(requested: string | undefined): string[] {
  return requested ? [requested] : ["linux/amd64"];
}

/** Picks one manifest of an index: the requested platform, else linux/amd64, else the first present. */
function pickPlatform(
  imp: Importer,
  index: ImageIndex,
  from: string,
  requested: string | undefined,
): Descriptor[] {
  // A platform is present when its manifest, config and layers all are (containerd exports name
  // platforms that were never pulled).
  const present = (index.manifests ?? []).filter((d) => {
    if (!isDigest(d.digest)) return false;
    if (d.platform && (d.platform.os === "unknown" || d.platform.architecture === "unknown")) return false;
    return isComplete(imp, d.digest, 0);
  });
  if (present.length === 0) {
    throw new ArchiveError("index names no manifest present in the archive", { entry: from });
  }
  const withPlatform = present.filter((d) => d.platform);
  if (withPlatform.length === 0) return present;
  for (const want of wantedPlatforms(requested)) {
    const hit = withPlatform.find((d) => formatPlatform(d.platform!) === want || platformMatches(d, want));
    if (hit) return [hit];
  }
  if (requested) {
    const have = withPlatform.map((d) => formatPlatform(d.platform!)).join(", ");
    throw new ArchiveError(`platform ${requested} is not in the archive (present: ${have})`, { entry: from });
  }
  return [withPlatform[0]!];
}

function isComplete(imp: Importer, digest: Digest, depth: number): boolean {
  const e = imp.byDigest.get(digest) ?? imp.byPath.get(`blobs/sha256/${digest.slice(7)}`);
  if (!e) return false;
  if (e.kind !== "json" || depth > 8) return true;
  let doc: Partial<ImageManifest & ImageIndex>;
  try {
    doc = JSON.parse(new TextDecoder().decode(e.bytes));
  } catch {
    return true; // reported as invalid JSON when it is read
  }
  if (Array.isArray(doc.manifests))
    return doc.manifests.some((m) => isDigest(m.digest) && isComplete(imp, m.digest, depth + 1));
  const has = (d: Descriptor | undefined) =>
    !d ||
    !isDigest(d.digest) ||
    imp.byDigest.has(d.digest) ||
    imp.byPath.has(`blobs/sha256/${d.digest.slice(7)}`);
  return has(doc.config) && (doc.layers ?? []).every(has);
}

function platformMatches(d: Descriptor, want: string): boolean {
  const [os, arch, variant] = want.split("/");
  return (
    d.platform!.os === os &&
    d.platform!.architecture === arch &&
    (!variant || d.platform!.variant === variant)
  );
}

function namesFromAnnotations(a: Record<string, string> | undefined): string[] {
  if (!a) return [];
  const full = a["io.containerd.image.name"];
  if (full) return [full];
  const ref = a["org.opencontainers.image.ref.name"];
  return ref ? [ref] : [];
}

function findImages(imp: Importer): FoundImage[] {
  const requested = imp.options.platform;
  const found: FoundImage[] = [];
  const dockerManifest = imp.byPath.get("manifest.json");
  const dockerEntries = dockerManifest
    ? imp.json<DockerArchiveManifestEntry[]>(dockerManifest, "manifest.json")
    : undefined;
  if (dockerEntries !== undefined && !Array.isArray(dockerEntries)) {
    throw new ArchiveError("manifest.json is not a list of images", { entry: "manifest.json" });
  }
  const tagsByConfig = new Map<Entry, string[]>();
  for (const d of dockerEntries ?? []) {
    if (typeof d?.Config !== "string" || !Array.isArray(d.Layers)) {
      throw new ArchiveError("manifest.json entry lacks Config or Layers", { entry: "manifest.json" });
    }
    const cfg = imp.resolvePath(normalizeArchivePath(d.Config, "manifest.json"), "manifest.json");
    tagsByConfig.set(cfg, [...(tagsByConfig.get(cfg) ?? []), ...(d.RepoTags ?? [])]);
  }
  const indexEntry = imp.byPath.get("index.json");
  if (indexEntry) {
    const index = imp.json<ImageIndex>(indexEntry, "index.json");
    if (!Array.isArray(index?.manifests))
      throw new ArchiveError("index.json has no manifests list", { entry: "index.json" });
    const walk = (desc: Descriptor, names: string[], from: string, depth: number) => {
      if (depth > 8) throw new ArchiveError("indexes nested too deeply", { entry: from }, "ARCHIVE_HOSTILE");
      if (!isDigest(desc.digest)) throw new ArchiveError(`invalid digest '${desc.digest}'`, { entry: from });
      const entry = imp.blob(desc.digest, from);
      const doc = imp.json<ImageManifest & ImageIndex>(entry, from);
      if (
        isIndexMediaType(desc.mediaType) ||
        isIndexMediaType(doc.mediaType) ||
        Array.isArray(doc.manifests)
      ) {
        for (const child of pickPlatform(imp, doc, entry.path, requested))
          walk(child, names, entry.path, depth + 1);
        return;
      }
      if (!doc.config || !Array.isArray(doc.layers)) {
        throw new ArchiveError("manifest lacks config or layers", { entry: entry.path });
      }
      if (!isDigest(doc.config.digest))
        throw new ArchiveError("invalid config digest", { entry: entry.path });
      const configEntry = imp.blob(doc.config.digest, entry.path);
      const layerEntries = doc.layers.map((l) => {
        if (!isDigest(l.digest))
          throw new ArchiveError(`invalid layer digest '${l.digest}'`, { entry: entry.path });
        return imp.blob(l.digest, entry.path);
      });
      found.push({
        names: [...names, ...(tagsByConfig.get(configEntry) ?? [])],
        manifest: { digest: desc.digest, json: doc, from: entry.path },
        configEntry,
        layerEntries,
        platform: desc.platform ? formatPlatform(desc.platform) : undefined,
      });
    };
    // Descriptors of one name with platforms are one multi-platform image: pick one of them.
    const groups = new Map<string, Descriptor[]>();
    for (const d of index.manifests) {
      const key = d.platform ? namesFromAnnotations(d.annotations).join(",") : `#${groups.size}`;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const group of groups.values()) {
      const chosen =
        group.length > 1
          ? pickPlatform(imp, { schemaVersion: 2, manifests: group }, "index.json", requested)
          : group;
      for (const d of chosen) walk(d, namesFromAnnotations(d.annotations), "index.json", 0);
    }
    return dedupe(found);
  }
  if (!dockerEntries) {
    throw new ArchiveError("not an image archive: it has neither index.json nor manifest.json", {
      entry: "index.json",
    });
  }
  for (const d of dockerEntries) {
    const configEntry = imp.resolvePath(normalizeArchivePath(d.Config, "manifest.json"), "manifest.json");
    const layerEntries = d.Layers.map((l) =>
      imp.resolvePath(normalizeArchivePath(l, "manifest.json"), "manifest.json"),
    );
    found.push({
      names: d.RepoTags ?? [],
      manifest: { from: "manifest.json" },
      configEntry,
      layerEntries,
    });
  }
  return dedupe(found);
}

function dedupe(images: FoundImage[]): FoundImage[] {
  const out = new Map<string, FoundImage>();
  for (const im of images) {
    const key = `${im.manifest.digest ?? ""}|${im.configEntry.path}|${im.layerEntries.map((l) => l.path).join(",")}`;
    const prev = out.get(key);
    if (prev) prev.names = [...new Set([...prev.names, ...im.names])];
    else out.set(key, { ...im, names: [...new Set(im.names)] });
  }
  return [...out.values()];
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
  const imp = new Importer(store, options);
  try {
    if (isRandomAccess(source)) await imp.scanFile(source, Math.max(1, options.concurrency ?? 2));
    else await imp.scan(asyncIterable(source));
    throwIfAborted(options.signal, "import");
    const found = findImages(imp);
    if (found.length === 0) throw new ArchiveError("the archive holds no image", { entry: "index.json" });
    const referenced = new Set<Digest>();
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
        if (cand.diffId !== diffIds[i]) {
          throw new DigestMismatchError(diffIds[i]!, cand.diffId, `layer ${i + 1} (${cand.path}) diffId`);
        }
        const mediaType = desc?.mediaType ?? mediaTypeFor(cand.compression);
        descriptors.push({ mediaType, digest: cand.digest, size: cand.blobSize });
        warnings.push(...cand.warnings.map((w) => ({ ...w, entry: `${cand.path}: ${w.entry}` })));
        const existing = layerPuts.get(cand.diffId) ?? (await store.meta.get("layers", cand.diffId));
        const rec: LayerRecord = existing ?? {
          id: cand.diffId,
          blob: cand.digest,
          mediaType,
          blobSize: cand.blobSize,
          size: cand.size,
          index: cand.index,
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
      const record: ImageRecord = {
        id: configRes.digest,
        names: [...new Set([...(prior?.names ?? []), ...f.names])],
        source: prior?.source ?? "import",
        layers: layers.map((l) => l.id),
        config: configRes.digest,
        manifest: prior?.manifest ?? manRes.digest,
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
