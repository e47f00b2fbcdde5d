/**
 * Deterministic stand-in contents for files whose real bytes the catalog does not carry. The same
 * seed and size always give the same bytes, in one piece or streamed in chunks of any length.
 */

/** Sixteen byte values: each synthesized byte carries 4 bits, so gzip shrinks the data about 2:1 as it does real binaries. */
const ALPHABET = new Uint8Array([
  0x00, 0x20, 0x65, 0x74, 0x61, 0x6f, 0x69, 0x6e, 0x73, 0x72, 0xff, 0x48, 0x89, 0x0a, 0x2f, 0x5f,
]);

/** The 32-bit FNV-1a hash of a string's UTF-16 code units: the seed of a path in a catalog. */
export function seedFor(namespace: string, path: string): number {
  let h = 0x811c9dc5;
  const s = `${namespace}\u0000${path}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xorshift32 state for a seed (never 0, which xorshift cannot leave). */
function initialState(seed: number): number {
  const s = (seed ^ 0x9e3779b9) >>> 0;
  return s === 0 ? 0x2545f491 : s;
}

/** Fills `out` with the bytes that follow `state`; returns the state after them. Writes 8 bytes per step. */
function fill(state: number, out: Uint8Array, start: number, end: number): number {
  let x = state;
  let i = start;
  while (i < end) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let k = 0; k < 8 && i < end; k++, i++) out[i] = ALPHABET[(x >>> (k * 4)) & 15]!;
  }
  return x;
}

/** The whole synthesized content of a file: `size` bytes derived from `seed`. */
export function synthesizeContent(seed: number, size: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`synthesizeContent: bad size ${size}`);
  const out = new Uint8Array(size);
  fill(initialState(seed), out, 0, size);
  return out;
}

/**
 * The same bytes as synthesizeContent(seed, size), in chunks of `chunkSize` (rounded up to a
 * multiple of 8) so large files never sit in memory whole.
 */
export function* synthesizeChunks(seed: number, size: number, chunkSize = 1 << 16): Generator<Uint8Array> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`synthesizeChunks: bad size ${size}`);
  const step = Math.max(8, Math.ceil(chunkSize / 8) * 8);
  let state = initialState(seed);
  for (let done = 0; done < size; done += step) {
    const chunk = new Uint8Array(Math.min(step, size - done));
    state = fill(state, chunk, 0, chunk.length);
    yield chunk;
  }
}
