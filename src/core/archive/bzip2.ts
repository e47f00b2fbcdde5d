/**
 * A bzip2 decoder (the format of `tar cjf`), so ADD can extract .tar.bz2 archives in the browser
 * and in Node alike: block Huffman decoding, move-to-front and run-length stages, the inverse
 * Burrows-Wheeler transform and the final run-length stage, with each block's CRC checked.
 * Concatenated streams are decoded one after the other, as bzip2 itself does.
 * LayerLab's own on purpose: no maintained streaming bzip2 decoder for the browser is on npm
 * (unbzip2-stream is built on Node streams and the `buffer` polyfill, seek-bzip decodes a whole
 * buffer and ships a CLI), and this one checks every block's CRC.
 */
import { ArchiveError } from "../errors.ts";

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

class Bits {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}

  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.data[this.pos >>> 3];
      if (byte === undefined) throw new ArchiveError("bzip2 data ends early", { entry: "ADD" });
      v = (v * 2) | ((byte >>> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v >>> 0;
  }

  bit(): number {
    const byte = this.data[this.pos >>> 3];
    if (byte === undefined) throw new ArchiveError("bzip2 data ends early", { entry: "ADD" });
    const b = (byte >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  get atEnd(): boolean {
    return this.pos >>> 3 >= this.data.length;
  }
}

class Output {
  buf = new Uint8Array(1 << 16);
  len = 0;
  constructor(private readonly limit: number) {}
  push(b: number): void {
    if (this.len === this.buf.length) {
      if (this.len >= this.limit)
        throw new ArchiveError(
          `larger than the limit of ${this.limit} bytes`,
          { entry: "ADD" },
          "ARCHIVE_TOO_LARGE",
        );
      const next = new Uint8Array(Math.min(this.buf.length * 2, this.limit));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
}

interface Table {
  minLen: number;
  maxLen: number;
  limit: Int32Array;
  first: Int32Array;
  firstIdx: Int32Array;
  perm: Uint16Array;
}

function makeTable(lengths: Uint8Array, alphaSize: number): Table {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    const l = lengths[i] as number;
    if (l > maxLen) maxLen = l;
    if (l < minLen) minLen = l;
  }
  const perm = new Uint16Array(alphaSize);
  let pp = 0;
  const count = new Int32Array(21);
  for (let l = minLen; l <= maxLen; l++) {
    for (let s = 0; s < alphaSize; s++) {
      if (lengths[s] === l) {
        perm[pp++] = s;
        count[l] = (count[l] as number) + 1;
      }
    }
  }
  const limit = new Int32Array(21);
  const first = new Int32Array(21);
  const firstIdx = new Int32Array(21);
  let code = 0;
  let idx = 0;
  for (let l = minLen; l <= maxLen; l++) {
    first[l] = code;
    firstIdx[l] = idx;
    code += count[l] as number;
    idx += count[l] as number;
    limit[l] = code - 1;
    code <<= 1;
  }
  return { minLen, maxLen, limit, first, firstIdx, perm };
}

function decodeSymbol(bits: Bits, t: Table): number {
  let v = bits.read(t.minLen);
  for (let l = t.minLen; l <= t.maxLen; l++) {
    if (v <= (t.limit[l] as number) && v >= (t.first[l] as number)) {
      return t.perm[(t.firstIdx[l] as number) + v - (t.first[l] as number)] as number;
    }
    v = (v << 1) | bits.bit();
  }
  throw new ArchiveError("bzip2: invalid Huffman code", { entry: "ADD" });
}

function decodeBlock(bits: Bits, blockMax: number, out: Output): void {
  const expectedCrc = bits.read(32);
  if (bits.bit()) throw new ArchiveError("bzip2: randomised blocks are not supported", { entry: "ADD" });
  const origPtr = bits.read(24);
  const used = bits.read(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (used & (0x8000 >>> i)) {
      const bitsUsed = bits.read(16);
      for (let j = 0; j < 16; j++) if (bitsUsed & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
    }
  }
  if (seqToUnseq.length === 0) throw new ArchiveError("bzip2: block uses no symbols", { entry: "ADD" });
  const alphaSize = seqToUnseq.length + 2;
  const nGroups = bits.read(3);
  if (nGroups < 2 || nGroups > 6)
    throw new ArchiveError("bzip2: bad number of Huffman groups", { entry: "ADD" });
  const nSelectors = bits.read(15);
  if (nSelectors < 1) throw new ArchiveError("bzip2: no selectors", { entry: "ADD" });
  const mtfGroups = [0, 1, 2, 3, 4, 5].slice(0, nGroups);
  const selectors = new Uint8Array(nSelectors);
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (bits.bit()) {
      j++;
      if (j >= nGroups) throw new ArchiveError("bzip2: bad selector", { entry: "ADD" });
    }
    const v = mtfGroups[j] as number;
    mtfGroups.splice(j, 1);
    mtfGroups.unshift(v);
    selectors[i] = v;
  }
  const tables: Table[] = [];
  for (let g = 0; g < nGroups; g++) {
    const lengths = new Uint8Array(alphaSize);
    let curr = bits.read(5);
    for (let s = 0; s < alphaSize; s++) {
      for (;;) {
        if (curr < 1 || curr > 20) throw new ArchiveError("bzip2: bad code length", { entry: "ADD" });
        if (!bits.bit()) break;
        curr += bits.bit() ? -1 : 1;
      }
      lengths[s] = curr;
    }
    tables.push(makeTable(lengths, alphaSize));
  }
  // Huffman → RUNA/RUNB runs and move-to-front indexes → the BWT's last column.
  const eob = alphaSize - 1;
  const mtf = Array.from({ length: 256 }, (_, i) => i);
  const tt = new Uint32Array(blockMax);
  const counts = new Int32Array(256);
  let n = 0;
  let groupPos = 0;
  let groupIdx = -1;
  let table = tables[0] as Table;
  let runLen = 0;
  let runWeight = 1;
  for (;;) {
    if (groupPos === 0) {
      groupIdx++;
      if (groupIdx >= nSelectors) throw new ArchiveError("bzip2: selectors exhausted", { entry: "ADD" });
      groupPos = 50;
      table = tables[selectors[groupIdx] as number] as Table;
    }
    groupPos--;
    const sym = decodeSymbol(bits, table);
    if (sym <= 1) {
      runLen += (sym + 1) * runWeight;
      runWeight <<= 1;
      if (runLen > blockMax) throw new ArchiveError("bzip2: run longer than the block", { entry: "ADD" });
      continue;
    }
    if (runLen > 0) {
      const b = seqToUnseq[mtf[0] as number] as number;
      if (n + runLen > blockMax) throw new ArchiveError("bzip2: block overflows", { entry: "ADD" });
      counts[b] = (counts[b] as number) + runLen;
      while (runLen-- > 0) tt[n++] = b;
      runLen = 0;
      runWeight = 1;
    }
    if (sym === eob) break;
    const idx = sym - 1;
    const v = mtf[idx] as number;
    mtf.splice(idx, 1);
    mtf.unshift(v);
    const b = seqToUnseq[v] as number;
    if (n >= blockMax) throw new ArchiveError("bzip2: block overflows", { entry: "ADD" });
    counts[b] = (counts[b] as number) + 1;
    tt[n++] = b;
  }
  if (origPtr >= n) throw new ArchiveError("bzip2: bad origin pointer", { entry: "ADD" });
  // Inverse Burrows-Wheeler: link each position to the next, then walk from origPtr.
  const start = new Int32Array(256);
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    start[i] = sum;
    sum += counts[i] as number;
  }
  for (let i = 0; i < n; i++) {
    const b = (tt[i] as number) & 0xff;
    const at = start[b] as number;
    tt[at] = ((tt[at] as number) | (i << 8)) >>> 0;
    start[b] = at + 1;
  }
  let crc = 0xffffffff;
  const emit = (b: number): void => {
    out.push(b);
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ b) & 0xff] as number)) >>> 0;
  };
  let pos = (tt[origPtr] as number) >>> 8;
  let current = -1;
  let countdown = 5;
  for (let i = 0; i < n; i++) {
    const previous = current;
    const p = tt[pos] as number;
    current = p & 0xff;
    pos = p >>> 8;
    if (--countdown > 0) {
      if (current !== previous) countdown = 4;
      emit(current);
    } else {
      for (let k = 0; k < current; k++) emit(previous);
      current = previous;
      countdown = 5;
    }
  }
  if (~crc >>> 0 !== expectedCrc) throw new ArchiveError("bzip2: block CRC mismatch", { entry: "ADD" });
}

/** Decompresses bzip2 data (one or more concatenated streams). */
export function bunzip2(data: Uint8Array, limit = 4 * 2 ** 30): Uint8Array {
  const bits = new Bits(data);
  const out = new Output(limit);
  let streams = 0;
  while (!bits.atEnd) {
    if (bits.read(8) !== 0x42 || bits.read(8) !== 0x5a || bits.read(8) !== 0x68) {
      if (streams > 0) break;
      throw new ArchiveError("not bzip2 data", { entry: "ADD" });
    }
    const level = bits.read(8) - 0x30;
    if (level < 1 || level > 9) throw new ArchiveError("bzip2: bad block size", { entry: "ADD" });
    for (;;) {
      const hi = bits.read(24);
      const lo = bits.read(24);
      if (hi === BLOCK_MAGIC_HI && lo === BLOCK_MAGIC_LO) {
        decodeBlock(bits, level * 100000, out);
        continue;
      }
      if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
        bits.read(32);
        bits.alignToByte();
        break;
      }
      throw new ArchiveError("bzip2: bad block header", { entry: "ADD" });
    }
    streams++;
  }
  return out.buf.subarray(0, out.len);
}
