/**
 * The built-in teaching bases (public/catalog/): real file lists with synthesized large contents,
 * honestly labelled as stand-ins, with apt-get simulated from the catalog's real package lists.
 * An image imported under the same name wins, because the Store is asked first.
 */
import { aptListsRows, aptPackageEntries, aptTargetOfBase, resolveAptInstall } from "../catalog/apt.ts";
import { parseDpkgStatus } from "../catalog/dpkg.ts";
import {
  baseEntries,
  parseAptCatalog,
  parseBaseCatalog,
  parseCatalogIndex,
  rowsToEntries,
} from "../catalog/load.ts";
import type { AptCatalog, BaseCatalog, CatalogIndex } from "../catalog/types.ts";
import { sha256 } from "../digest.ts";
import type { FileEntry } from "../fs/types.ts";
import { basicContentReader, referenceVariants } from "./resolver.ts";
import type { BaseImage, BuildImageConfig, ImageResolver, PackageCatalog } from "./types.ts";

/** Reads a catalog file by its name in public/catalog (fetch in the browser, the file system in Node). */
export type CatalogLoader = (file: string) => Promise<Uint8Array | undefined>;

/** Adapts the apt catalog to the builder's PackageCatalog port. */
export function aptPackageCatalog(apt: AptCatalog, base: BaseCatalog): PackageCatalog {
  const target = aptTargetOfBase(base);
  return {
    update() {
      const files = rowsToEntries(aptListsRows(apt), {}, `${apt.id}:lists`);
      return { files, output: apt.update.stdout };
    },
    cacheFiles() {
      return Object.entries(apt.cacheSizes).map(
        ([path, size]): FileEntry => ({
          path: path.replace(/^\/+/, ""),
          type: "file",
          mode: 0o644,
          uid: 0,
          gid: 0,
          size,
          mtime: 0,
          content: { kind: "synthetic", seed: size },
        }),
      );
    },
    plan(names, options) {
      const installed = parseDpkgStatus(options.dpkgStatus ?? "");
      const r = resolveAptInstall(apt, names, { installed, recommends: options.recommends });
      return {
        packages: r.install.map((item) => ({
          name: item.name,
          version: item.pkg.version,
          archiveSize: item.pkg.debSize,
          archiveFile: item.pkg.debFile,
          files: aptPackageEntries(item.name, item.pkg, target),
        })),
        unknown: [],
        errors: r.errors,
        already: r.alreadyInstalled,
      };
    },
  };
}

/** Resolves the built-in bases by name through a loader of catalog files. */
export function builtinResolver(load?: CatalogLoader): ImageResolver {
  let index: Promise<CatalogIndex | undefined> | undefined;
  const bases = new Map<string, Promise<BaseCatalog>>();
  const apts = new Map<string, Promise<AptCatalog | undefined>>();
  // One BaseImage per name, so its layer is materialised and stored once per store, not per build.
  const resolved = new Map<string, Promise<BaseImage | undefined>>();
  const readContent = basicContentReader;
  const loadIndex = () => {
    index ??= (async () => {
      const bytes = load ? await load("index.json") : undefined;
      return bytes ? parseCatalogIndex(bytes) : undefined;
    })();
    return index;
  };
  return {
    readContent,
    resolve(ref) {
      let p = resolved.get(ref);
      if (!p) {
        p = resolveBuiltin(ref);
        resolved.set(ref, p);
      }
      return p;
    },
  };
  async function resolveBuiltin(ref: string): Promise<BaseImage | undefined> {
    {
      const idx = await loadIndex();
      if (!idx || !load) return undefined;
      const variants = referenceVariants(ref).flatMap((v) => (/:[^/]+$/.test(v) ? [v] : [v, `${v}:latest`]));
      const info = idx.bases.find((b) => variants.includes(b.name));
      if (!info) return undefined;
      let basePromise = bases.get(info.file);
      if (!basePromise) {
        basePromise = (async () => {
          const bytes = await load(info.file);
          if (!bytes) throw new Error(`the built-in catalog file ${info.file} is missing`);
          return parseBaseCatalog(bytes, info.file);
        })();
        bases.set(info.file, basePromise);
      }
      const base = await basePromise;
      const entries = baseEntries(base);
      const diffId = await sha256(`layerlab builtin ${info.name} ${base.id} ${entries.length}`);
      const config: BuildImageConfig = {
        architecture: "amd64",
        os: "linux",
        config: { Env: [...info.env], Cmd: [...info.cmd] },
        rootfs: { type: "layers", diff_ids: [diffId] },
        history: [
          {
            created: "1970-01-01T00:00:00Z",
            created_by: `LayerLab built-in base: ${info.label}`,
            comment: "layerlab.builtin",
          },
        ],
      };
      const img: BaseImage = {
        ref,
        config,
        layers: [{ diffId, changeset: { entries, whiteouts: [] } }],
      };
      if (info.standIn) img.standIn = info.label;
      const pm = info.packageManager;
      if (pm?.kind === "apt") {
        let aptPromise = apts.get(pm.file);
        if (!aptPromise) {
          aptPromise = (async () => {
            const bytes = await load(pm.file);
            return bytes ? parseAptCatalog(bytes, pm.file) : undefined;
          })();
          apts.set(pm.file, aptPromise);
        }
        const apt = await aptPromise;
        if (apt) img.packages = aptPackageCatalog(apt, base);
      }
      return img;
    }
  }
}
