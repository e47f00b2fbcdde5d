import { ArchiveError } from "../errors.ts";
import { type Compression, decompress, peek, sniffCompression } from "./compression.ts";
import { BLOCK, checksumOk, isZeroBlock } from "./tar-header.ts";

/**
 * Whether a tar could start with these bytes: a header block whose checksum holds (every tar
 * flavour has one, unlike the `ustar` magic, which V7 tars lack), or the zero block of an empty tar.
 */
export function isTarBlock(head: Uint8Array): boolean {
  return head.byteLength >= BLOCK && (isZeroBlock(head) || checksumOk(head));
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
export async function openTarStream(source: AsyncIterable<Uint8Array>, name: string): Promise<TarStream> {
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
  const inner = await peek(decompress(raw.stream, compression, { entry: name }), BLOCK);
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
