/**
 * Blobs that are byte ranges of files on disk, known as such wherever they go: the temp-file store
 * adopts an archive's slice by reference (the layer is never copied to disk again), and the CLI's
 * fetch sends one from the file itself (upload-fetch.ts). A slice of such a Blob is one too, and
 * its stream reads the file 2 MiB at a time.
 */

import { openAsBlob } from "node:fs";
import { open } from "node:fs/promises";

/** A byte range of a file on disk. */
export interface FileRange {
  path: string;
  start: number;
  end: number;
}

/** The Blobs that are ranges of files, and their ranges. */
const ranges = new WeakMap<Blob, FileRange>();

/**
 * Bytes per read of a range's stream: Node's own file-backed Blob reads 64 KiB at a time, each a
 * trip through libuv's thread pool, and a push's digest checks of a 500 MB archive spent about half
 * their time waiting on them.
 */
const SLICE_READ_BYTES = 2 << 20;

/** Bytes [start, end) of a file as a Blob whose slices stay ranges of the file. */
export async function fileRangeBlob(path: string, start: number, end: number): Promise<Blob> {
  return rangeOf(await openAsBlob(path), { path, start, end });
}

/** The range `r` of `file` (the Blob of the file at `r.path`), as such a Blob. */
export function rangeOf(file: Blob, r: FileRange): Blob {
  const b = file.slice(r.start, r.end);
  ranges.set(b, r);
  const size = r.end - r.start;
  // Blob#slice's arguments: relative to this range, negative from its end, clamped.
  const at = (x: number | undefined, otherwise: number) =>
    x === undefined ? otherwise : x < 0 ? Math.max(size + Math.trunc(x), 0) : Math.min(Math.trunc(x), size);
  Object.defineProperties(b, {
    slice: {
      value: (s?: number, e?: number) => {
        const from = at(s, 0);
        const to = Math.max(from, at(e, size));
        return rangeOf(file, { path: r.path, start: r.start + from, end: r.start + to });
      },
    },
    stream: { value: () => rangeStream(r) },
  });
  return b;
}

/** The file range a Blob is, if it is one. */
export function fileRangeOf(blob: Blob): FileRange | undefined {
  return ranges.get(blob);
}

/** A file range as a stream, SLICE_READ_BYTES a read. */
function rangeStream({ path, start, end }: FileRange): ReadableStream<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let at = start;
  const close = async () => {
    const f = fh;
    fh = undefined;
    await f?.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        fh ??= await open(path, "r");
        const n = Math.min(SLICE_READ_BYTES, end - at);
        const bytes = n > 0 ? new Uint8Array(n) : undefined;
        const read = bytes ? (await fh.read(bytes, 0, n, at)).bytesRead : 0;
        // A file cut short ends the stream early: the reader counts the bytes and says so.
        if (read === 0) {
          await close();
          controller.close();
          return;
        }
        at += read;
        controller.enqueue(read < n ? bytes!.subarray(0, read) : bytes!);
      } catch (err) {
        await close().catch(() => {});
        controller.error(err);
      }
    },
    cancel: close,
  });
}
