/**
 * The deterministic tar writer (ustar, with PAX records for long names and large values) behind
 * image export and the builder's layers. LayerLab's own on purpose: a layer's digest must be the
 * same bytes on every platform and run (fixed defaults such as mtime 0, records in a fixed order, no host metadata), which
 * general-purpose writers do not promise, and it streams bodies from any AsyncIterable without
 * Node streams.
 */
import { ArchiveError } from "../errors.ts";
import { BLOCK, type TarEntryType } from "./tar-header.ts";

/** An entry to write; bodies stream, but their size must be known up front (tar needs it). */
export interface TarWriteEntry {
  name: string;
  type?: TarEntryType;
  /** Permission bits; default 0644 for files, 0755 for directories, 0777 for symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; default 0 so output is deterministic. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /** Data length; required with a streamed body, taken from a Uint8Array body otherwise. */
  size?: number;
  body?: Uint8Array | AsyncIterable<Uint8Array>;
}

const encoder = new TextEncoder();
const TYPEFLAG: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

function putString(block: Uint8Array, at: number, len: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, len), at);
}

function putOctal(block: Uint8Array, at: number, len: number, n: number): void {
  const text = Math.floor(n)
    .toString(8)
    .padStart(len - 1, "0");
  block.set(encoder.encode(text), at);
  block[at + len - 1] = 0;
}

function fitsOctal(n: number, len: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 8 ** (len - 1);
}

/** Splits a long name into ustar prefix/name when possible. */
function splitName(name: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  if (name.byteLength <= 100) return [new Uint8Array(0), name];
  if (name.byteLength > 256) return undefined;
  for (let i = name.byteLength - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.byteLength - i - 1 <= 100 && name.byteLength - i - 1 > 0) {
      return [name.subarray(0, i), name.subarray(i + 1)];
    }
  }
  return undefined;
}

function paxRecords(records: [string, string][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of records) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = encoder.encode(body).byteLength;
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(encoder.encode(`${len}${body}`));
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

interface HeaderFields {
  name: Uint8Array;
  prefix: Uint8Array;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Uint8Array;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function encodeBlock(f: HeaderFields): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putString(b, 0, 100, f.name);
  putOctal(b, 100, 8, f.mode);
  putOctal(b, 108, 8, f.uid);
  putOctal(b, 116, 8, f.gid);
  putOctal(b, 124, 12, f.size);
  putOctal(b, 136, 12, f.mtime);
  b.fill(0x20, 148, 156);
  b[156] = f.typeflag.charCodeAt(0);
  putString(b, 157, 100, f.linkname);
  b.set(encoder.encode("ustar\u000000"), 257);
  putString(b, 265, 32, encoder.encode(f.uname));
  putString(b, 297, 32, encoder.encode(f.gname));
  putOctal(b, 329, 8, f.devmajor);
  putOctal(b, 337, 8, f.devminor);
  putString(b, 345, 155, f.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  const cks = sum.toString(8).padStart(6, "0");
  b.set(encoder.encode(cks), 148);
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** The header block(s) of one entry: a PAX header first when a field does not fit ustar. */
export function encodeTarHeader(entry: TarWriteEntry, size: number): Uint8Array {
  const type = entry.type ?? "file";
  const defaultMode = type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644;
  const name = type === "dir" && !entry.name.endsWith("/") ? `${entry.name}/` : entry.name;
  const nameBytes = encoder.encode(name);
  const linkBytes = encoder.encode(entry.linkname ?? "");
  const pax: [string, string][] = [];
  const split = splitName(nameBytes);
  const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);
  if (!split || !ascii(name)) pax.push(["path", name]);
  if (linkBytes.byteLength > 100 || !ascii(entry.linkname ?? ""))
    pax.push(["linkpath", entry.linkname ?? ""]);
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const mtime = entry.mtime ?? 0;
  if (!fitsOctal(uid, 8)) pax.push(["uid", String(uid)]);
  if (!fitsOctal(gid, 8)) pax.push(["gid", String(gid)]);
  if (!fitsOctal(size, 12)) pax.push(["size", String(size)]);
  if (!fitsOctal(mtime, 12)) pax.push(["mtime", String(mtime)]);
  const uname = entry.uname ?? "";
  const gname = entry.gname ?? "";
  if (encoder.encode(uname).byteLength > 32 || !ascii(uname)) pax.push(["uname", uname]);
  if (encoder.encode(gname).byteLength > 32 || !ascii(gname)) pax.push(["gname", gname]);
  for (const k of Object.keys(entry.xattrs ?? {}).sort()) pax.push([`SCHILY.xattr.${k}`, entry.xattrs![k]!]);
  const main = encodeBlock({
    name: split ? split[1] : nameBytes.subarray(0, 100),
    prefix: split ? split[0] : new Uint8Array(0),
    typeflag: TYPEFLAG[type],
    mode: (entry.mode ?? defaultMode) & 0o7777,
    uid: fitsOctal(uid, 8) ? uid : 0,
    gid: fitsOctal(gid, 8) ? gid : 0,
    size: fitsOctal(size, 12) ? size : 0,
    mtime: fitsOctal(mtime, 12) ? mtime : 0,
    linkname: linkBytes.subarray(0, 100),
    uname: ascii(uname) ? uname.slice(0, 32) : "",
    gname: ascii(gname) ? gname.slice(0, 32) : "",
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
  });
  if (pax.length === 0) return main;
  const records = paxRecords(pax);
  const base = name.replace(/\/$/, "").split("/").pop() ?? "entry";
  const paxHeader = encodeBlock({
    name: encoder.encode(`PaxHeaders/${base}`).subarray(0, 100),
    prefix: new Uint8Array(0),
    typeflag: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.byteLength,
    mtime: 0,
    linkname: new Uint8Array(0),
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
  });
  const padded = Math.ceil(records.byteLength / BLOCK) * BLOCK;
  const out = new Uint8Array(BLOCK + padded + BLOCK);
  out.set(paxHeader, 0);
  out.set(records, BLOCK);
  out.set(main, BLOCK + padded);
  return out;
}

/**
 * Writes a tar stream (POSIX ustar, PAX records where a field does not fit) from entries,
 * streaming each body; the same entries always give the same bytes.
 */
export async function* writeTar(
  entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>,
): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    const type = entry.type ?? "file";
    const body = type === "file" ? entry.body : undefined;
    const size = type !== "file" ? 0 : body instanceof Uint8Array ? body.byteLength : (entry.size ?? 0);
    if (body instanceof Uint8Array && entry.size !== undefined && entry.size !== body.byteLength) {
      throw new ArchiveError(`declared size ${entry.size} but the body has ${body.byteLength} bytes`, {
        entry: entry.name,
      });
    }
    yield encodeTarHeader(entry, size);
    let written = 0;
    if (body instanceof Uint8Array) {
      if (body.byteLength > 0) yield body;
      written = body.byteLength;
    } else if (body) {
      for await (const chunk of body) {
        written += chunk.byteLength;
        if (written > size) break;
        yield chunk;
      }
    }
    if (written !== size) {
      throw new ArchiveError(`declared size ${size} but the body had ${written} bytes`, {
        entry: entry.name,
      });
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) yield new Uint8Array(pad);
  }
  yield new Uint8Array(BLOCK * 2);
}
