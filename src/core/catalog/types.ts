/**
 * The shapes of LayerLab's built-in catalog (public/catalog/): real file lists of teaching base
 * images and of Debian packages, gathered at development time by src/devtools/catalog/.
 */

/** Entry type letters of a catalog row (a tar typeflag, spelled as in `ls -l`; "h" a hardlink). */
export type RowType = "f" | "d" | "l" | "h" | "c" | "b" | "p";

/**
 * One filesystem entry as stored: [path, type, mode, uid, gid, size, mtime, link]. `link` is a
 * symlink's target, a hardlink's first path, or "major,minor" of a device; absent otherwise.
 */
export type CatalogRow =
  | [path: string, type: RowType, mode: number, uid: number, gid: number, size: number, mtime: number]
  | [
      path: string,
      type: RowType,
      mode: number,
      uid: number,
      gid: number,
      size: number,
      mtime: number,
      link: string,
    ];

/** One dpkg path filter line (`path-exclude` / `path-include` in /etc/dpkg/dpkg.cfg.d/). */
export interface DpkgPathFilter {
  kind: "include" | "exclude";
  /** fnmatch pattern over the absolute path; `*` also matches `/`. */
  glob: string;
}

/** A base image's root filesystem: one layer, as its real tar had it (public/catalog/base-*.json.gz). */
export interface BaseCatalog {
  format: "layerlab.base/1";
  /** Namespace of the synthesized contents' seeds, e.g. "debian-bookworm-slim". */
  id: string;
  description: string;
  /** How the file list was made (release, mirror, tools). */
  source: string;
  entries: CatalogRow[];
  /** Real contents of small text files (and /var/lib/dpkg/status), by path. */
  texts: Record<string, string>;
  /** The base's dpkg path filters, in file order (the slim variants exclude docs, man pages, locales). */
  dpkgPathFilters: DpkgPathFilter[];
}

/** What one package's installation adds, as gathered from its .deb and from installing it alone. */
export interface AptPackage {
  version: string;
  architecture: string;
  section: string;
  priority: string;
  summary: string;
  /** Installed-Size from the Packages index, in KiB. */
  installedSize: number;
  /** Size of the .deb in bytes (what apt downloads to /var/cache/apt/archives). */
  debSize: number;
  /** The .deb's name as apt stores it in /var/cache/apt/archives (epoch colon as %3a). */
  debFile: string;
  /** Path on the mirror (pool/...). */
  filename: string;
  sha256: string;
  preDepends: string;
  depends: string;
  recommends: string;
  provides: string;
  conffiles: string[];
  /** The .deb's data.tar members, unfiltered. */
  files: CatalogRow[];
  /** Real text of small configuration files and scripts among `files`. */
  texts: Record<string, string>;
  /** var/lib/dpkg/info/<name>.* files dpkg wrote for it. */
  dpkgInfo?: CatalogRow[];
  /** Files its maintainer scripts and triggers created (byte-compiled Python, alternatives, ...). */
  scriptFiles?: CatalogRow[];
  scriptTexts?: Record<string, string>;
  /** Packages apt had to install in the same step (dependency cycles). */
  installedWith?: string[];
  /** The stanza dpkg adds to /var/lib/dpkg/status when it is installed (as `dpkg-query -s` printed it). */
  statusStanza?: string;
}

/** A command run for real on the slim base (or on what the previous example left), with everything it added, changed and removed. */
export interface AptTransaction {
  command: string;
  /** The command's exit status (examples only; `apt-get update` succeeded). */
  exitCode?: number;
  stdout: string;
  stderr?: string;
  added: CatalogRow[];
  changed: CatalogRow[];
  removed: string[];
}

/** apt's own answer for a target: the packages its `apt-get install -s` would install, in order. */
export interface AptPlanRecord {
  recommends: [name: string, version: string][];
  noRecommends: [name: string, version: string][];
}

/** The apt-get catalog (public/catalog/apt-*.json.gz). */
export interface AptCatalog {
  format: "layerlab.apt/1";
  id: string;
  /** Id of the base whose dpkg status the gathering started from. */
  base: string;
  /** The deb822 sources file apt used. */
  sources: string;
  targets: string[];
  /** `apt-get update` on the base: the lists it wrote (names, sizes), with apt's output. */
  update: AptTransaction;
  /** Sizes of /var/cache/apt/{pkgcache,srcpkgcache}.bin when the docker-clean config does not suppress them. */
  cacheSizes: Record<string, number>;
  plans: Record<string, AptPlanRecord>;
  packages: Record<string, AptPackage>;
  examples: AptTransaction[];
}

/** One built-in base image as the index lists it. */
export interface BaseImageInfo {
  /** The name FROM uses, e.g. "ubuntu:20.04". */
  name: string;
  /** Catalog file (relative to the index) holding its file list. */
  file: string;
  /** True when this is not the image its name says; `label` then says what it is. */
  standIn: boolean;
  /** One honest line for the UI and the CLI. */
  label: string;
  /** Image config defaults, as the real image has them. */
  env: string[];
  cmd: string[];
  /** Package manager simulated for it, and the catalog file it reads. */
  packageManager?: { kind: "apt"; file: string };
  /** The image's ENTRYPOINT, when it has one. */
  entrypoint?: string[];
  /** Layers stacked on `file`'s root filesystem: the `nodeImage` layers of that npm catalog file. */
  layers?: { file: string };
  /** The npm catalog its simulated npm reads. */
  npm?: { file: string };
}

/** public/catalog/index.json. */
export interface CatalogIndex {
  format: "layerlab.catalog-index/1";
  bases: BaseImageInfo[];
}
