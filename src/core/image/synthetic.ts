import type { TarWriteEntry } from "../archive/tar-writer.ts";

/** The shape of a generated image: N layers holding M files of S bytes in all. */
export interface SyntheticSpec {
  layers: number;
  files: number;
  /** Uncompressed bytes of file content over all layers. */
  bytes: number;
  seed?: number;
}

/** A small deterministic PRNG (mulberry32): numbers in [0, 1) from a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "the of and to in is that for it as with was on be by this are or from at an but not have all can which one their has were more will about if out up so what when them into some other than then time only its also use two how our first way may been these new any work like well such even because through".split(
    " ",
  );

let pool: Uint8Array | undefined;
/** 4 MiB of text-like bytes (gzip shrinks it about 3x, like real files), made once. */
function textPool(): Uint8Array {
  if (pool) return pool;
  const rnd = prng(42);
  const out = new Uint8Array(4 << 20);
  const enc = new TextEncoder();
  let at = 0;
  while (at < out.byteLength) {
    const w = enc.encode(`${WORDS[Math.floor(rnd() * WORDS.length)]}${rnd() < 0.08 ? "\n" : " "}`);
    const n = Math.min(w.byteLength, out.byteLength - at);
    out.set(w.subarray(0, n), at);
    at += n;
  }
  pool = out;
  return out;
}

async function* content(size: number, seed: number): AsyncGenerator<Uint8Array> {
  const p = textPool();
  const rnd = prng(seed);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, 256 * 1024);
    const from = Math.floor(rnd() * (p.byteLength - n));
    yield p.subarray(from, from + n);
    left -= n;
  }
}

/**
 * The entries of one layer of a synthetic image, deterministic for the spec: directories of up to
 * 100 files, sizes spread around the mean (a few large files, many small ones), text-like contents
 * generated as they are written (nothing held in memory).
 */
export function syntheticLayerEntries(spec: SyntheticSpec, layer: number): TarWriteEntry[] {
  const seed = (spec.seed ?? 1) * 1000 + layer;
  const rnd = prng(seed);
  const files = Math.floor(spec.files / spec.layers) + (layer < spec.files % spec.layers ? 1 : 0);
  const budget = Math.floor(spec.bytes / spec.layers);
  // Relative weights: exponential-ish spread, normalized to the layer's byte budget.
  const weights = Array.from({ length: files }, () => -Math.log(1 - rnd() * 0.999));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const sizes = weights.map((w) => Math.floor((w / total) * budget));
  sizes[0] = (sizes[0] ?? 0) + budget - sizes.reduce((a, b) => a + b, 0);
  const entries: TarWriteEntry[] = [{ name: `layer${layer}`, type: "dir", mtime: 1_700_000_000 }];
  for (let i = 0; i < files; i++) {
    if (i % 100 === 0) entries.push({ name: `layer${layer}/d${i / 100}`, type: "dir", mtime: 1_700_000_000 });
    const size = sizes[i]!;
    entries.push({
      name: `layer${layer}/d${Math.floor(i / 100)}/f${i}.txt`,
      size,
      body: content(size, seed * 100_003 + i),
      mtime: 1_700_000_000,
    });
  }
  return entries;
}
