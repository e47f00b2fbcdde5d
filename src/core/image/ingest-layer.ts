/**
 * The layer ingest of an import: one archive entry streams once into the store as it came (its
 * blob digest; a slice of a picked File is adopted by reference), and through a decompressor
 * (gzip/zstd sniffed from the first bytes) to a hash of the uncompressed tar (its diffId) and a tar
 * parser that builds the layer's entry index (stored as a blob too). An uncompressed layer is
 * stored as its tar; a compressed one's tar is decoded from its blob when first read
 * (store/derived.ts). Nothing is held whole but a layer of at most WHOLE_DIGEST_MAX_BYTES read
 * from a Blob, so memory stays bounded whatever the layer's size.
 *
 * `IngestSession` holds what one import counts (blobs added, bytes, limits, cancellation);
 * `ingestArchiveEntry` is the same ingest in a helper worker of a parallel import.
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
import { TarParser } from "../archive/tar-reader.ts";
import {
  createParallelSha256,
  createSha256,
  type Digest,
  onceSha256,
  oneShotSha256,
  sha256,
} from "../digest.ts";
import { ArchiveError, LayerLabError } from "../errors.ts";
import { isStorageFull } from "../store/faults.ts";
import type { PutResult, Store } from "../store/types.ts";
import { encodeLayerIndex, LayerIndexer, type LayerLimits, type LayerWarning } from "./layer-index.ts";

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

/** What the layer ingest reads from an import's options (see ImportOptions). */
export interface IngestOptions {
  /** Cancels the import; every blob it added is removed again. */
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** The archive's size, when known, for progress. */
  totalBytes?: number;
  limits?: ImportLimits;
  /** Compute each regular file's sha256 (default true). */
  hashFiles?: boolean;
  /** gzip decoder (default: the platform's DecompressionStream where there is one, else fflate). */
  gzipEngine?: GzipEngine;
  /**
   * ingestArchiveEntry on a Blob of at most this many bytes reads it whole for a one-shot digest
   * where the platform has one (default WHOLE_DIGEST_MAX_BYTES); larger ones stream.
   */
  wholeDigestMaxBytes?: number;
  /**
   * Store compressed layers as they came and verify their digests, but never decompress them: no
   * diffId check, no entry index, no uncompressed size (the candidate leaves them out and the
   * import takes the config's diffIds). For commands that only move blobs (`layerlab push`), as
   * `skopeo copy` does; what a registry checks (the blob digests) is still checked here.
   */
  blobsOnly?: boolean;
}

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

/**
 * A blob that arrives as Blobs in order (a pull's layer fetched by byte range, each range brought
 * into the browser's blob storage by `Response.blob()`, so this thread never read it off the
 * network): read piece by piece as they come, and stored as the Blob they compose.
 */
export interface BlobPieces {
  kind: "pieces";
  /** The pieces in order: each a Blob, or a request for one that the reader makes (`resolve`). */
  pieces: AsyncIterable<Blob | PieceRequest>;
  /** The blob's size, which the pieces add up to. */
  size: number;
  /**
   * No piece is larger: the reader's buffers are made this large when they are first needed, so
   * pieces whose sizes vary (ranges sized to the rate) are read into the same memory again.
   */
  largest?: number;
  /** Turns a request into its Blob (required when `pieces` yields requests). */
  resolve?: (r: PieceRequest) => Promise<Blob>;
}

/**
 * A byte range of a blob for the reader of BlobPieces to fetch itself (a helper worker, so the
 * Blob lives only on its thread): the URL, headers (Authorization for the registry only) and the
 * range, `want` bytes from `at`.
 */
export interface PieceRequest {
  kind: "request";
  url: string;
  headers: Record<string, string>;
  at: number;
  want: number;
}

/** A piece that is a Blob already (not a request for one). */
function pieceBlob(p: BlobPieces, item: Blob | PieceRequest): Promise<Blob> | Blob {
  if (isBlob(item)) return item;
  // A caller that hands out requests gives the way to make them: without it, a bug.
  if (!p.resolve) throw new Error("a blob's pieces hold a request but no way to make it");
  return p.resolve(item);
}

