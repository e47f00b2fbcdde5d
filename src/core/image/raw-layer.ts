/**
 * The raw view of a layer: its tar entries exactly as the archive holds them (archive order,
 * headers, `.wh.` whiteouts and `.wh..wh..opq` opaque markers as files), and the image's JSON
 * documents as stored. Nothing here interprets whiteouts: that is the overlay's job.
 */
import type { TarEntryType, TarHeader } from "../archive/tar-header.ts";
import { TarParser } from "../archive/tar-reader.ts";
import type { Digest } from "../digest.ts";
import { LayerLabError, throwIfAborted } from "../errors.ts";
import type { ImageRecord, ImageSource, LayerRecord, Store } from "../store/types.ts";
import { changesetTar, storeContentReader } from "./changeset-tar.ts";
import { decodeLayerIndex } from "./layer-index.ts";

/** What a raw entry's name means to the overlay, read literally from its base name. */
export type RawMarker = "whiteout" | "opaque";

/** One tar entry as the archive holds it: its header (names exactly as spelled, not cleaned). */
export interface RawTarEntry extends Omit<TarHeader, "xattrs" | "headerOffset" | "dataOffset"> {
  /** Position in archive order (0 first). */
  index: number;
  /** PAX records that applied to this entry, as written. */
  pax?: Record<string, string>;
  /** Byte offset of the entry's first header block in the tar. */
  offset: number;
  marker?: RawMarker;
}

/** The facts above a layer's raw listing. */
export interface RawLayerInfo {
  /** Digest of the blob as stored or transferred (compressed or not). */
  digest: Digest;
  diffId: Digest;
  mediaType: string;
  /** Bytes of the stored blob. */
  blobSize: number;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** True when the tar is written again from the layer's index (a built-in or simulated layer). */
  regenerated: boolean;
}

/** Names the overlay treats specially, by their base name. */
export function markerOf(name: string): RawMarker | undefined {
  const base = name.replace(/\/+$/, "").split("/").pop() ?? "";
  if (base === ".wh..wh..opq") return "opaque";
  if (base.startsWith(".wh.")) return "whiteout";
  return undefined;
}

function toRaw(h: TarHeader, index: number): RawTarEntry {
  const e: RawTarEntry = {
    index,
    name: h.name,
    type: h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
    size: h.size,
    mtime: h.mtime,
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    offset: h.headerOffset,
  };
  if (h.pax && Object.keys(h.pax).length > 0) e.pax = h.pax;
  const m = markerOf(h.name);
  if (m) e.marker = m;
  return e;
}

/** Lists a tar stream's entries in archive order (headers only; data is skipped as it passes). */
export async function listTarEntries(
  tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<RawTarEntry[]> {
  const out: RawTarEntry[] = [];
  const parser = new TarParser({
    entry: (h) => void out.push(toRaw(h, out.length)),
    data: () => {},
    entryEnd: () => {},
  });
  for await (const chunk of tar) {
    throwIfAborted(signal, "reading the layer");
    parser.push(chunk);
  }
  parser.end();
  return out;
}

/**
 * A layer's uncompressed tar as a stream: the stored tar (decoded from the compressed blob when
 * only that is stored), or for a synthesized layer the tar written again from its index, which is
 * byte for byte the tar its diffId was taken of.
 */
export async function openLayerTar(store: Store, rec: LayerRecord): Promise<AsyncIterable<Uint8Array>> {
  if (rec.synthesized) {
    if (!rec.index)
      throw new LayerLabError("NOT_FOUND", `layer ${rec.id} has no index to write its tar from`);
    const bytes = await store.blobs.get(rec.index);
    if (!bytes) throw new LayerLabError("NOT_FOUND", `the index of layer ${rec.id} is not in the store`);
    return changesetTar(decodeLayerIndex(bytes, rec.id), storeContentReader(store), rec.synthesized.epoch);
  }
  // A store opened withDerivedTars decodes a compressed layer's tar on first read.
  return store.blobs.stream(rec.id);
}

/**
 * A layer's entries in archive order. A synthesized layer's tar is written again with zero bytes
 * in place of its synthesized contents: headers do not depend on contents, so the listing is the
 * real tar's, without making tens of megabytes of contents only to skip them.
 */
export async function listLayerEntries(
  store: Store,
  rec: LayerRecord,
  signal?: AbortSignal,
): Promise<RawTarEntry[]> {
  if (!rec.synthesized) return listTarEntries(await openLayerTar(store, rec), signal);
  if (!rec.index) throw new LayerLabError("NOT_FOUND", `layer ${rec.id} has no index to write its tar from`);
  const bytes = await store.blobs.get(rec.index);
  if (!bytes) throw new LayerLabError("NOT_FOUND", `the index of layer ${rec.id} is not in the store`);
  let zeros = new Uint8Array(0);
  const zeroReader = async (_ref: unknown, size: number) => {
    if (zeros.byteLength < size) zeros = new Uint8Array(size);
    return zeros.subarray(0, size);
  };
  return listTarEntries(
    changesetTar(decodeLayerIndex(bytes, rec.id), zeroReader, rec.synthesized.epoch),
    signal,
  );
}

/** The facts shown above a layer's raw entries. */
export function describeRawLayer(rec: LayerRecord): RawLayerInfo {
  return {
    digest: rec.blob,
    diffId: rec.id,
    mediaType: rec.mediaType,
    blobSize: rec.blobSize,
    size: rec.size,
    regenerated: rec.synthesized !== undefined,
  };
}

/**
 * An image's JSON documents as stored, pretty-printed: its config, its manifest (when it had one)
 * and, for an imported image, the archive's own index.json and manifest.json as they came.
 */
export interface RawImageDocuments {
  manifest?: { digest: Digest; text: string };
  config: { digest: Digest; text: string };
  /** The archive's top-level JSON, in the order index.json, manifest.json ([] when none was kept). */
  archive: { path: "index.json" | "manifest.json"; digest: Digest; text: string }[];
  /** Where the image came from: only imports have archive JSON; builds, commits and pulls have none. */
  source: ImageSource;
}

function pretty(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Shown as stored when it is not JSON: the raw view never hides what is there.
    return text;
  }
}

