/**
 * Image archive files as every command that reads one (inspect, run, convert, push, build --load)
 * opens them: a tar, or a tar compressed with gzip or zstd (`docker save | gzip > x.tar.gz`, which
 * `docker load` accepts), told apart by their first bytes and streamed, never read whole.
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Compression, sniffCompression } from "../core/archive/compression.ts";
import { BLOCK } from "../core/archive/tar-header.ts";
import type { RandomAccess } from "../core/archive/tar-reader.ts";
import { isTarBlock, openTarStream } from "../core/archive/tar-stream.ts";
import { LayerLabError } from "../core/errors.ts";
import { openFileRanges } from "./file-store.ts";

/** An archive file opened for importArchive. */
export interface ArchiveFile {
  /** The file by byte ranges (a plain tar, when ranges were asked for), else the tar as a stream. */
  source: AsyncIterable<Uint8Array> | RandomAccess;
  compression: Compression;
  /** The tar's size when it is known without reading it all (a plain tar's file size), for progress. */
  tarBytes?: number;
}

async function* readFile(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Uint8Array;
}

/** The first bytes of a file (fewer when it is shorter). */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const head = new Uint8Array(n);
    const { bytesRead } = await fh.read(head, 0, n, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Opens the archive at `path` (relative to `cwd`; errors name it as given). With `byRanges`, a
 * plain tar is read by byte ranges (entries in parallel, layers adoptable where they lie); a
 * compressed one can only be read in order, so it is always a stream, decompressed as it is read.
 * Neither a tar nor a compressed tar: an ArchiveError naming the file.
 */
export async function openArchiveFile(
  path: string,
  cwd: string,
  options: { byRanges?: boolean } = {},
): Promise<ArchiveFile> {
  const file = resolve(cwd, path);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new LayerLabError("NOT_FOUND", `cannot read '${path}': not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof LayerLabError) throw err;
    throw new LayerLabError("NOT_FOUND", `cannot read '${path}': no such file`);
  }
  const head = options.byRanges ? await readHead(file, BLOCK) : undefined;
  if (head && sniffCompression(head) === "none" && isTarBlock(head)) {
    return { source: await openFileRanges(file), compression: "none", tarBytes: size };
  }
  const { compression, tar } = await openTarStream(readFile(file), path);
  return { source: tar, compression, ...(compression === "none" ? { tarBytes: size } : {}) };
}
