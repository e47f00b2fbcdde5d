import { Gunzip, Gzip } from "fflate";
import { Decompress as ZstdDecompress } from "fzstd";
import { ArchiveError } from "../errors.ts";
import { rechunk } from "../store/chunks.ts";
import { asyncIterable } from "./bytes.ts";

/** How a blob is compressed, judged by its first bytes. */
export type Compression = "gzip" | "zstd" | "none";

/** Bytes needed to tell the compressions apart. */
export const SNIFF_BYTES = 4;

/** Judges the compression from a blob's first bytes (gzip 1f 8b, zstd 28 b5 2f fd). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.byteLength >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    return "zstd";
  }
  return "none";
}

/** Reads the first `n` bytes of a stream and gives them back with a stream of the whole. */
export async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    taken.push(r.value);
    have += r.value.byteLength;
  }
  const head = new Uint8Array(Math.min(n, have));
  let at = 0;
  for (const t of taken) {
    if (at >= head.byteLength) break;
    const part = t.subarray(0, head.byteLength - at);
    head.set(part, at);
    at += part.byteLength;
  }
  async function* stream(): AsyncGenerator<Uint8Array> {
    let ended = done;
    try {
      for (const t of taken) yield t;
      if (done) return;
      for (;;) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (err) {
          ended = true; // a source that failed is over: nothing to stop
          throw err;
        }
        if (r.done) {
          ended = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // A consumer that stops early stops the source too (a file closed, a decoder torn down).
      if (!ended) await it.return?.();
    }
  }
  return { head, stream: stream() };
}

/**
 * Which gzip decoder to use: fflate (JavaScript) or the platform's native zlib (a decoder plugged
 * in with setPlatformGunzip, else DecompressionStream).
 */
export type GzipEngine = "fflate" | "native";

/** A gzip decoder of the platform: the bytes of one gzip stream (any members) in, decoded bytes out. */
export type PlatformGunzip = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

let platformGunzip: PlatformGunzip | undefined;

/**
 * Plugs in the platform's own gzip decoder for the "native" engine (the command line plugs in
 * node:zlib, which decoded gzip about 3x faster than Node's DecompressionStream); undefined
 * goes back to DecompressionStream. Errors and limits are the same whichever decodes.
 */
export function setPlatformGunzip(decoder: PlatformGunzip | undefined): void {
  platformGunzip = decoder;
}

/** The faster engine where it exists: native zlib decoded gzip about 2x faster than fflate in the import benchmark. */
export function defaultGzipEngine(): GzipEngine {
  return platformGunzip || typeof DecompressionStream === "function" ? "native" : "fflate";
}

/** Options of a decompression stream. */
export interface DecompressOptions {
  /** gzip decoder; default defaultGzipEngine(). */
  gzipEngine?: GzipEngine;
  /** Output beyond this many bytes ends the stream with ARCHIVE_TOO_LARGE (a decompression bomb). */
  limit?: number;
  /** Names the blob in errors. */
  entry?: string;
  /**
   * The caller is done with each chunk when it asks for the next and keeps no view of it: the
   * memory of DecompressionStream's chunks is then freed at once (see freeNow), not at the next
   * major garbage collection.
   */
  release?: boolean;
}

type Pusher = { push(chunk: Uint8Array, final?: boolean): void };