/** A Blob a store may adopt, possibly known whole only once its bytes have been read (pieces). */
interface WholeSource {
  size: number;
  blob(): Blob;
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
 * tar and its entry index. For workers of a parallel import (see ScanOptions.ingestEntry): the
 * caller passes the result back to the import, which verifies it and owns the cleanup.
 */
export async function ingestArchiveEntry(
  store: Store,
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Blob | BlobPieces,
  path: string,
  options: Pick<
    IngestOptions,
    "limits" | "hashFiles" | "gzipEngine" | "signal" | "wholeDigestMaxBytes" | "blobsOnly"
  > & {
    /**
     * The digest the entry must have (a pull's layer): a Blob (or pieces) whose bytes hash to
     * another is not stored at all; the result names the digest they do hash to.
     */
    expected?: Digest;
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
    /**
     * Called once, when every byte of the entry has been read and decoded and only the store
     * writes are left: from then on `readBuffer` is the caller's again (a worker hands it to its
     * next layer, which it may start while IndexedDB stores this one).
     */
    onRead?: () => void;
  } = {},
): Promise<IngestedEntry> {
  const imp = new IngestSession(store, options);
  // The read buffer, until the caller has it back (onRead): untouched here after that.
  let readBuffer = options.readBuffer;
  let held: Uint8Array | undefined;
  const onRead = () => {
    if (!readBuffer) return options.onRead?.();
    // Decoded and hashed (the one-shot digest copied what it hashed): the memory can be reused.
    if (held) readBuffer.buffer = held.buffer as ArrayBuffer;
    readBuffer = undefined;
    options.onRead?.();
  };
  try {
    const oneShot = oneShotSha256();
    const maxWhole = options.wholeDigestMaxBytes ?? WHOLE_DIGEST_MAX_BYTES;
    let input = body;
    if (isPieces(input) && oneShot && input.size <= maxWhole) {
      // Small enough to be read whole: the pieces are gathered first (they are Blobs, so this
      // holds no bytes here) and the layer goes the way of any Blob.
      const parts: Blob[] = [];
      for await (const item of input.pieces) parts.push(await pieceBlob(input, item));
      input = new Blob(parts);
    }
    const blob = isBlob(input) ? input : undefined;
    const pieces = isPieces(input) ? readPieces(input, readBuffer) : undefined;
    const whole: WholeSource | undefined = blob ? { size: blob.size, blob: () => blob } : pieces;
    // A layer of up to WHOLE_DIGEST_MAX_BYTES is read whole, so its digest is one native call
    // (WebCrypto) rather than a WebAssembly hash of every chunk. A short read is refused as
    // truncated by ingestLayer, which counts the bytes either way.
    held = blob && oneShot && blob.size <= maxWhole ? await readBlobWhole(blob, readBuffer) : undefined;
    const rawDigest = held ? oneShot!(held) : undefined;
    rawDigest?.catch(() => {});
    const source = held
      ? streamBytes(held, [HELD_CHUNK_BYTES])
      : pieces
        ? pieces.bytes
        : blob
          ? (blob.stream() as ReadableStream<Uint8Array>)
          : (input as AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>);
    const { head, stream } = await peek(asyncIterable(source), SNIFF_BYTES);
    const c = await imp.ingestLayer(
      stream,
      head,
      path,
      whole,
      rawDigest,
      options.leaveWrites,
      options.expected,
      onRead,
    );
    if (c.kind === "layer") onRead();
    const added = [...imp.added];
    if (c.kind === "failed") {
      dropReadBuffers(readBuffer);
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
    dropReadBuffers(readBuffer);
    for (const digest of imp.added.keys()) await store.blobs.delete(digest).catch(() => false);
    throw err;
  }
}

/**
 * After a layer cut short, its read buffers are left to the garbage collector: its decoder may
 * not have let go of the views of them it was handed.
 */
function dropReadBuffers(into: ReadBuffer | undefined): void {
  if (!into) return;
  into.buffer = undefined;
  into.other = undefined;
}

/** A large archive entry streamed through layer ingestion as it passed. */
export interface LayerCandidate {
  kind: "layer";
  path: string;
  /** Digest of the entry's bytes as they came. */
  digest: Digest;
  blobSize: number;
  compression: Compression;
  /** The uncompressed tar's digest; absent for a compressed layer ingested with `blobsOnly`. */
  diffId?: Digest;
  /** Bytes of the uncompressed tar; absent with `blobsOnly`. */
  size?: number;
  /** The entry index blob; absent with `blobsOnly`. */
  index?: Digest;
  warnings: LayerWarning[];
  /**
   * With `leaveWrites` (ingestArchiveEntry): what the caller stores before the layer counts as
   * imported. The entry's bytes when `adopt` (the same slice of the File, under `digest`), and
   * the encoded entry index (under `index`).
   */
  leftToStore?: { adopt: boolean; index?: Uint8Array };
}

/** An entry that could not be read as a layer; an error only if something references it. */
export interface FailedCandidate {
  kind: "failed";
  path: string;
  digest: Digest | undefined;
  error: LayerLabError;
}

const GiB = 2 ** 30;

/**
 * What one import counts while layers stream in: the blobs it added (removed again if it fails),
 * the bytes read and shared, the layers done, the limits, and its cancellation.
 */
export class IngestSession<O extends IngestOptions = IngestOptions> {
  readonly added = new Map<Digest, number>();
  bytesShared = 0;
  bytesRead = 0;
  layersDone = 0;
  totalUncompressed = 0;
  readonly limits: Required<Omit<ImportLimits, keyof LayerLimits>> & LayerLimits;

  /** Aborted by the caller's signal, or by the first failure of parallel entries (to stop the rest). */
  readonly internal = new AbortController();
  readonly signal = this.internal.signal;

  constructor(
    readonly store: Store,
    readonly options: O,
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

  /** Streams one entry: stores it as it came, decompresses, hashes the tar (its diffId) and indexes it. */
  async ingestLayer(
    source: AsyncIterable<Uint8Array>,
    head: Uint8Array,
    path: string,
    wholeBlob?: Blob | WholeSource,
    /** The digest of `whole`, when the caller takes it (see ingestArchiveEntry). */
    rawDigest?: Promise<Digest>,
    /** Store neither `whole` nor the entry index: hand them back in `leftToStore`. */
    leaveWrites?: boolean,
    /** The digest `whole` must have: one whose bytes hash to another is not adopted. */
    expected?: Digest,
    /** Called when every byte has been read and decoded, before the store writes. */
    onRead?: () => void,
  ): Promise<LayerCandidate | FailedCandidate> {
    const compression = sniffCompression(head);
    const signal = this.signal;
    const whole: WholeSource | undefined =
      wholeBlob && isBlob(wholeBlob) ? { size: wholeBlob.size, blob: () => wholeBlob } : wholeBlob;
    if (this.options.blobsOnly && compression !== "none")
      return this.ingestBlobOnly(source, path, compression, whole, rawDigest, leaveWrites, expected, onRead);
    // The entry as it came: adopted as a Blob when it is a slice of the picked File (its bytes
    // are only hashed here), else streamed into the store. An uncompressed layer is its own tar.
    // Up to three streams hashed side by side (createParallelSha256): the entry as it came, its
    // tar, and the tar's large files.
    const wantRaw = whole !== undefined && !rawDigest;
    const wantTar = compression !== "none";
    const wantFiles = this.options.hashFiles !== false;
    const hashers = await createParallelSha256(Number(wantRaw) + Number(wantTar) + Number(wantFiles));
    const rawHash = wantRaw ? onceSha256(hashers.shift()!) : undefined;
    const rawChan = compression === "none" || whole ? undefined : new Channel();
    // A compressed layer's tar is not stored: its digest (the diffId) is taken as it streams past,
    // and the tar is decoded from the stored blob when something first reads it (withDerivedTars).
    const tarHash = wantTar ? onceSha256(hashers.shift()!) : undefined;
    const tarChan = compression === "none" && !whole ? new Channel() : undefined;
    const rawPut = rawChan ? this.store.blobs.putStream(rawChan, { signal }) : undefined;
    const tarPut = tarChan ? this.store.blobs.putStream(tarChan, { signal }) : undefined;
    rawPut?.catch(() => {});
    tarPut?.catch(() => {});
    const indexer = await LayerIndexer.create({
      hashFiles: this.options.hashFiles,
      limits: this.limits,
      ...(wantFiles ? { hasher: hashers.shift()! } : {}),
    });
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
      onRead?.();
      let adopted: PutResult | undefined;
      if (whole) {
        if (rawSize !== whole.size) {
          throw new ArchiveError(`truncated: read ${rawSize} of its ${whole.size} bytes`, { entry: path });
        }
        const digest = rawDigest ? await rawDigest : rawHash!.finish();
        if (expected && digest !== expected) {
          // Not the blob asked for: nothing of it is stored, and the caller hears what it was.
          return { kind: "layer", path, digest, blobSize: whole.size, compression, warnings: [] };
        }
        adopted = leaveWrites
          ? { digest, size: whole.size, deduplicated: false }
          : this.note(await this.store.blobs.adopt(whole.blob(), digest, { signal }));
      }
      const rawRes = rawPut ? this.note(await rawPut) : (adopted ?? this.note(await tarPut!));
      const diffId = tarHash ? tarHash.finish() : rawRes.digest;
      this.totalUncompressed += size;
      const index = await indexer.finish(diffId);
      // Every stream is finished (the tap and the decoder ran to their end): the next layer on
      // this thread may take the group's memory. Not on a failure, where a decoder cut short
      // might still feed a stream; that group is left to the garbage collector.
      hashers.release();
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

  /**
   * A compressed layer stored as it came, its digest taken and nothing decompressed (`blobsOnly`).
   */
  private async ingestBlobOnly(
    source: AsyncIterable<Uint8Array>,
    path: string,
    compression: Compression,
    whole: WholeSource | undefined,
    rawDigest: Promise<Digest> | undefined,
    leaveWrites: boolean | undefined,
    expected: Digest | undefined,
    onRead: (() => void) | undefined,
  ): Promise<LayerCandidate> {
    const signal = this.signal;
    let res: PutResult;
    if (whole) {
      const hash = rawDigest ? undefined : await createSha256();
      let n = 0;
      for await (const c of guard(source)) {
        n += c.byteLength;
        hash?.update(c);
      }
      onRead?.();
      if (n !== whole.size)
        throw new ArchiveError(`truncated: read ${n} of its ${whole.size} bytes`, { entry: path });
      const digest = rawDigest ? await rawDigest : hash!.finish();
      if (expected && digest !== expected)
        return { kind: "layer", path, digest, blobSize: whole.size, compression, warnings: [] };
      res = leaveWrites
        ? { digest, size: whole.size, deduplicated: false }
        : this.note(await this.store.blobs.adopt(whole.blob(), digest, { signal }));
    } else {
      res = this.note(await this.store.blobs.putStream(guard(source), { signal }));
    }
    this.layersDone += 1;
    this.progress(path);
    return {
      kind: "layer",
      path,
      digest: res.digest,
      blobSize: res.size,
      compression,
      warnings: [],
      ...(leaveWrites ? { leftToStore: { adopt: whole !== undefined } } : {}),
    };
  }
}

/** Whether a body is a blob's pieces (see BlobPieces). */
export function isPieces(b: unknown): b is BlobPieces {
  return typeof b === "object" && b !== null && (b as BlobPieces).kind === "pieces";
}

/**
 * Bytes a decoder must have been handed since a read buffer's views went out before that buffer
 * is read into again within a layer (see readPieces and setReadBufferReuse).
 */
export const READ_BUFFER_REUSE_MARGIN = 4 * 2 ** 20;

let reuseWithinLayer = false;

/**
 * Whether a layer's pieces may be read into a buffer whose views went out earlier in the same
 * layer (READ_BUFFER_REUSE_MARGIN bytes before). Only where the gzip decoder lets go of each chunk
 * soon after it is handed one: the web's DecompressionStream in a browser, whose queues hold a
 * chunk or two as the Streams standard has them (the page's workers turn this on). Off by
 * default: Node's DecompressionStream takes chunks into node:zlib's queue without bound, and
 * node:zlib aborts the process when a chunk it holds is detached. Off, a buffer is still used
 * again for the next layer, whose decoder starts only once the last one is done.
 */
export function setReadBufferReuse(on: boolean): void {
  reuseWithinLayer = on;
}

/**
 * The bytes of a blob's pieces, each piece read whole as it comes and fed on in small steps; and
 * the Blob they compose, for the store to adopt once every piece has been read.
 *
 * The pieces are read into two buffers by turns (`into` and `into.other`, which a worker keeps
 * from layer to layer), not into new memory each: fresh memory costs a page fault every 4 KiB,
 * which cost the page's pull of 500 MB about 1.5 s of CPU. Reading into a buffer detaches the
 * views of it handed out before, so within a layer a buffer is read into again only where the
 * decoder lets go of chunks (setReadBufferReuse) and READ_BUFFER_REUSE_MARGIN bytes have been
 * handed out since its views were (the page's 16 MiB ranges; small pieces get new memory). Were
 * the decoder ever to keep one, it would see it empty and the layer's diffId would not match:
 * refused, never stored. A layer cut short leaves both buffers behind (ingestArchiveEntry).
 */
function readPieces(
  p: BlobPieces,
  into: ReadBuffer = {},
): WholeSource & { bytes: AsyncIterable<Uint8Array> } {
  const parts: Blob[] = [];
  return {
    size: p.size,
    blob: () => new Blob(parts),
    bytes: (async function* () {
      // The next piece is asked for (a request: fetched) while this one is read and decoded, so
      // the reader does not wait for the network between pieces. One piece ahead at most.
      const it = p.pieces[Symbol.asyncIterator]();
      const ahead = async (): Promise<Blob | undefined> => {
        const r = await it.next();
        return r.done ? undefined : pieceBlob(p, r.value);
      };
      let next = ahead();
      into.other ??= {};
      const buffers = [into, into.other];
      /** Bytes handed out so far, and when each buffer's views last went out. */
      let handed = 0;
      const lastHanded = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
      let turn = 0;
      try {
        for (let piece = await next; piece; piece = await next) {
          next = ahead();
          next.catch(() => {});
          parts.push(piece);
          const k = turn++ % 2;
          const buffer = buffers[k]!;
          // A buffer the last layer used is free (its decoder is done); one this layer used only
          // as said above.
          const used = lastHanded[k] !== Number.NEGATIVE_INFINITY;
          if (used && !(reuseWithinLayer && handed - lastHanded[k]! >= READ_BUFFER_REUSE_MARGIN))
            buffer.buffer = undefined;
          const bytes = await readBlobWhole(piece, buffer, p.largest);
          yield* streamBytes(bytes, [HELD_CHUNK_BYTES]);
          handed += bytes.byteLength;
          lastHanded[k] = handed;
          buffer.buffer = bytes.buffer as ArrayBuffer;
        }
      } finally {
        // Stopped early (a failure, a cancel): the source is ended once the piece ahead settles,
        // without holding up the failure itself.
        void next
          .catch(() => undefined)
          .then(() => it.return?.())
          .catch(() => {});
      }
    })(),
  };
}

/** A real Blob (a File or a slice of one), which a store may adopt without reading it again. */
export function isBlob(b: unknown): b is Blob {
  return typeof Blob === "function" && b instanceof Blob;
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