/** Reads an image's config, manifest and archive JSON (each when stored), pretty-printed. */
export async function readRawImageDocuments(store: Store, image: ImageRecord): Promise<RawImageDocuments> {
  const read = async (digest: Digest | undefined) => {
    if (!digest) return undefined;
    const bytes = await store.blobs.get(digest);
    return bytes ? { digest, text: pretty(bytes) } : undefined;
  };
  const config = await read(image.config);
  if (!config) throw new LayerLabError("NOT_FOUND", `the config ${image.config} is not in the store`);
  const archive: RawImageDocuments["archive"] = [];
  for (const j of image.archiveJson ?? []) {
    const doc = await read(j.digest);
    if (doc) archive.push({ path: j.path, ...doc });
  }
  const docs: RawImageDocuments = { config, archive, source: image.source };
  const manifest = await read(image.manifest);
  if (manifest) docs.manifest = manifest;
  return docs;
}

const TYPE_CHAR: Record<TarEntryType, string> = {
  file: "-",
  hardlink: "h",
  symlink: "l",
  char: "c",
  block: "b",
  dir: "d",
  fifo: "p",
};

/** `drwxr-xr-x` style permissions (with setuid, setgid and sticky bits) as `ls -l` and `tar -tv` print them. */
export function formatMode(type: TarEntryType, mode: number): string {
  const bit = (b: number, c: string) => (mode & b ? c : "-");
  const special = (x: boolean, set: boolean, on: string, off: string, dash: string) =>
    set ? (x ? on : off) : x ? dash : "-";
  const t = TYPE_CHAR[type];
  return [
    t,
    bit(0o400, "r"),
    bit(0o200, "w"),
    special(!!(mode & 0o100), !!(mode & 0o4000), "s", "S", "x"),
    bit(0o040, "r"),
    bit(0o020, "w"),
    special(!!(mode & 0o010), !!(mode & 0o2000), "s", "S", "x"),
    bit(0o004, "r"),
    bit(0o002, "w"),
    special(!!(mode & 0o001), !!(mode & 0o1000), "t", "T", "x"),
  ].join("");
}

/**
 * One entry as a line in GNU `tar --numeric-owner -tv` form (UTC times): the canonical text dump
 * of a raw listing, and what the tests compare with GNU tar's own output.
 */
export function formatRawEntry(e: RawTarEntry): string {
  const d = new Date(Math.floor(e.mtime) * 1000).toISOString();
  const when = `${d.slice(0, 10)} ${d.slice(11, 16)}`;
  const size = e.type === "char" || e.type === "block" ? `${e.devmajor},${e.devminor}` : String(e.size);
  const link =
    e.type === "symlink" ? ` -> ${e.linkname}` : e.type === "hardlink" ? ` link to ${e.linkname}` : "";
  return `${formatMode(e.type, e.mode)} ${e.uid}/${e.gid} ${size} ${when} ${e.name}${link}`;
}
