import { createSha256, type Digest } from "../digest.ts";
import { DigestMismatchError, throwIfAborted } from "../errors.ts";
import type { PutOptions } from "./types.ts";

/**
 * Hashes a stream while handing each chunk to `write`, then checks the digest.
 * Throws (after the stream is drained or aborted) when the digest is not the expected one;
 * the caller discards what it wrote.
 */
export async function ingest(
  source: AsyncIterable<Uint8Array>,
  options: PutOptions | undefined,
  write: (chunk: Uint8Array) => void | Promise<void>,
): Promise<{ digest: Digest; size: number }> {
  const hash = await createSha256();
  let size = 0;
  for await (const chunk of source) {
    throwIfAborted(options?.signal, "storing a blob");
    hash.update(chunk);
    size += chunk.byteLength;
    await write(chunk);
  }
  throwIfAborted(options?.signal, "storing a blob");
  const digest = hash.finish();
  if (options?.expected && options.expected !== digest) {
    throw new DigestMismatchError(options.expected, digest, "blob");
  }
  return { digest, size };
}
