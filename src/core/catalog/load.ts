import { gunzipSync } from "fflate";
import { LayerLabError } from "../errors.ts";
import type { ContentRef, EntryType, FileEntry } from "../fs/types.ts";
import { seedFor } from "./synthesize.ts";
import type { AptCatalog, BaseCatalog, CatalogIndex, CatalogRow, RowType } from "./types.ts";

const ENTRY_TYPES: Record<RowType, EntryType> = {
  f: "file",
  d: "dir",
  l: "symlink",
  h: "hardlink",
  c: "char",
  b: "block",
  p: "fifo",
};

function invalid(what: string, message: string, cause?: unknown): LayerLabError {
  return new LayerLabError("ARCHIVE_INVALID", `catalog ${what}: ${message}`, { cause });
}

/** Parses catalog bytes as fetched or read from disk: gzip (sniffed by its magic) or plain UTF-8 JSON. */
export function decodeCatalogBytes(bytes: Uint8Array, what: string): unknown {
  let plain = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      plain = gunzipSync(bytes);
    } catch (e) {
      throw invalid(what, `gzip data is corrupt (${(e as Error).message})`, e);
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch (e) {
    throw invalid(what, "not UTF-8 text", e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(what, `not JSON (${(e as Error).message})`, e);
  }
}

function expectFormat(value: unknown, format: string, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(what, "not an object");
  const got = (value as { format?: unknown }).format;
  if (got !== format) throw invalid(what, `format is ${JSON.stringify(got)}, expected "${format}"`);
  return value as Record<string, unknown>;
}

/** Checks every row's shape so later code can trust it; names the first bad row. */
export function checkRows(rows: unknown, what: string): CatalogRow[] {
  if (!Array.isArray(rows)) throw invalid(what, "entries is not a list");
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as unknown[];
    const ok =
      Array.isArray(r) &&
      (r.length === 7 || r.length === 8) &&
      typeof r[0] === "string" &&
      r[0] !== "" &&
      !r[0].startsWith("/") &&
      !r[0].split("/").some((s) => s === "" || s === "." || s === "..") &&
      typeof r[1] === "string" &&
      r[1] in ENTRY_TYPES &&
      r.slice(2, 7).every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
      (r.length === 7 || typeof r[7] === "string");
    if (!ok) throw invalid(what, `row ${i} is malformed: ${JSON.stringify(r).slice(0, 200)}`);
  }
  return rows as CatalogRow[];
}

/** Reads public/catalog/index.json. */
export function parseCatalogIndex(bytes: Uint8Array): CatalogIndex {
  const doc = expectFormat(decodeCatalogBytes(bytes, "index"), "layerlab.catalog-index/1", "index");
  if (!Array.isArray(doc.bases)) throw invalid("index", "bases is not a list");
  return doc as unknown as CatalogIndex;
}

/** Reads a base image file list (public/catalog/base-*.json.gz). */
export function parseBaseCatalog(bytes: Uint8Array, what = "base"): BaseCatalog {
  const doc = expectFormat(decodeCatalogBytes(bytes, what), "layerlab.base/1", what);
  checkRows(doc.entries, what);
  if (typeof doc.id !== "string" || typeof doc.texts !== "object" || doc.texts === null) {
    throw invalid(what, "id or texts missing");
  }
  if (!Array.isArray(doc.dpkgPathFilters)) throw invalid(what, "dpkgPathFilters is not a list");
  return doc as unknown as BaseCatalog;
}

/** Reads the apt-get catalog (public/catalog/apt-*.json.gz). */
export function parseAptCatalog(bytes: Uint8Array, what = "apt"): AptCatalog {
  const doc = expectFormat(decodeCatalogBytes(bytes, what), "layerlab.apt/1", what);
  const packages = doc.packages as Record<string, { files?: unknown }> | undefined;
  if (typeof packages !== "object" || packages === null) throw invalid(what, "packages missing");
  for (const [name, p] of Object.entries(packages)) checkRows(p.files, `${what} package ${name}`);
  return doc as unknown as AptCatalog;
}

const encoder = new TextEncoder();

/**
 * Turns catalog rows into FileEntry values: regular files with a text in `texts` get their real
 * bytes inline, the others a synthetic ContentRef seeded by seedFor(namespace, path).
 */
export function rowsToEntries(
  rows: readonly CatalogRow[],
  texts: Readonly<Record<string, string>>,
  namespace: string,
): FileEntry[] {
  const out: FileEntry[] = [];
  for (const r of rows) {
    const [path, t, mode, uid, gid, size, mtime] = r;
    const link = r[7];
    const type = ENTRY_TYPES[t];
    const e: FileEntry = { path, type, mode, uid, gid, size: type === "file" ? size : 0, mtime };
    if (type === "symlink" || type === "hardlink") e.linkname = link ?? "";
    if ((type === "char" || type === "block") && link) {
      const [major, minor] = link.split(",");
      e.devmajor = Number(major);
      e.devminor = Number(minor);
    }
    if (type === "file") {
      const text = Object.hasOwn(texts, path) ? texts[path] : undefined;
      const content: ContentRef =
        text !== undefined
          ? { kind: "inline", bytes: encoder.encode(text) }
          : { kind: "synthetic", seed: seedFor(namespace, path) };
      out.push({ ...e, content });
    } else {
      out.push(e);
    }
  }
  return out;
}

/** The root filesystem of a base image as FileEntry values (one layer's worth, tar order). */
export function baseEntries(base: BaseCatalog): FileEntry[] {
  return rowsToEntries(base.entries, base.texts, base.id);
}

/** Total bytes of regular file content in rows. */
export function contentBytes(rows: readonly CatalogRow[]): number {
  let total = 0;
  for (const r of rows) if (r[1] === "f") total += r[5];
  return total;
}

/**
 * Fetches a catalog file's bytes (in the app: `new URL("catalog/index.json", document.baseURI)`).
 * A server that already undid the gzip is fine: the parsers sniff the magic.
 */
export async function fetchCatalogBytes(
  url: string | URL,
  fetchImpl: typeof fetch = fetch,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new LayerLabError(
      "NOT_FOUND",
      `catalog ${String(url)}: could not be fetched (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  if (!res.ok)
    throw new LayerLabError("NOT_FOUND", `catalog ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}
