/**
 * The tar header codec the reader and writer share: ustar fields, GNU base-256 numbers, PAX and
 * GNU long-name records applied to the next header. LayerLab's own for the same reasons as
 * tar-reader.ts: hostile-input checks with the offset in every error, in every runtime.
 */
import { ArchiveError } from "../errors.ts";

/** The kind of a tar entry, after PAX and GNU meta entries have been applied. */
export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One tar entry's header, with PAX and GNU long-name records already applied. */
export interface TarHeader {
  /** The name exactly as the archive spells it (not cleaned). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  /** Seconds since the epoch (PAX fractions kept). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records. */
  xattrs?: Record<string, string>;
  /** Every PAX record that applied (global then local), for callers that want the rest. */
  pax?: Record<string, string>;
  /** Byte offset of this entry's first header block (including its meta entries). */
  headerOffset: number;
  /** Byte offset of the entry's data. */
  dataOffset: number;
}

export const BLOCK = 512;
const decoder = new TextDecoder("utf-8", { fatal: false });

function cString(block: Uint8Array, at: number, len: number): string {
  let end = at;
  const stop = at + len;
  while (end < stop && block[end] !== 0) end++;
  return decoder.decode(block.subarray(at, end));
}

/** Reads an octal (or GNU base-256) numeric field; NaN when it is not a number. */
export function readNumber(block: Uint8Array, at: number, len: number): number {
  const first = block[at]!;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement, top bit set as the marker.
    if (first === 0xff) return Number.NaN; // negative values are refused
    let n = first & 0x7f;
    for (let i = 1; i < len; i++) {
      n = n * 256 + block[at + i]!;
      if (n > Number.MAX_SAFE_INTEGER) return Number.NaN;
    }
    return n;
  }
  let i = at;
  const end = at + len;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let n = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return Number.NaN;
    n = n * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : n;
}

/** True when all 512 bytes are zero (an end-of-archive block). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Checks the header checksum (unsigned, or signed as some old writers computed it). */
export function checksumOk(block: Uint8Array): boolean {
  const stored = readNumber(block, 148, 8);
  if (Number.isNaN(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** The raw fields of one header block, before meta entries are applied. */
export interface RawHeader {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** Decodes one header block; throws ArchiveError when it is not a valid tar header. */
export function decodeHeader(block: Uint8Array, offset: number): RawHeader {
  if (!checksumOk(block)) {
    const name = cString(block, 0, 100);
    throw new ArchiveError("corrupt tar header (bad checksum), or not a tar archive", {
      entry: name && /^[\x20-\x7e]+$/.test(name) ? name : undefined,
      offset,
    });
  }
  const magic = cString(block, 257, 6);
  const ustar = magic === "ustar";
  let name = cString(block, 0, 100);
  // The prefix field exists only in POSIX ustar; GNU keeps access/change times there.
  if (ustar && block[345] !== 0 && !(block[257 + 5] === 0x20)) {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeflag = block[156] === 0 ? "0" : String.fromCharCode(block[156]!);
  const num = (at: number, len: number, field: string) => {
    const n = readNumber(block, at, len);
    if (Number.isNaN(n))
      throw new ArchiveError(`invalid ${field} field in tar header`, { entry: name, offset });
    return n;
  };
  return {
    name,
    typeflag,
    mode: num(100, 8, "mode") & 0o7777,
    uid: num(108, 8, "uid"),
    gid: num(116, 8, "gid"),
    size: num(124, 12, "size"),
    mtime: num(136, 12, "mtime"),
    linkname: cString(block, 157, 100),
    uname: cString(block, 265, 32),
    gname: cString(block, 297, 32),
    devmajor: magic.startsWith("ustar") ? num(329, 8, "devmajor") : 0,
    devminor: magic.startsWith("ustar") ? num(337, 8, "devminor") : 0,
  };
}

/** Parses the records of a PAX extended header (`<len> <key>=<value>\n` each). */
export function parsePax(data: Uint8Array, entry: string, offset: number): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.byteLength) {
    if (data[at] === 0) break;
    let sp = at;
    while (sp < data.byteLength && data[sp] !== 0x20) sp++;
    const len = Number(decoder.decode(data.subarray(at, sp)));
    if (
      !Number.isInteger(len) ||
      len <= sp - at + 1 ||
      at + len > data.byteLength ||
      data[at + len - 1] !== 0x0a
    ) {
      throw new ArchiveError("malformed PAX extended header record", { entry, offset });
    }
    const record = decoder.decode(data.subarray(sp + 1, at + len - 1));
    const eq = record.indexOf("=");
    if (eq <= 0) throw new ArchiveError("malformed PAX extended header record", { entry, offset });
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

/** Meta entries that change the next header rather than being entries themselves. */
export function isMetaType(typeflag: string): boolean {
  return typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K";
}

/** Pending PAX/GNU records that apply to the next real header. */
export interface PendingMeta {
  global: Record<string, string>;
  local: Record<string, string> | undefined;
  longName: string | undefined;
  longLink: string | undefined;
  start: number | undefined;
}

/** Applies collected meta records to a raw header, producing the entry's final header. */
export function resolveHeader(
  raw: RawHeader,
  meta: PendingMeta,
  headerOffset: number,
  dataOffset: number,
): TarHeader {
  const pax = { ...meta.global, ...(meta.local ?? {}) };
  let name = meta.longName ?? raw.name;
  let linkname = meta.longLink ?? raw.linkname;
  if (pax.path !== undefined) name = pax.path;
  if (pax.linkpath !== undefined) linkname = pax.linkpath;
  let type = TYPES[raw.typeflag];
  if (type === undefined) {
    if (
      raw.typeflag === "S" ||
      pax["GNU.sparse.major"] !== undefined ||
      pax["GNU.sparse.size"] !== undefined
    ) {
      throw new ArchiveError("sparse files are not supported", { entry: name, offset: headerOffset });
    }
    throw new ArchiveError(`unsupported tar entry type '${raw.typeflag}'`, {
      entry: name,
      offset: headerOffset,
    });
  }
  // Old (v7) archives mark directories only with a trailing slash.
  if (type === "file" && raw.typeflag === "0" && name.endsWith("/")) type = "dir";
  const numeric = (key: string, fallback: number) => {
    const v = pax[key];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      throw new ArchiveError(`invalid PAX ${key} '${v}'`, { entry: name, offset: headerOffset });
    }
    return n;
  };
  const header: TarHeader = {
    name,
    type,
    mode: raw.mode,
    uid: numeric("uid", raw.uid),
    gid: numeric("gid", raw.gid),
    uname: pax.uname ?? raw.uname,
    gname: pax.gname ?? raw.gname,
    size: numeric("size", raw.size),
    mtime: numeric("mtime", raw.mtime),
    linkname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    headerOffset,
    dataOffset,
  };
  // Like Go's archive/tar: only regular files carry data, whatever the size field says.
  if (type !== "file") header.size = 0;
  if (!Number.isSafeInteger(header.size)) {
    throw new ArchiveError("invalid entry size", { entry: name, offset: headerOffset });
  }
  let xattrs: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith("SCHILY.xattr.")) {
      xattrs ??= {};
      xattrs[k.slice("SCHILY.xattr.".length)] = v;
    }
  }
  if (xattrs) header.xattrs = xattrs;
  if (Object.keys(pax).length > 0) header.pax = pax;
  return header;
}
