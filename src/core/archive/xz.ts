/**
 * xz decompression (the format of `tar cJf`) for ADD's extraction of .tar.xz, in the browser, the
 * worker and Node alike. The decoding is the `xz-decompress` package: xz-embedded compiled to
 * WebAssembly (inlined as base64, so no fetch of a .wasm file in any build), which verifies every
 * header, index and block check (CRC32, CRC64) and decodes concatenated streams. Here: a streaming
 * wrapper over its ReadableStream with LayerLab's errors, a bomb limit and cancellation.
 */
import xzDecompress from "xz-decompress";
import { ArchiveError } from "../errors.ts";

// A UMD bundle: Node's ESM loader sees only its default export (module.exports), so no named import.
const { XzReadableStream } = xzDecompress;

/** Options of unxz. */
export interface UnxzOptions {
  /** Most bytes the output may reach before the archive is refused as a bomb (default 4 GiB). */
  limit?: number;
  /** The archive's name in errors (the ADD source). */
  entry: string;
}

/** xz-embedded's `enum xz_ret` values past XZ_STREAM_END, as a person can act on them. */
const REASONS: Record<number, string> = {
  2: "it uses an integrity check this decoder does not know",
  3: "out of memory",
  4: "it needs a dictionary larger than 64 MiB",
  5: "not xz data (no xz stream header)",
  6: "it uses options this decoder does not support (a filter other than LZMA2, or a SHA-256 check)",
  7: "corrupt data (an integrity check failed or the compressed data is damaged)",
  8: "the data ends early (truncated)",
};

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/**
 * Decompresses an xz stream (or several concatenated) as it arrives, verifying every check. Throws
 * an ArchiveError naming `entry` for anything that is not a whole, intact xz stream, and one with
 * code ARCHIVE_TOO_LARGE once the output passes `limit`.
 */
export async function* unxz(
  source: AsyncIterable<Uint8Array>,
  options: UnxzOptions,
): AsyncGenerator<Uint8Array> {
  const limit = options.limit ?? 4 * 2 ** 30;
  const entry = options.entry;
  const input = source[Symbol.asyncIterator]();
  let first: Uint8Array | undefined;
  // The first bytes say whether this is xz at all (the package would otherwise fail obscurely on
  // empty input), and empty chunks are dropped: the decoder reads an empty chunk as the end.
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    for (;;) {
      const r = await input.next();
      if (r.done) return undefined;
      if (r.value.byteLength > 0) return r.value;
    }
  };
  first = await nextChunk();
  if (!first || XZ_MAGIC.some((b, i) => first!.length > i && first![i] !== b)) {
    await input.return?.();
    throw new ArchiveError(`xz: ${REASONS[5]}`, { entry });
  }
  const compressed = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = first ?? (await nextChunk());
        first = undefined;
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
      async cancel() {
        await input.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  // The package lets one stream decode at a time and frees its turn only at the end, on an error
  // or on cancel: every way out below must reach one of the three.
  const reader = (new XzReadableStream(compressed) as ReadableStream<Uint8Array>).getReader();
  let produced = 0;
  let done = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        done = true;
        throw new ArchiveError(`xz: ${reasonOf(err)} (after ${produced} bytes of output)`, { entry });
      }
      if (r.done) {
        done = true;
        return;
      }
      if (r.value.byteLength === 0) continue;
      produced += r.value.byteLength;
      if (produced > limit)
        throw new ArchiveError(`xz: larger than the limit of ${limit} bytes`, { entry }, "ARCHIVE_TOO_LARGE");
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Decompresses a whole xz input held in memory (ADD reads its source whole) into one buffer. */
export async function unxzBytes(data: Uint8Array, options: UnxzOptions): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of unxz(
    (async function* () {
      yield data;
    })(),
    options,
  )) {
    parts.push(c);
    n += c.byteLength;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The package reports xz-embedded's code in its message ("... failed with error code 7"). */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = /error code (\d+)/.exec(message)?.[1];
  return code === undefined ? message : (REASONS[Number(code)] ?? `decoder error ${code}`);
}
