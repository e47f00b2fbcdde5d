/**
 * Several sha256 digests computed side by side with WebAssembly SIMD: up to four streams (the
 * lanes), each with its own state, hashed 64 bytes at a time in the four 32-bit lanes of v128
 * registers. A layer's ingest hashes three streams over about the same bytes (the blob as it came,
 * its tar for the diffId, and the tar's large files); one four-wide pass over the three costs
 * about 0.75 (Chromium) to 0.85 (Node) of three scalar passes, measured as the ingest feeds them.
 *
 * The module is written here, instruction by instruction (`emitModule`), so there is no build
 * step and no binary in the repository. A lane's bytes are copied into its buffer in the module's
 * memory; when a buffer fills, or a digest is read, the blocks the lanes have in common are hashed
 * four-wide, and what one lane has alone by a scalar function of the same module (a full lane
 * keeps half a buffer back for the others to catch up with). Digests are those of FIPS 180-4
 * (tested against node:crypto on random splits, `sha256-lanes.test.ts`).
 */

/** FIPS 180-4's round constants. */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

/** The initial hash value. */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The most lanes one group hashes at once (the 32-bit lanes of a v128). */
export const MAX_LANES = 4;

/** Bytes of each lane's buffer in the module's memory. */
const LANE_BUFFER = 1024 * 1024;
/** Where the lanes' states are: word i of lane l at STATE + 16 i + 4 l (a v128 per word). */
const STATE = 0;
/** A block of zeros an idle lane reads while the others hash (its state is put back after). */
const IDLE_BLOCK = 128;
/** Where lane l's buffer starts. */
const BUFFERS = 1024;
const PAGES = Math.ceil((BUFFERS + MAX_LANES * LANE_BUFFER) / 65536);

// ---- a small WebAssembly writer: just what the two functions below need ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;

/** Instructions of one function body. */
class Body {
  readonly code: number[] = [];
  get(i: number) {
    this.code.push(0x20, ...uleb(i));
  }
  set(i: number) {
    this.code.push(0x21, ...uleb(i));
  }
  i32(n: number) {
    this.code.push(0x41, ...sleb(n));
  }
  op(...bytes: number[]) {
    this.code.push(...bytes);
  }
  simd(op: number, ...imm: number[]) {
    this.code.push(0xfd, ...uleb(op), ...imm);
  }
}

/** The operations a round needs, over i32 (one lane) or v128 (four). */
interface Ops {
  add(b: Body): void;
  xor(b: Body): void;
  /** Pops x, pushes x rotated right by n. Uses `tmp` (a local of the value type). */
  rotr(b: Body, n: number, tmp: number): void;
  shr(b: Body, n: number): void;
  /** Pops e, f, g (pushed in that order is not possible: see callers), pushes Ch. */
  ch(b: Body, e: number, f: number, g: number): void;
  maj(b: Body, a: number, bb: number, c: number): void;
  constant(b: Body, k: number): void;
}

const scalarOps: Ops = {
  add: (b) => b.op(0x6a),
  xor: (b) => b.op(0x73),
  rotr: (b, n) => {
    b.i32(n);
    b.op(0x78);
  },
  shr: (b, n) => {
    b.i32(n);
    b.op(0x76);
  },
  ch: (b, e, f, g) => {
    // ((f ^ g) & e) ^ g
    b.get(f);
    b.get(g);
    b.op(0x73);
    b.get(e);
    b.op(0x71);
    b.get(g);
    b.op(0x73);
  },
  maj: (b, a, bb, c) => {
    // (a & b) | (c & (a | b))
    b.get(a);
    b.get(bb);
    b.op(0x71);
    b.get(c);
    b.get(a);
    b.get(bb);
    b.op(0x72);
    b.op(0x71);
    b.op(0x72);
  },
  constant: (b, k) => b.i32(k | 0),
};

const simdOps: Ops = {
  add: (b) => b.simd(0xae),
  xor: (b) => b.simd(0x51),
  rotr: (b, n, tmp) => {
    // (x >>> n) | (x << (32 - n))
    b.op(0x22, ...uleb(tmp)); // local.tee
    b.i32(n);
    b.simd(0xad);
    b.get(tmp);
    b.i32(32 - n);
    b.simd(0xab);
    b.simd(0x50);
  },
  shr: (b, n) => {
    b.i32(n);
    b.simd(0xad);
  },
  ch: (b, e, f, g) => {
    // bitselect(f, g, e): f where e has a one, else g
    b.get(f);
    b.get(g);
    b.get(e);
    b.simd(0x52);
  },
  maj: (b, a, bb, c) => {
    // bitselect(b, a, a ^ c): where a and c differ b decides, else a (= c)
    b.get(bb);
    b.get(a);
    b.get(a);
    b.get(c);
    b.simd(0x51);
    b.simd(0x52);
  },
  constant: (b, k) => {
    const bytes: number[] = [];
    for (let l = 0; l < 4; l++) bytes.push(k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, (k >>> 24) & 0xff);
    b.simd(0x0c, ...bytes);
  },
};

