/** Node access to the built-in catalog files in public/catalog/ (the browser fetches the same files). */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { findBuiltinBase } from "../core/catalog/builtin.ts";
import { parseAptCatalog, parseBaseCatalog, parseCatalogIndex } from "../core/catalog/load.ts";
import type { AptCatalog, BaseCatalog, BaseImageInfo, CatalogIndex } from "../core/catalog/types.ts";
import { LayerLabError } from "../core/errors.ts";
import { packageRoot } from "./package-root.ts";

/** The directory holding index.json and the catalog files. */
export const catalogDir: string = fileURLToPath(new URL("public/catalog/", packageRoot));

/** The raw bytes of one catalog file, by its name in the index (e.g. "base-busybox.json.gz"). */
export async function readCatalogFile(name: string, dir: string = catalogDir): Promise<Uint8Array> {
  if (name.includes("/") || name.includes("\\") || name.startsWith(".")) {
    throw new LayerLabError(
      "NOT_FOUND",
      `catalog file name ${JSON.stringify(name)} is not a plain file name`,
    );
  }
  return new Uint8Array(await readFile(`${dir}/${name}`));
}

export async function readCatalogIndex(dir: string = catalogDir): Promise<CatalogIndex> {
  return parseCatalogIndex(await readCatalogFile("index.json", dir));
}

/** The built-in base a FROM reference names, with its file list; undefined when there is none. */
export async function readBuiltinBase(
  ref: string,
  dir: string = catalogDir,
): Promise<{ info: BaseImageInfo; base: BaseCatalog } | undefined> {
  const info = findBuiltinBase(await readCatalogIndex(dir), ref);
  if (!info) return undefined;
  return { info, base: parseBaseCatalog(await readCatalogFile(info.file, dir), info.file) };
}

/** The apt catalog a built-in base's package manager reads. */
export async function readAptCatalog(file: string, dir: string = catalogDir): Promise<AptCatalog> {
  return parseAptCatalog(await readCatalogFile(file, dir), file);
}
