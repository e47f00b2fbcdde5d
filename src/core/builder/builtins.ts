/**
 * The built-in teaching bases (public/catalog/): real file lists with synthesized large contents,
 * honestly labelled as stand-ins, with apt-get simulated from the catalog's real package lists.
 * An image imported under the same name wins, because the Store is asked first.
 */
import {
  type AptResolution,
  aptCacheRows,
  aptListsRows,
  aptPackageEntries,
  aptTargetOfBase,
  aptTransactionRows,
  resolveAptInstall,
} from "../catalog/apt.ts";
import { addToDpkgStatus, parseDpkgStatus } from "../catalog/dpkg.ts";
import {
  baseEntries,
  parseAptCatalog,
  parseBaseCatalog,
  parseCatalogIndex,
  rowsToEntries,
} from "../catalog/load.ts";
import { type NpmCatalog, parseNpmCatalog } from "../catalog/npm.ts";
import type { AptCatalog, AptPackage, BaseCatalog, CatalogIndex } from "../catalog/types.ts";
import { sha256 } from "../digest.ts";
import { basicContentReader, referenceVariants } from "./resolver.ts";
import type { BaseImage, BuildImageConfig, ImageResolver, PackageCatalog } from "./types.ts";

/** Reads a catalog file by its name in public/catalog (fetch in the browser, the file system in Node). */
export type CatalogLoader = (file: string) => Promise<Uint8Array | undefined>;

const UNABLE = "E: Unable to locate package ";

/** Where apt downloads a package from, as its "Get:" line names it (pool/updates/ is the security archive). */
function originOf(pkg: AptPackage): string {
  const arch = pkg.architecture === "all" ? "amd64" : pkg.architecture;
  return pkg.filename.startsWith("pool/updates/")
    ? `http://deb.debian.org/debian-security bookworm-security/main ${arch}`
    : `http://deb.debian.org/debian bookworm/main ${arch}`;
}

/** The name dpkg files a package under: var/lib/dpkg/info/<it>.list ("libgpm2:amd64" for Multi-Arch: same). */
function dpkgNameOf(name: string, pkg: AptPackage): string {
  for (const r of pkg.dpkgInfo ?? []) {
    const m = /^var\/lib\/dpkg\/info\/(.+)\.list$/.exec(r[0]);
    if (m) return m[1]!;
  }
  return name;
}

const NO_RESOLUTION: AptResolution = {
  install: [],
  alreadyInstalled: [],
  errors: [],
  downloadBytes: 0,
  installedKiB: 0,
};

/** Adapts the apt catalog to the builder's PackageCatalog port. */
export function aptPackageCatalog(apt: AptCatalog, base: BaseCatalog): PackageCatalog {
  const target = aptTargetOfBase(base);
  return {
    update() {
      const files = rowsToEntries(aptListsRows(apt), {}, `${apt.id}:lists`);
      return { files, output: apt.update.stdout };
    },
    cacheFiles() {
      // Only the two binary caches: the .debs come with each install's plan.
      const rows = aptCacheRows(apt, NO_RESOLUTION, 0);
      return rowsToEntries(rows, {}, `${apt.id}:cache`);
    },
    plan(names, options) {
      const status = options.dpkgStatus ?? "";
      const installed = parseDpkgStatus(status);
      const r = resolveAptInstall(apt, names, { installed, recommends: options.recommends });
      // apt says "Unable to locate" only when its lists lack the name; the real mirror has far more
      // packages than LayerLab's offline catalog, so such names are reported apart.
      const unknown = r.errors.filter((e) => e.startsWith(UNABLE)).map((e) => e.slice(UNABLE.length));
      const errors = r.errors.filter((e) => !e.startsWith(UNABLE));
      return {
        packages: r.install.map((item) => ({
          name: item.name,
          version: item.pkg.version,
          archiveSize: item.pkg.debSize,
          archiveFile: item.pkg.debFile,
          files: aptPackageEntries(item.name, item.pkg, target),
          dpkgName: dpkgNameOf(item.name, item.pkg),
          origin: originOf(item.pkg),
          architecture: item.pkg.architecture,
        })),
        unknown,
        errors,
        already: r.alreadyInstalled,
        downloadBytes: r.downloadBytes,
        installedKiB: r.installedKiB,
        dpkgStatus:
          r.install.length > 0
            ? addToDpkgStatus(
                status,
                r.install.flatMap((p) => (p.pkg.statusStanza ? [p.pkg.statusStanza] : [])),
              )
            : status,
      };
    },
    transactionFiles(command) {
      const exact = aptTransactionRows(apt, command);
      let rows = exact ?? aptTransactionRows(apt) ?? [];
      // The binary caches and .debs are written (or not) by the image's apt config, not copied.
      rows = rows.filter((r) => !r[0].startsWith("var/cache/apt/"));
      // Another command's trigger files belong to its packages (ca-certificates'), not to this one.
      if (!exact) rows = rows.filter((r) => !/^var\/lib\/dpkg\/triggers\/(?!Lock$|Unincorp$)/.test(r[0]));
      return rowsToEntries(rows, {}, `${apt.id}:transaction`);
    },
    recordedOutput(command) {
      const run = apt.examples.find((e) => e.command === command);
      return run ? { stdout: run.stdout, stderr: run.stderr ?? "" } : undefined;
    },
    describe() {
      return {
        packages: Object.keys(apt.packages).length,
        suggested: [...apt.targets],
        distribution: "Debian 12 (bookworm)",
      };
    },
  };
}

/** Resolves the built-in bases by name through a loader of catalog files. */
export function builtinResolver(load?: CatalogLoader): ImageResolver {
  let index: Promise<CatalogIndex | undefined> | undefined;
  const bases = new Map<string, Promise<BaseCatalog>>();
  const apts = new Map<string, Promise<AptCatalog | undefined>>();
  const npms = new Map<string, Promise<NpmCatalog | undefined>>();
  const loadNpm = (file: string): Promise<NpmCatalog | undefined> => {
    let p = npms.get(file);
    if (!p) {
      p = (async () => {
        const bytes = load ? await load(file) : undefined;
        return bytes ? parseNpmCatalog(bytes, file) : undefined;
      })();
      npms.set(file, p);
    }
    return p;
  };
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
      if (info.entrypoint) config.config.Entrypoint = [...info.entrypoint];
      const img: BaseImage = {
        ref,
        config,
        layers: [{ diffId, changeset: { entries, whiteouts: [] } }],
      };
      if (info.layers) {
        // The official image's own steps over the Debian base (the node stand-in's layers).
        const npm = await loadNpm(info.layers.file);
        if (!npm) throw new Error(`the built-in catalog file ${info.layers.file} is missing`);
        const data = npm.nodeImage;
        for (const [i, l] of data.layers.entries()) {
          const created = "1970-01-01T00:00:00Z";
          if (l.emptyLayer || !l.entries) {
            config.history?.push({ created, created_by: l.createdBy, empty_layer: true });
            continue;
          }
          const layerEntries = rowsToEntries(l.entries, l.texts ?? {}, data.id);
          const id = await sha256(
            `layerlab builtin ${info.name} ${data.id} layer ${i} ${layerEntries.length}`,
          );
          config.rootfs.diff_ids.push(id);
          config.history?.push({ created, created_by: l.createdBy, comment: "layerlab.builtin" });
          img.layers.push({ diffId: id, changeset: { entries: layerEntries, whiteouts: [] } });
        }
      }
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
      const npmFile = info.npm?.file;
      if (npmFile && img.packages) img.packages = { ...img.packages, npm: () => loadNpm(npmFile) };
      return img;
    }
  }
}