/** Σ0, Σ1, σ0, σ1 of the value in local x, pushed. */
function bigSigma(b: Body, ops: Ops, x: number, r: [number, number, number], tmp: number) {
  b.get(x);
  ops.rotr(b, r[0], tmp);
  b.get(x);
  ops.rotr(b, r[1], tmp);
  ops.xor(b);
  b.get(x);
  ops.rotr(b, r[2], tmp);
  ops.xor(b);
}

function smallSigma(b: Body, ops: Ops, x: number, r: [number, number], s: number, tmp: number) {
  b.get(x);
  ops.rotr(b, r[0], tmp);
  b.get(x);
  ops.rotr(b, r[1], tmp);
  ops.xor(b);
  b.get(x);
  ops.shr(b, s);
  ops.xor(b);
}

/**
 * The 64 rounds over one block whose 16 words are in locals w[0..15] (in place, as the schedule
 * goes), the working variables in locals s[0..7] (their roles turn each round, so nothing moves).
 */
function rounds(b: Body, ops: Ops, w: number[], s: number[], t1: number, tmp: number) {
  for (let t = 0; t < 64; t++) {
    const wt = w[t & 15]!;
    if (t >= 16) {
      // w[t] = σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16]
      smallSigma(b, ops, w[(t - 2) & 15]!, [17, 19], 10, tmp);
      b.get(w[(t - 7) & 15]!);
      ops.add(b);
      smallSigma(b, ops, w[(t - 15) & 15]!, [7, 18], 3, tmp);
      ops.add(b);
      b.get(wt);
      ops.add(b);
      b.set(wt);
    }
    const v = (i: number) => s[(i - t) & 7]!;
    const [a, bb, c, d, e, f, g, h] = [v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7)];
    // t1 = h + Σ1(e) + Ch(e, f, g) + K[t] + w[t]
    b.get(h);
    bigSigma(b, ops, e, [6, 11, 25], tmp);
    ops.add(b);
    ops.ch(b, e, f, g);
    ops.add(b);
    ops.constant(b, K[t]!);
    ops.add(b);
    b.get(wt);
    ops.add(b);
    b.set(t1);
    // d += t1
    b.get(d);
    b.get(t1);
    ops.add(b);
    b.set(d);
    // h = t1 + Σ0(a) + Maj(a, b, c): the next round's a
    b.get(t1);
    bigSigma(b, ops, a, [2, 13, 22], tmp);
    ops.add(b);
    ops.maj(b, a, bb, c);
    ops.add(b);
    b.set(h);
  }
}

/**
 * `lanes4(p0, p1, p2, p3, s0, s1, s2, s3, n)`: n blocks for each of the four lanes, lane l's at
 * p_l, p_l + s_l, … (s_l 64, or 0 for an idle lane reading the same block).
 */