/**
 * Decompresses a gzip (fflate, multi-member) or zstd (fzstd, multi-frame) stream chunk by chunk,
 * so memory stays bounded by one chunk's expansion (plus zstd's window).
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  kind: Compression,
  options: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (kind === "none") {
    let n = 0;
    for await (const c of source) {
      n += c.byteLength;
      if (n > limit) throw tooLarge(limit, options.entry);
      yield c;
    }
    return;
  }
  if (kind === "gzip" && (options.gzipEngine ?? defaultGzipEngine()) === "native") {
    const decoder = platformGunzip ?? webGunzip;
    // Only DecompressionStream's chunks are known to be new buffers of their own.
    const release = options.release === true && decoder === webGunzip;
    yield* decompressWith(decoder, source, limit, options.entry, release);
    return;
  }
  const out: Uint8Array[] = [];
  let produced = 0;
  const ondata = (chunk: Uint8Array) => {
    if (chunk.byteLength === 0) return;
    produced += chunk.byteLength;
    if (produced > limit) throw tooLarge(limit, options.entry);
    out.push(chunk);
  };
  let engine: Pusher;
  // fflate checks no gzip trailer, so a cut-off stream would end quietly: compare ISIZE ourselves.
  let memberStart = 0;
  const tail = new Uint8Array(8);
  let tailFill = 0;
  if (kind === "gzip") {
    const g = new Gunzip((chunk) => ondata(chunk));
    g.onmember = () => {
      memberStart = produced;
    };
    engine = g;
  } else {
    const z = new ZstdDecompress((chunk) => ondata(chunk));
    engine = z;
  }
  let headerChecked = kind !== "zstd";
  // fflate and fzstd decode whole pushed chunks at once; slicing bounds the output of each call.
  const STEP = kind === "gzip" ? 64 * 1024 : 1 << 20;
  let sawInput = false;
  const feed = (chunk: Uint8Array, final: boolean) => {
    try {
      engine.push(chunk, final);
    } catch (err) {
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError(`corrupt ${kind} data: ${(err as Error)?.message ?? String(err)}`, {
        entry: options.entry,
      });
    }
  };
  for await (const chunk of source) {
    for (let at = 0; at < chunk.byteLength; at += STEP) {
      sawInput = true;
      const piece = chunk.subarray(at, Math.min(chunk.byteLength, at + STEP));
      if (kind === "gzip") keepTail(piece);
      if (!headerChecked && piece.byteLength >= 14) {
        // fzstd allocates the window a frame declares up front: refuse absurd ones before it does.
        headerChecked = true;
        const declared = zstdWindow(piece);
        if (declared > Math.min(limit, MAX_ZSTD_WINDOW)) {
          throw new ArchiveError(
            `zstd frame declares a ${declared}-byte window, over the limit of ${Math.min(limit, MAX_ZSTD_WINDOW)}`,
            { entry: options.entry },
            "ARCHIVE_TOO_LARGE",
          );
        }
      }
      feed(piece, false);
      while (out.length) yield out.shift()!;
    }
  }
  if (!sawInput) throw new ArchiveError(`empty ${kind} stream`, { entry: options.entry });
  feed(new Uint8Array(0), true);
  while (out.length) yield out.shift()!;
  if (kind === "gzip") {
    const isize =
      tailFill < 8 ? -1 : (tail[4]! | (tail[5]! << 8) | (tail[6]! << 16) | (tail[7]! << 24)) >>> 0;
    if (isize !== (produced - memberStart) % 2 ** 32) {
      throw new ArchiveError("truncated or corrupt gzip data (its trailer does not match)", {
        entry: options.entry,
      });
    }
  }

  function keepTail(piece: Uint8Array): void {
    if (piece.byteLength >= 8) {
      tail.set(piece.subarray(piece.byteLength - 8));
      tailFill = 8;
      return;
    }
    const keep = Math.min(tailFill, 8 - piece.byteLength);
    tail.copyWithin(0, tailFill - keep, tailFill);
    tail.set(piece, keep);
    tailFill = keep + piece.byteLength;
  }
}

/** Largest zstd window accepted (zstd's own decoder default limit is 128 MiB; --long=31 needs 2 GiB). */
const MAX_ZSTD_WINDOW = 256 * 1024 * 1024;

