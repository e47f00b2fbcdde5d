import { createSha256, type Digest, oneShotSha256 } from "../digest.ts";
import { DigestMismatchError, throwIfAborted } from "../errors.ts";
import { once } from "./chunks.ts";
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

/**
 * The digest of bytes held in memory, checked like `ingest` checks a stream's: one native call
 * where the platform has one (WebCrypto), else the streaming hash.
 */
export async function digestHeld(bytes: Uint8Array, options: PutOptions | undefined): Promise<Digest> {
  throwIfAborted(options?.signal, "storing a blob");
  const oneShot = oneShotSha256();
  const digest = oneShot ? await oneShot(bytes) : (await ingest(once(bytes), undefined, () => {})).digest;
  throwIfAborted(options?.signal, "storing a blob");
  if (options?.expected && options.expected !== digest) {
    throw new DigestMismatchError(options.expected, digest, "blob");
  }
  return digest;
}
