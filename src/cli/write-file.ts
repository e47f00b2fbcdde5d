import { once } from "node:events";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import type { Writable } from "node:stream";
import { StorageFullError } from "../core/errors.ts";
import { formatBytes } from "../core/format.ts";
import { isStorageFull } from "../core/store/faults.ts";

/** The file system calls `writeFileWhole` makes (a test passes ones that fail). */
export interface WriteFs {
  createWriteStream(path: string): Writable;
  renameSync(from: string, to: string): void;
  rmSync(path: string, options: { force: boolean }): void;
}

const nodeFs: WriteFs = { createWriteStream, renameSync, rmSync };

/**
 * Writes a stream of chunks to `target` through `target.partial`, renamed when complete: a
 * failure leaves no file behind. A full disk (ENOSPC, EDQUOT) fails as StorageFullError naming the
 * file and how much was written.
 */
export async function writeFileWhole(
  target: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fs: WriteFs = nodeFs,
): Promise<number> {
  const partial = `${target}.partial`;
  const out = fs.createWriteStream(partial);
  // A write error is raised by the next drain or finish; keep it from going unheard meanwhile.
  let failed: unknown;
  out.on("error", (err) => {
    failed ??= err;
  });
  let written = 0;
  try {
    for await (const chunk of chunks) {
      if (failed) throw failed;
      written += chunk.byteLength;
      if (!out.write(chunk)) await Promise.race([once(out, "drain"), once(out, "close")]);
    }
    if (failed) throw failed;
    out.end();
    await once(out, "finish");
    if (failed) throw failed;
    fs.renameSync(partial, target);
    return written;
  } catch (caught) {
    const err = failed ?? caught;
    out.destroy();
    fs.rmSync(partial, { force: true });
    if (!isStorageFull(err)) throw err;
    throw new StorageFullError(
      `disk full writing ${target}: the disk refused more after about ${formatBytes(written)}; nothing was left behind. Free space on that disk or write to another with -o.`,
      { operation: `writing ${target}`, written },
      { cause: err },
    );
  }
}
