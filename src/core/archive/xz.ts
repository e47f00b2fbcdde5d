/**
 * An xz decoder (the format of `tar cJf`), so ADD can extract .tar.xz archives in the browser and
 * in Node alike: the xz container (stream header, blocks, index, footer, concatenated streams),
 * the LZMA2 chunk format and the LZMA range decoder beneath it. Only the LZMA2 filter is decoded
 * (what xz uses by default); the integrity check fields are skipped, not verified.
 */
import { ArchiveError } from "../errors.ts";

const fail = (msg: string): never => {
  throw new ArchiveError(`xz: ${msg}`, { entry: "ADD" });
};

const PROB_INIT = 1024;
const STATES = 12;
const POS_BITS_MAX = 4;
const END_POS_MODEL = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const LEN_TO_POS_STATES = 4;

class Output {
  buf = new Uint8Array(1 << 16);
  len = 0;
  constructor(private readonly limit: number) {}
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    if (this.len + extra > this.limit) {
      throw new ArchiveError(
        `larger than the limit of ${this.limit} bytes`,
        { entry: "ADD" },
        "ARCHIVE_TOO_LARGE",
      );
    }
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(Math.min(size, this.limit));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  push(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
}

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {
    if (data[pos] !== 0) fail("bad range coder start");
    this.pos++;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0;
    if (this.code === this.range) fail("corrupt data");
  }
  private byte(): number {
    const b = this.data[this.pos++];
    if (b === undefined) fail("data ends early");
    return b as number;
  }
  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i] as number;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      probs[i] = p + ((2048 - p) >>> 5);
      this.range = bound >>> 0;
      bit = 0;
    } else {
      probs[i] = p - (p >>> 5);
      this.code = (this.code - bound) >>> 0;
      this.range = (this.range - bound) >>> 0;
      bit = 1;
    }
    this.normalize();
    return bit;
  }
  direct(count: number): number {
    let res = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        bit = 1;
      }
      this.normalize();
      res = ((res << 1) | bit) >>> 0;
    }
    return res;
  }
  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }
  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  choice = new Uint16Array(2);
  low = new Uint16Array((1 << POS_BITS_MAX) << 3);
  mid = new Uint16Array((1 << POS_BITS_MAX) << 3);
  high = new Uint16Array(256);
  reset(): void {
    for (const a of [this.choice, this.low, this.mid, this.high]) a.fill(PROB_INIT);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

/** LZMA decoder state that persists across LZMA2 chunks unless a chunk resets it. */
class Lzma {
  lc = 0;
  lp = 0;
  pb = 0;
  literal = new Uint16Array(0);
  isMatch = new Uint16Array(STATES << POS_BITS_MAX);
  isRep = new Uint16Array(STATES);
  isRepG0 = new Uint16Array(STATES);
  isRepG1 = new Uint16Array(STATES);
  isRepG2 = new Uint16Array(STATES);
  isRep0Long = new Uint16Array(STATES << POS_BITS_MAX);
  posSlot = new Uint16Array(LEN_TO_POS_STATES << 6);
  posDecoders = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL);
  align = new Uint16Array(1 << ALIGN_BITS);
  len = new LenDecoder();
  repLen = new LenDecoder();
  state = 0;
  reps = [0, 0, 0, 0];

  setProps(props: number): void {
    if (props >= 9 * 5 * 5) fail("bad LZMA properties");
    this.lc = props % 9;
    const rest = Math.floor(props / 9);
    this.lp = rest % 5;
    this.pb = Math.floor(rest / 5);
    if (this.lc + this.lp > 4) fail("bad LZMA2 properties (lc + lp > 4)");
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  resetState(): void {
    for (const a of [
      this.literal,
      this.isMatch,
      this.isRep,
      this.isRepG0,
      this.isRepG1,
      this.isRepG2,
      this.isRep0Long,
    ]) {
      a.fill(PROB_INIT);
    }
    for (const a of [this.posSlot, this.posDecoders, this.align]) a.fill(PROB_INIT);
    this.len.reset();
    this.repLen.reset();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = Math.min(len, LEN_TO_POS_STATES - 1);
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < END_POS_MODEL) return dist + rc.reverse(this.posDecoders, dist - slot, direct);
    dist = (dist + ((rc.direct(direct - ALIGN_BITS) << ALIGN_BITS) >>> 0)) >>> 0;
    return (dist + rc.reverse(this.align, 0, ALIGN_BITS)) >>> 0;
  }

  /** Decodes `size` bytes of one LZMA2 chunk into out; `dictStart` is where the dictionary began. */
  decode(rc: RangeDecoder, out: Output, size: number, dictStart: number): void {
    const end = out.len + size;
    out.ensure(size);
    const buf = () => out.buf;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    while (out.len < end) {
      const pos = out.len - dictStart;
      const posState = pos & pbMask;
      const s = this.state;
      if (rc.bit(this.isMatch, (s << POS_BITS_MAX) + posState) === 0) {
        const prev = out.len > dictStart ? (buf()[out.len - 1] as number) : 0;
        const base = 0x300 * (((pos & lpMask) << this.lc) + (prev >>> (8 - this.lc)));
        let sym = 1;
        if (s >= 7) {
          const at = out.len - this.reps[0]! - 1;
          if (at < dictStart) fail("match distance before the dictionary");
          let matchByte = buf()[at] as number;
          while (sym < 0x100) {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        out.buf[out.len++] = sym - 0x100;
        this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, s) !== 0) {
        if (out.len === dictStart) fail("repeat match in an empty dictionary");
        if (rc.bit(this.isRepG0, s) === 0) {
          if (rc.bit(this.isRep0Long, (s << POS_BITS_MAX) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            out.buf[out.len] = buf()[out.len - this.reps[0]! - 1] as number;
            out.len++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, s) === 0) dist = this.reps[1]!;
          else {
            if (rc.bit(this.isRepG2, s) === 0) dist = this.reps[2]!;
            else {
              dist = this.reps[3]!;
              this.reps[3] = this.reps[2]!;
            }
            this.reps[2] = this.reps[1]!;
          }
          this.reps[1] = this.reps[0]!;
          this.reps[0] = dist;
        }
        len = this.repLen.decode(rc, posState);
        this.state = s < 7 ? 8 : 11;
      } else {
        this.reps[3] = this.reps[2]!;
        this.reps[2] = this.reps[1]!;
        this.reps[1] = this.reps[0]!;
        len = this.len.decode(rc, posState);
        this.state = s < 7 ? 7 : 10;
        this.reps[0] = this.distance(rc, len);
        if (this.reps[0] === 0xffffffff) fail("end marker inside an LZMA2 chunk");
      }
      len += 2;
      const from = out.len - this.reps[0]! - 1;
      if (from < dictStart) fail("match distance before the dictionary");
      if (out.len + len > end) fail("match runs past the chunk");
      const b = out.buf;
      for (let i = 0; i < len; i++) b[out.len + i] = b[from + i] as number;
      out.len += len;
    }
  }
}

function decodeLzma2(data: Uint8Array, start: number, out: Output): number {
  const lzma = new Lzma();
  let pos = start;
  let dictStart = out.len;
  let needProps = true;
  for (;;) {
    const control: number = data[pos++] ?? fail("data ends early");
    if (control === 0) return pos;
    if (control === 1 || control === 2) {
      if (control === 1) dictStart = out.len;
      const size = (((data[pos] ?? 0) << 8) | (data[pos + 1] ?? 0)) + 1;
      pos += 2;
      if (pos + size > data.length) fail("data ends early");
      out.ensure(size);
      out.buf.set(data.subarray(pos, pos + size), out.len);
      out.len += size;
      pos += size;
      continue;
    }
    if (control < 0x80) fail(`bad LZMA2 control byte ${control}`);
    const unpacked = ((control & 0x1f) << 16) + ((data[pos] ?? 0) << 8) + (data[pos + 1] ?? 0) + 1;
    const packed = (((data[pos + 2] ?? 0) << 8) | (data[pos + 3] ?? 0)) + 1;
    pos += 4;
    const reset = (control >>> 5) & 3;
    if (reset === 3) dictStart = out.len;
    if (reset >= 2) {
      lzma.setProps(data[pos++] ?? 0);
      needProps = false;
    } else if (needProps) fail("LZMA2 chunk without properties");
    if (reset >= 1) lzma.resetState();
    const rc = new RangeDecoder(data, pos);
    lzma.decode(rc, out, unpacked, dictStart);
    pos += packed;
  }
}

function varint(data: Uint8Array, at: { pos: number }): number {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const b = data[at.pos++];
    if (b === undefined) fail("data ends early");
    v += ((b as number) & 0x7f) * 2 ** (7 * i);
    if (((b as number) & 0x80) === 0) return v;
  }
  return fail("bad variable-length integer");
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** Decompresses xz data (one or more concatenated streams). */
export function unxz(data: Uint8Array, limit = 4 * 2 ** 30): Uint8Array {
  const out = new Output(limit);
  const at = { pos: 0 };
  let streams = 0;
  while (at.pos < data.length) {
    // Stream padding between streams is zero bytes.
    if (streams > 0 && data[at.pos] === 0) {
      at.pos++;
      continue;
    }
    const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
    if (!magic.every((m, i) => data[at.pos + i] === m)) {
      if (streams > 0) break;
      fail("not xz data");
    }
    const checkType = (data[at.pos + 7] ?? 0) & 0x0f;
    const checkSize = CHECK_SIZES[checkType] as number;
    at.pos += 12;
    for (;;) {
      const headerStart = at.pos;
      const sizeByte = data[at.pos];
      if (sizeByte === undefined) fail("data ends early");
      if (sizeByte === 0) break;
      const headerSize = ((sizeByte as number) + 1) * 4;
      const flags = data[at.pos + 1] ?? 0;
      at.pos += 2;
      if (flags & 0x40) varint(data, at);
      if (flags & 0x80) varint(data, at);
      const filters = (flags & 3) + 1;
      for (let f = 0; f < filters; f++) {
        const id = varint(data, at);
        const propsSize = varint(data, at);
        if (id !== 0x21) fail(`filter 0x${id.toString(16)} is not supported (only LZMA2)`);
        at.pos += propsSize;
      }
      at.pos = headerStart + headerSize;
      at.pos = decodeLzma2(data, at.pos, out);
      while ((at.pos - headerStart) % 4 !== 0) at.pos++;
      at.pos += checkSize;
    }
    // Index: indicator, record count, records (unpadded size, uncompressed size), padding, CRC32.
    const indexStart = at.pos;
    at.pos++;
    const records = varint(data, at);
    for (let i = 0; i < records; i++) {
      varint(data, at);
      varint(data, at);
    }
    while ((at.pos - indexStart) % 4 !== 0) at.pos++;
    at.pos += 4 + 12;
    streams++;
  }
  return out.buf.subarray(0, out.len);
}