function lanes4Body(): { locals: [number, number][]; code: number[] } {
  const b = new Body();
  // params 0..8 (i32); locals: w 9..24, s 25..32, o 33..40, t1 41, tmp 42, r 43..46 (v128)
  const P = [0, 1, 2, 3];
  const S = [4, 5, 6, 7];
  const N = 8;
  const w = Array.from({ length: 16 }, (_, i) => 9 + i);
  const s = Array.from({ length: 8 }, (_, i) => 25 + i);
  const o = Array.from({ length: 8 }, (_, i) => 33 + i);
  const t1 = 41;
  const tmp = 42;
  const r = [43, 44, 45, 46];
  // the state in
  for (let i = 0; i < 8; i++) {
    b.i32(0);
    b.simd(0x00, 4, ...uleb(STATE + 16 * i)); // v128.load align=16
    b.op(0x22, ...uleb(s[i]!)); // tee
    b.set(o[i]!);
  }
  b.op(0x03, 0x40); // loop
  // the block's 16 words, four at a time: each lane's 16 bytes, byte-swapped and transposed
  for (let q = 0; q < 4; q++) {
    for (let l = 0; l < 4; l++) {
      b.get(P[l]!);
      b.simd(0x00, 0, ...uleb(16 * q)); // v128.load align=1 offset
      b.set(r[l]!);
    }
    // t0 = (r0[0], r1[0], r0[1], r1[1]), t1' = (r0[2], r1[2], r0[3], r1[3]), likewise r2/r3,
    // each word byte-swapped as it is picked (big-endian words).
    const word = (src: number, k: number) => {
      const base = src * 16 + k * 4;
      return [base + 3, base + 2, base + 1, base];
    };
    const lo = [...word(0, 0), ...word(1, 0), ...word(0, 1), ...word(1, 1)];
    const hi = [...word(0, 2), ...word(1, 2), ...word(0, 3), ...word(1, 3)];
    const pairs: [number, number][] = [
      [r[0]!, r[1]!],
      [r[2]!, r[3]!],
    ];
    // w[4q..4q+3] hold t's for now: w[4q]=t01lo, w[4q+1]=t01hi, w[4q+2]=t23lo, w[4q+3]=t23hi
    const tl = [w[4 * q]!, w[4 * q + 1]!, w[4 * q + 2]!, w[4 * q + 3]!];
    pairs.forEach(([x, y], k) => {
      b.get(x);
      b.get(y);
      b.simd(0x0d, ...lo);
      b.set(tl[2 * k]!);
      b.get(x);
      b.get(y);
      b.simd(0x0d, ...hi);
      b.set(tl[2 * k + 1]!);
    });
    // columns: c0 = (t01lo.lo64, t23lo.lo64), c1 = (t01lo.hi64, t23lo.hi64), c2, c3 from the hi's
    const lo64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
    const hi64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
    // into r0..r3 first (the t's are read twice), then back into w
    const cols: [number, number, number[]][] = [
      [tl[0]!, tl[2]!, lo64],
      [tl[0]!, tl[2]!, hi64],
      [tl[1]!, tl[3]!, lo64],
      [tl[1]!, tl[3]!, hi64],
    ];
    cols.forEach(([x, y, pat], k) => {
      b.get(x);
      b.get(y);
      b.simd(0x0d, ...pat);
      b.set(r[k]!);
    });
    for (let k = 0; k < 4; k++) {
      b.get(r[k]!);
      b.set(w[4 * q + k]!);
    }
  }
  rounds(b, simdOps, w, s, t1, tmp);
  // add the block's result to the state (64 rounds bring the roles back where they were)
  for (let i = 0; i < 8; i++) {
    b.get(s[i]!);
    b.get(o[i]!);
    b.simd(0xae);
    b.op(0x22, ...uleb(s[i]!));
    b.set(o[i]!);
  }
  for (let l = 0; l < 4; l++) {
    b.get(P[l]!);
    b.get(S[l]!);
    b.op(0x6a);
    b.set(P[l]!);
  }
  b.get(N);
  b.i32(1);
  b.op(0x6b); // sub
  b.op(0x22, ...uleb(N));
  b.op(0x0d, 0); // br_if loop
  b.op(0x0b); // end loop
  for (let i = 0; i < 8; i++) {
    b.i32(0);
    b.get(s[i]!);
    b.simd(0x0b, 4, ...uleb(STATE + 16 * i)); // v128.store
  }
  b.op(0x0b);
  return {
    locals: [[16 + 8 + 8 + 2 + 4, V128]],
    code: b.code,
  };
}