/** The window (or, for single-segment frames, content) size a zstd frame header declares. */
export function zstdWindow(head: Uint8Array): number {
  if (sniffCompression(head) !== "zstd" || head.byteLength < 6) return 0;
  const flags = head[4]!;
  const singleSegment = (flags >> 5) & 1;
  const fcsFlag = flags >> 6;
  if (!singleSegment) {
    const wd = head[5]!;
    const base = 2 ** (10 + (wd >> 3));
    return base + (base / 8) * (wd & 7);
  }
  const dictBytes = [0, 1, 2, 4][flags & 3]!;
  const at = 5 + dictBytes;
  const size = [1, 2, 4, 8][fcsFlag]!;
  let n = 0;
  for (let i = size - 1; i >= 0; i--) n = n * 256 + (head[at + i] ?? 0);
  return fcsFlag === 1 ? n + 256 : n;
}

/**
 * gzip through the platform's DecompressionStream, piped natively: in Chromium this decoded about
 * 10-15% faster than feeding a writer and draining a reader by hand.
 */
const webGunzip: PlatformGunzip = (source) => {
  const it = source[Symbol.asyncIterator]();
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value as Uint8Array<ArrayBuffer>);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
  return asyncIterable(input.pipeThrough(new DecompressionStream("gzip")));
};

let sink: MessagePort | undefined;

/**
 * Frees a chunk's memory now, when its ArrayBuffer is its own: the buffer is transferred into a
 * message on a port whose other end is closed, so the transfer takes the bytes out of the chunk
 * (leaving it empty) and the undelivered message lets them go. Chromium's DecompressionStream
 * gives every 64 KB of output a new buffer that otherwise lives until a major garbage collection:
 * in the 500 MB import that was up to about 70 MB per worker, and refilling the memory the
 * collector returned cost page faults. Where the buffer cannot be transferred nothing happens.
 */
export function freeNow(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (typeof MessageChannel !== "function" || !(buffer instanceof ArrayBuffer)) return;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || buffer.byteLength === 0) return;
  if (!sink) {
    const channel = new MessageChannel();
    channel.port2.close();
    sink = channel.port1;
  }
  try {
    sink.postMessage(undefined, [buffer]);
  } catch {
    // Not transferable (a pooled or an already transferred buffer): left to the collector.
  }
}

/** gzip through a platform decoder, with the same limits and errors whichever it is. */
async function* decompressWith(
  decoder: PlatformGunzip,
  source: AsyncIterable<Uint8Array>,
  limit: number,
  entry: string | undefined,
  release = false,
): AsyncGenerator<Uint8Array> {
  let sourceError: { err: unknown } | undefined;
  let sawInput = false;
  const tracked = (async function* () {
    try {
      for await (const c of source) {
        if (c.byteLength > 0) sawInput = true;
        yield c;
      }
    } catch (err) {
      sourceError = { err };
      throw err;
    }
  })();
  let produced = 0;
  try {
    for await (const c of decoder(tracked)) {
      produced += c.byteLength;
      if (produced > limit) throw tooLarge(limit, entry);
      yield c;
      if (release) freeNow(c);
    }
  } catch (err) {
    // The source failed (not the gzip data): pass its error on unchanged.
    if (sourceError) throw sourceError.err;
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`corrupt gzip data: ${(err as Error)?.message ?? String(err)}`, { entry });
  }
  if (!sawInput) throw new ArchiveError("empty gzip stream", { entry });
}

function tooLarge(limit: number, entry: string | undefined): ArchiveError {
  return new ArchiveError(
    `decompressed data exceeds the limit of ${limit} bytes (a decompression bomb?)`,
    { entry },
    "ARCHIVE_TOO_LARGE",
  );
}

/**
 * Gzips a stream deterministically (no name, mtime 0, fixed level), so the same bytes in always
 * give the same bytes out.
 */
export async function* gzip(
  source: AsyncIterable<Uint8Array>,
  level: 1 | 6 | 9 = 6,
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const g = new Gzip({ level, mtime: 0 }, (chunk) => {
    if (chunk.byteLength) out.push(chunk);
  });
  // Fixed-size pushes: fflate's output depends on where pushes split the input.
  for await (const chunk of rechunk(source, 256 * 1024)) {
    g.push(chunk, false);
    while (out.length) yield out.shift()!;
  }
  g.push(new Uint8Array(0), true);
  while (out.length) yield out.shift()!;
}
