import { createSHA256 } from "hash-wasm";

/** A content digest in OCI form, `sha256:<64 lowercase hex>`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** True when the text is a well-formed sha256 digest. */
export function isDigest(text: string): text is Digest {
  return DIGEST_RE.test(text);
}

/** An incremental sha256: feed bytes with update, read the digest once with finish. */
export interface Sha256 {
  update(bytes: Uint8Array): void;
  finish(): Digest;
}

/** Starts a streaming sha256 (WebAssembly; the same code in a page, a worker and Node). */
export async function createSha256(): Promise<Sha256> {
  const h = await createSHA256();
  h.init();
  return {
    update(bytes) {
      h.update(bytes);
    },
    finish() {
      return `sha256:${h.digest("hex")}`;
    },
  };
}

/** The sha256 digest of bytes held in memory. */
export async function sha256(bytes: Uint8Array | string): Promise<Digest> {
  const h = await createSha256();
  h.update(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  return h.finish();
}

/** The 12-hex-digit short form people see (as `docker images` shows IDs). */
export function shortDigest(digest: string): string {
  const hex = digest.startsWith("sha256:") ? digest.slice(7) : digest;
  return hex.slice(0, 12);
}