/** `lane1(l, p, n)`: n blocks of lane l alone, from p. */
function lane1Body(): { locals: [number, number][]; code: number[] } {
  const b = new Body();
  // params: l 0, p 1, n 2; locals (i32): base 3, w 4..19, s 20..27, t1 28, tmp 29
  const base = 3;
  const w = Array.from({ length: 16 }, (_, i) => 4 + i);
  const s = Array.from({ length: 8 }, (_, i) => 20 + i);
  const t1 = 28;
  const tmp = 29;
  b.get(0);
  b.i32(2);
  b.op(0x74); // shl
  b.set(base);
  for (let i = 0; i < 8; i++) {
    b.get(base);
    b.op(0x28, 2, ...uleb(STATE + 16 * i)); // i32.load
    b.set(s[i]!);
  }
  b.op(0x03, 0x40);
  for (let t = 0; t < 16; t++) {
    // big-endian word: (rotr(x, 8) & 0xff00ff00) | (rotl(x, 8) & 0x00ff00ff)
    b.get(1);
    b.op(0x28, 0, ...uleb(4 * t));
    b.op(0x22, ...uleb(tmp));
    b.i32(8);
    b.op(0x78);
    b.i32(0xff00ff00 | 0);
    b.op(0x71);
    b.get(tmp);
    b.i32(8);
    b.op(0x77); // rotl
    b.i32(0x00ff00ff);
    b.op(0x71);
    b.op(0x72);
    b.set(w[t]!);
  }
  // keep the block's input state in w? No: reload it from memory after the rounds.
  rounds(b, scalarOps, w, s, t1, tmp);
  for (let i = 0; i < 8; i++) {
    b.get(s[i]!);
    b.get(base);
    b.op(0x28, 2, ...uleb(STATE + 16 * i));
    b.op(0x6a);
    b.op(0x22, ...uleb(s[i]!));
    b.set(tmp);
    b.get(base);
    b.get(tmp);
    b.op(0x36, 2, ...uleb(STATE + 16 * i)); // i32.store
  }
  b.get(1);
  b.i32(64);
  b.op(0x6a);
  b.set(1);
  b.get(2);
  b.i32(1);
  b.op(0x6b);
  b.op(0x22, ...uleb(2));
  b.op(0x0d, 0);
  b.op(0x0b);
  b.op(0x0b);
  return { locals: [[1 + 16 + 8 + 2, I32]], code: b.code };
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** The module's bytes: memory `m`, functions `lanes4` and `lane1`. */
export function emitModule(): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...uleb(9), ...Array(9).fill(I32), 0],
    [0x60, ...uleb(3), I32, I32, I32, 0],
  ]);
  const funcs = vec([[0], [1]]);
  const memory = vec([[0x00, ...uleb(PAGES)]]);
  const exports = vec([
    [...name("m"), 0x02, 0],
    [...name("lanes4"), 0x00, 0],
    [...name("lane1"), 0x00, 1],
  ]);
  const bodies = [lanes4Body(), lane1Body()].map(({ locals, code }) => {
    const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}

interface Exports {
  m: WebAssembly.Memory;
  lanes4(
    p0: number,
    p1: number,
    p2: number,
    p3: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    n: number,
  ): void;
  lane1(lane: number, p: number, n: number): void;
}

let compiled: Promise<WebAssembly.Module | undefined> | undefined;

/** The compiled module, or undefined where WebAssembly or its SIMD is missing. */
function module(): Promise<WebAssembly.Module | undefined> {
  compiled ??= (async () => {
    if (typeof WebAssembly !== "object") return undefined;
    const bytes = emitModule();
    if (!WebAssembly.validate(bytes)) return undefined;
    return WebAssembly.compile(bytes);
  })().catch(() => undefined);
  return compiled;
}

/** Whether this platform can hash in lanes (WebAssembly with SIMD). */
export async function lanesAvailable(): Promise<boolean> {
  return (await module()) !== undefined;
}

/** One stream of a group: a sha256 started again with `init` for each input. */
export interface Sha256Lane {
  init(): void;
  update(bytes: Uint8Array): void;
  /** The digest of what was fed since `init` (as 64 hex digits); the lane is then started again. */
  hex(): string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A group of lanes, and the way to give its instance back when every lane is finished. */
export type Sha256LaneGroup = Sha256Lane[] & {
  /**
   * Gives the group's instance (4 MiB of WebAssembly memory) back for the next group on this
   * thread, which then touches no fresh memory (the page's pull of ten layers: about 3,000 to
   * 5,000 page faults fewer). Only once every lane is finished with: a lane used after it throws.
   */
  release(): void;
};

/** Instances of the module that no group holds, for the next group on this thread. */
const idle: Exports[] = [];
/** At most this many idle instances are kept (one per layer a thread hashes at once, usually one). */
const KEEP_IDLE = 2;

/**
 * Up to four sha256 streams hashed side by side (see the file's comment). Undefined where the
 * platform has no WebAssembly SIMD.
 */
export async function createSha256Lanes(count: number): Promise<Sha256LaneGroup | undefined> {
  if (count < 1 || count > MAX_LANES) throw new RangeError(`1 to ${MAX_LANES} lanes, not ${count}`);
  const mod = await module();
  if (!mod) return undefined;
  const x = idle.pop() ?? ((await WebAssembly.instantiate(mod)).exports as unknown as Exports);
  let released = false;
  const live = () => {
    if (released) throw new Error("a sha256 lane was used after its group was released");
  };
  const mem = new Uint8Array(x.m.buffer);
  const state = new Uint32Array(x.m.buffer, STATE, 8 * 4);
  /** Bytes in each lane's buffer, and how many of them are hashed (whole blocks). */
  const fill = [0, 0, 0, 0];
  const done = [0, 0, 0, 0];
  const total = [0, 0, 0, 0];
  const start = (l: number) => BUFFERS + l * LANE_BUFFER;
  const reset = (l: number) => {
    for (let i = 0; i < 8; i++) state[4 * i + l] = IV[i]!;
    fill[l] = 0;
    done[l] = 0;
    total[l] = 0;
  };
  for (let l = 0; l < count; l++) reset(l);
  const saved = new Uint32Array(8 * MAX_LANES);

  /**
   * Hashes `blocks` blocks of every lane in `active`: three or four lanes four-wide, one or two
   * lane by lane (two lanes in a four-wide pass cost about what they cost one after the other).
   */
  const hashBlocks = (active: number[], blocks: number) => {
    if (active.length <= 2) {
      for (const l of active) {
        x.lane1(l, start(l) + done[l]!, blocks);
        done[l]! += blocks * 64;
      }
      return;
    }
    const p = [IDLE_BLOCK, IDLE_BLOCK, IDLE_BLOCK, IDLE_BLOCK];
    const s = [0, 0, 0, 0];
    for (const l of active) {
      p[l] = start(l) + done[l]!;
      s[l] = 64;
    }
    const idle = [0, 1, 2, 3].filter((l) => s[l] === 0);
    for (const l of idle) for (let i = 0; i < 8; i++) saved[8 * l + i] = state[4 * i + l]!;
    x.lanes4(p[0]!, p[1]!, p[2]!, p[3]!, s[0]!, s[1]!, s[2]!, s[3]!, blocks);
    // An idle lane's state went through the rounds too (over the block of zeros): put it back.
    for (const l of idle) for (let i = 0; i < 8; i++) state[4 * i + l] = saved[8 * l + i]!;
    for (const l of active) done[l]! += blocks * 64;
  };

  /**
   * Makes room in lane `l` (its buffer is full), or hashes all of it (`all`, for its digest).
   * The blocks the lanes have in common go four-wide; what only lane `l` has is hashed alone,
   * but when it is merely full, half a buffer of it is kept back for the other lanes to catch
   * up with (the blob's lane runs ahead of the tar's, by what the decompressor holds).
   */
  const flush = (l: number, all: boolean) => {
    for (;;) {
      const active: number[] = [];
      let fewest = Number.POSITIVE_INFINITY;
      for (let k = 0; k < count; k++) {
        const blocks = (fill[k]! - done[k]!) >>> 6;
        if (blocks > 0) {
          active.push(k);
          fewest = Math.min(fewest, blocks);
        }
      }
      if (active.length < 2) break;
      hashBlocks(active, fewest);
    }
    const keep = all ? 0 : LANE_BUFFER / 2;
    const alone = Math.max(0, fill[l]! - done[l]! - keep) >>> 6;
    if (alone > 0) hashBlocks([l], alone);
    // Each lane's unhashed bytes go to the start of its buffer.
    for (let k = 0; k < count; k++) {
      const rest = fill[k]! - done[k]!;
      if (rest > 0 && done[k]! > 0) mem.copyWithin(start(k), start(k) + done[k]!, start(k) + fill[k]!);
      fill[k] = rest;
      done[k] = 0;
    }
  };

  const lane = (l: number): Sha256Lane => ({
    init: () => {
      live();
      reset(l);
    },
    update(bytes) {
      live();
      total[l]! += bytes.byteLength;
      let at = 0;
      while (at < bytes.byteLength) {
        const n = Math.min(LANE_BUFFER - fill[l]!, bytes.byteLength - at);
        mem.set(bytes.subarray(at, at + n), start(l) + fill[l]!);
        fill[l]! += n;
        at += n;
        if (fill[l] === LANE_BUFFER) flush(l, false);
      }
    },
    hex() {
      live();
      flush(l, true);
      // FIPS 180-4 padding: 0x80, zeros, the length in bits (big-endian, 64 bits).
      const bits = total[l]! * 8;
      let n = fill[l]!;
      const at = start(l);
      mem[at + n++] = 0x80;
      const end = n <= 56 ? 64 : 128;
      mem.fill(0, at + n, at + end - 8);
      const hi = Math.floor(bits / 2 ** 32);
      const lo = bits >>> 0;
      const view = new DataView(x.m.buffer);
      view.setUint32(at + end - 8, hi, false);
      view.setUint32(at + end - 4, lo, false);
      x.lane1(l, at, end / 64);
      let out = "";
      for (let i = 0; i < 8; i++) {
        const v = state[4 * i + l]!;
        out += HEX[v >>> 24]! + HEX[(v >>> 16) & 0xff]! + HEX[(v >>> 8) & 0xff]! + HEX[v & 0xff]!;
      }
      reset(l);
      return out;
    },
  });
  const release = () => {
    if (released) return;
    released = true;
    if (idle.length < KEEP_IDLE) idle.push(x);
  };
  return Object.assign(
    Array.from({ length: count }, (_, l) => lane(l)),
    { release },
  );
}
