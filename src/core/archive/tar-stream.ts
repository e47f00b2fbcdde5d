import { ArchiveError } from "../errors.ts";
import { asyncIterable } from "./bytes.ts";
import { type Compression, decompress, type GzipEngine, peek, sniffCompression } from "./compression.ts";
import { BLOCK, checksumOk, isZeroBlock } from "./tar-header.ts";

/**
 * Whether a tar could start with these bytes: a header block whose checksum holds (every tar
 * flavour has one, unlike the `ustar` magic, which V7 tars lack), or the zero block of an empty tar.
 */
export function isTarBlock(head: Uint8Array): boolean {
  return head.byteLength >= BLOCK && (isZeroBlock(head) || checksumOk(head));
}

/**
 * The most bytes a compressed image archive may expand to before it is refused as a decompression
 * bomb: room for the most all of an import's layers may hold together (ImportLimits.maxTotalBytes,
 * 128 GiB; a compressed layer inside takes no more than that) and a gibibyte of JSON, tar headers
 * and what compressing incompressible layers again adds.
 */
export const MAX_ARCHIVE_TAR_BYTES = 129 * 2 ** 30;

/** Options of openTarStream. */
export interface OpenTarOptions {
  /** Decompressed bytes beyond this fail the read with ARCHIVE_TOO_LARGE (default MAX_ARCHIVE_TAR_BYTES). */
  limit?: number;
  /** gzip decoder (default: the platform's where there is one). */
  gzipEngine?: GzipEngine;
}

/** An archive opened by openTarStream: how it was compressed, and the tar's bytes. */
export interface TarStream {
  compression: Compression;
  /** The tar, decompressed as it is read (the source's own chunks when it was not compressed). */
  tar: AsyncIterable<Uint8Array>;
}

/** Stops a source that will not be read on (a file stream is closed). */
async function stop(source: AsyncIterable<Uint8Array>): Promise<void> {
  await source[Symbol.asyncIterator]().return?.();
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");

/**
 * Opens an image archive given as a stream, a tar as `docker save` writes it or that tar gzip- or
 * zstd-compressed (`docker save | gzip`, which `docker load` accepts too), told apart by their
 * first bytes, never by a file name. Only the first block is read before it returns; the rest is
 * decompressed as the caller reads. Anything else is refused with an ArchiveError naming `name`
 * (the file, as the person gave it) and the bytes it starts with; a compressed stream that is
 * cut off or corrupt fails while it is read, naming `name` too.
 */
export async function openTarStream(
  source: AsyncIterable<Uint8Array>,
  name: string,
  options: OpenTarOptions = {},
): Promise<TarStream> {
  const raw = await peek(source, BLOCK);
  if (raw.head.byteLength === 0) throw new ArchiveError("empty file: not an image archive", { entry: name });
  const compression = sniffCompression(raw.head);
  if (compression === "none") {
    if (!isTarBlock(raw.head)) {
      await stop(source);
      throw new ArchiveError(
        `not an image archive: neither a tar nor a gzip- or zstd-compressed tar (it starts ${hex(raw.head)})`,
        { entry: name },
      );
    }
    return { compression, tar: raw.stream };
  }
  const inner = await peek(
    decompress(raw.stream, compression, {
      entry: name,
      limit: options.limit ?? MAX_ARCHIVE_TAR_BYTES,
      gzipEngine: options.gzipEngine,
    }),
    BLOCK,
  );
  if (!isTarBlock(inner.head)) {
    await stop(source);
    throw new ArchiveError(
      `${compression}-compressed, but what it holds is not a tar: not an image archive` +
        (inner.head.byteLength ? ` (it starts ${hex(inner.head)} once decompressed)` : ""),
      { entry: name },
    );
  }
  return { compression, tar: inner.stream };
}

/**
 * An image archive file (a File the person picked or dropped) as an import reads it: a plain tar
 * by byte ranges (entries in parallel, layers adopted where they lie in the file), a compressed
 * one as the tar it holds, decompressed as it is read.
 */
export type ArchiveBlob =
  | { kind: "ranges"; file: Blob }
  | {
      kind: "stream";
      compression: Exclude<Compression, "none">;
      tar: AsyncIterable<Uint8Array>;
      /** Bytes of the compressed file read so far: the one honest measure of progress (its tar's size is unknown). */
      fileBytesRead(): number;
    };

/**
 * Opens an image archive file for importArchive, told by its first bytes, never by its name. Only
 * gzip or zstd (`docker save | gzip > x.tar.gz`) makes it a stream: every other file goes to the
 * byte-range reader as it always did, which judges it (a plain tar, or not a tar archive). A
 * compressed one that is not a tar is refused here, and one that is cut off, corrupt or expands
 * beyond `options.limit` fails as it is read; each ArchiveError names `name`.
 */
export async function openArchiveBlob(
  file: Blob,
  name: string,
  options: OpenTarOptions = {},
): Promise<ArchiveBlob> {
  const head = new Uint8Array(await file.slice(0, BLOCK).arrayBuffer());
  const compression = sniffCompression(head);
  if (compression === "none") return { kind: "ranges", file };
  let read = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of asyncIterable(file.stream())) {
      read += chunk.byteLength;
      yield chunk;
    }
  }
  const opened = await openTarStream(counted(), name, options);
  return { kind: "stream", compression, tar: opened.tar, fileBytesRead: () => read };
}
