import { createSHA256 } from "hash-wasm";
import { createSha256Lanes, MAX_LANES } from "./sha256-lanes.ts";

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

/** A sha256 that is started again with `init` for each new input (one per stream of files). */
export interface ReusableSha256 {
  init(): void;
  update(bytes: Uint8Array): void;
  hex(): string;
}

/** Where sha256 comes from: WebAssembly everywhere by default; Node may plug in its native one. */
export interface Sha256Provider {
  create(): Promise<Sha256>;
  reusable(): Promise<ReusableSha256>;
  /**
   * The digest of bytes held in memory, possibly computed off the calling thread. Optional: where
   * it is missing, whole inputs go through `reusable` too. The bytes are copied when it is called,
   * so the caller may reuse them at once.
   */
  oneShot?(bytes: Uint8Array): Promise<Digest>;
}

/**
 * WebCrypto's digest: native code, with the CPU's SHA extensions where it has them. In Chromium
 * it ran on the calling thread (a worker's), at about 4 µs a call besides the hashing itself.
 */
function webCryptoSha256(bytes: Uint8Array): Promise<Digest> {
  // One promise per input, not an async wrapper around it: a layer has thousands of files.
  return crypto.subtle
    .digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)
    .then((buf): Digest => `sha256:${toHex(new Uint8Array(buf))}`);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/**
 * hash-wasm's WebAssembly sha256 for streams (the same code in a page, a worker and Node), and
 * WebCrypto for whole inputs where the platform has it: in Chromium the per-file digests of a
 * 50 MB layer (5,234 files) took 43 ms of a worker's CPU through WebCrypto and 120 ms through
 * WebAssembly.
 */
export const wasmSha256: Sha256Provider = {
  ...(typeof crypto === "object" && crypto?.subtle ? { oneShot: webCryptoSha256 } : {}),
  async create() {
    const h = await createSHA256();
    h.init();
    return {
      update: (bytes) => void h.update(bytes),
      finish: () => `sha256:${h.digest("hex")}`,
    };
  },
  async reusable() {
    const h = await createSHA256();
    return { init: () => void h.init(), update: (b) => void h.update(b), hex: () => h.digest("hex") };
  },
};

let provider: Sha256Provider = wasmSha256;

/** Replaces the sha256 implementation (Node's command line plugs in node:crypto, about 3x faster). */
export function setSha256Provider(p: Sha256Provider): void {
  provider = p;
}

/** Starts a streaming sha256. */
export function createSha256(): Promise<Sha256> {
  return provider.create();
}

/** A sha256 to be started again for each input with `init`. */
export function createReusableSha256(): Promise<ReusableSha256> {
  return provider.reusable();
}

/**
 * `count` sha256 streams fed side by side on one thread (a layer's blob as it came, its tar and
 * the tar's files): hashed together in WebAssembly SIMD lanes (see sha256-lanes.ts) where the
 * default provider is in use and the platform has SIMD (three streams: about 0.75 of the time of
 * hashing them one by one in Chromium, 0.85 in Node); else one stream of the provider each.
 * `release` once every stream is finished lets the next group on this thread reuse the memory.
 */
export async function createParallelSha256(count: number): Promise<ReusableSha256[] & { release(): void }> {
  if (provider === wasmSha256 && count >= 2 && count <= MAX_LANES) {
    const lanes = await createSha256Lanes(count);
    if (lanes) return lanes;
  }
  const hs = await Promise.all(Array.from({ length: count }, () => provider.reusable()));
  for (const h of hs) h.init();
  return Object.assign(hs, { release: () => {} });
}

/** A ReusableSha256 used once, as a Sha256 (its digest in OCI form). */
export function onceSha256(h: ReusableSha256): Sha256 {
  return { update: (bytes) => h.update(bytes), finish: () => `sha256:${h.hex()}` };
}

/** The provider's one-shot digest of whole inputs, where it has one (see Sha256Provider.oneShot). */
export function oneShotSha256(): ((bytes: Uint8Array) => Promise<Digest>) | undefined {
  return provider.oneShot;
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
