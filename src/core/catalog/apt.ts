/**
 * The package side of the simulated apt-get: which packages `apt-get install NAMES` installs
 * (dependency closure over the catalog, skipping what dpkg already has), what each one adds to
 * the filesystem, and what the download and the caches weigh.
 */
import type { FileEntry } from "../fs/types.ts";
import { filterRows, type InstalledPackage, parseDependencyField } from "./dpkg.ts";
import { rowsToEntries } from "./load.ts";
import type { AptCatalog, AptPackage, BaseCatalog, CatalogRow, DpkgPathFilter } from "./types.ts";

/** Why a package is in a plan (apt marks only the requested ones as manually installed). */
export type AptReason = "requested" | "dependency" | "recommended";

/** One package apt-get would install. */
export interface AptPlanItem {
  name: string;
  reason: AptReason;
  pkg: AptPackage;
}

/** The outcome of resolving an `apt-get install`: data, including apt's error lines when it would fail. */
export interface AptResolution {
  /** Packages to install, dependencies before the packages that need them. */
  install: AptPlanItem[];
  /** Requested names that are already installed ("... is already the newest version"). */
  alreadyInstalled: string[];
  /** apt's error lines ("E: Unable to locate package x"); when non-empty nothing is installed. */
  errors: string[];
  /** Sum of the .deb sizes (bytes): "Need to get ...". */
  downloadBytes: number;
  /** Sum of Installed-Size (KiB): "After this operation, ... of additional disk space will be used." */
  installedKiB: number;
}

export interface AptResolveOptions {
  /** What dpkg has installed (parseDpkgStatus of the image's /var/lib/dpkg/status). */
  installed: ReadonlyMap<string, InstalledPackage>;
  /** Install Recommends too (apt's default; false for --no-install-recommends). */
  recommends?: boolean;
}

/** Resolves `apt-get install <names>` against the catalog. */
export function resolveAptInstall(
  catalog: AptCatalog,
  names: readonly string[],
  options: AptResolveOptions,
): AptResolution {
  const { installed } = options;
  // Own properties only: a package named "constructor" must not find Object.prototype's.
  const known = (name: string): boolean => Object.hasOwn(catalog.packages, name);
  const withRecommends = options.recommends ?? true;
  const providers = new Map<string, string[]>();
  for (const [name, p] of Object.entries(catalog.packages)) {
    for (const v of parseDependencyField(p.provides).flat()) {
      const list = providers.get(v) ?? [];
      list.push(name);
      providers.set(v, list);
    }
  }
  const installedProvides = new Set<string>();
  for (const p of installed.values()) for (const v of p.provides) installedProvides.add(v);

  const selected = new Map<string, AptPlanItem>();
  const errors: string[] = [];
  const alreadyInstalled: string[] = [];

  const isSatisfied = (name: string): boolean =>
    installed.has(name) ||
    installedProvides.has(name) ||
    selected.has(name) ||
    (providers.get(name) ?? []).some((p) => selected.has(p));
  const pick = (alts: readonly string[]): string | undefined => {
    for (const a of alts) if (known(a)) return a;
    for (const a of alts) {
      const p = providers.get(a)?.[0];
      if (p) return p;
    }
    return undefined;
  };

  const visit = (name: string, reason: AptReason): void => {
    if (installed.has(name) || selected.has(name)) return;
    const pkg = catalog.packages[name]!;
    selected.set(name, { name, reason, pkg });
    for (const group of parseDependencyField(`${pkg.preDepends},${pkg.depends}`)) {
      if (group.some(isSatisfied)) continue;
      const chosen = pick(group);
      if (chosen === undefined) {
        errors.push(
          `E: ${name} depends on ${group.join(" | ")}, which LayerLab's package catalog does not have`,
        );
        continue;
      }
      visit(chosen, "dependency");
    }
    if (!withRecommends) return;
    for (const group of parseDependencyField(pkg.recommends)) {
      if (group.some(isSatisfied)) continue;
      const chosen = pick(group);
      if (chosen !== undefined) visit(chosen, "recommended");
    }
  };

  for (const name of names) {
    if (installed.has(name)) {
      alreadyInstalled.push(name);
      continue;
    }
    const chosen = known(name) ? name : pick([name]);
    if (chosen === undefined) errors.push(`E: Unable to locate package ${name}`);
  }
  if (errors.length > 0) return { install: [], alreadyInstalled, errors, downloadBytes: 0, installedKiB: 0 };
  for (const name of names) {
    if (installed.has(name)) continue;
    const chosen = known(name) ? name : pick([name])!;
    // A name given on the command line is requested even if an earlier one pulled it in.
    const earlier = selected.get(chosen);
    if (earlier) earlier.reason = "requested";
    else visit(chosen, "requested");
  }
  if (errors.length > 0) return { install: [], alreadyInstalled, errors, downloadBytes: 0, installedKiB: 0 };

  const install = orderByDependencies(selected);
  let downloadBytes = 0;
  let installedKiB = 0;
  for (const item of install) {
    downloadBytes += item.pkg.debSize;
    installedKiB += item.pkg.installedSize;
  }
  return { install, alreadyInstalled, errors, downloadBytes, installedKiB };
}

/** Depth-first: each package after its Pre-Depends and Depends among the selection (cycles cut where met). */
function orderByDependencies(selected: ReadonlyMap<string, AptPlanItem>): AptPlanItem[] {
  const order: AptPlanItem[] = [];
  const state = new Map<string, 1 | 2>();
  const providerOf = new Map<string, string>();
  for (const [name, item] of selected) {
    for (const v of parseDependencyField(item.pkg.provides).flat()) providerOf.set(v, name);
  }
  const visit = (name: string): void => {
    if (state.has(name)) return;
    const item = selected.get(name);
    if (!item) return;
    state.set(name, 1);
    for (const group of parseDependencyField(`${item.pkg.preDepends},${item.pkg.depends}`)) {
      for (const alt of group) {
        const target = selected.has(alt) ? alt : providerOf.get(alt);
        if (target !== undefined) {
          visit(target);
          break;
        }
      }
    }
    state.set(name, 2);
    order.push(item);
  };
  for (const name of selected.keys()) visit(name);
  return order;
}

/** What of the target filesystem decides where dpkg puts a package's files. */
export interface AptTarget {
  /** dpkg path filters of the image (/etc/dpkg/dpkg.cfg.d/), in order. */
  filters: readonly DpkgPathFilter[];
  /** Top-level symlinks to directories ("lib" → "usr/lib" on merged-/usr systems), which dpkg unpacks through. */
  dirLinks: ReadonlyMap<string, string>;
}

/** The AptTarget of a base image: its dpkg path filters and its top-level directory symlinks. */
export function aptTargetOfBase(base: BaseCatalog): AptTarget {
  const dirs = new Set<string>();
  for (const r of base.entries) if (r[1] === "d") dirs.add(r[0]);
  const dirLinks = new Map<string, string>();
  for (const r of base.entries) {
    if (r[1] !== "l" || r[0].includes("/") || r[7] === undefined) continue;
    const target = r[7].replace(/^\/+/, "").replace(/\/+$/, "");
    if (dirs.has(target)) dirLinks.set(r[0], target);
  }
  return { filters: base.dpkgPathFilters, dirLinks };
}

const NO_TARGET: AptTarget = { filters: [], dirLinks: new Map() };

/** A .deb member's path where it lands: "lib/x/libz.so.1" → "usr/lib/x/libz.so.1"; undefined for the symlinked directory itself. */
function landingPath(path: string, dirLinks: ReadonlyMap<string, string>): string | undefined {
  const slash = path.indexOf("/");
  const top = slash < 0 ? path : path.slice(0, slash);
  const link = dirLinks.get(top);
  if (link === undefined) return path;
  return slash < 0 ? undefined : link + path.slice(slash);
}

/**
 * The rows one package's installation adds: its .deb members as dpkg unpacks them (under the
 * target's path filters, through its directory symlinks), the var/lib/dpkg/info files, and what
 * its maintainer scripts created.
 */
export function aptPackageRows(pkg: AptPackage, target: AptTarget = NO_TARGET): CatalogRow[] {
  const out: CatalogRow[] = [];
  for (const r of filterRows(pkg.files, target.filters)) {
    const path = landingPath(r[0], target.dirLinks);
    if (path === undefined) continue;
    if (path === r[0]) {
      out.push(r);
      continue;
    }
    const moved = [...r] as CatalogRow;
    moved[0] = path;
    if (moved[1] === "h" && moved[7] !== undefined)
      moved[7] = landingPath(moved[7], target.dirLinks) ?? moved[7];
    out.push(moved);
  }
  return [...out, ...(pkg.dpkgInfo ?? []), ...(pkg.scriptFiles ?? [])];
}

/**
 * aptPackageRows as FileEntry values; synthesized contents are seeded per package version and
 * path, and dpkg's own var/lib/dpkg/info/<name>.list and .conffiles get their real text.
 */
export function aptPackageEntries(name: string, pkg: AptPackage, target: AptTarget = NO_TARGET): FileEntry[] {
  const texts: Record<string, string> = { ...(pkg.scriptTexts ?? {}) };
  for (const [path, text] of Object.entries(pkg.texts))
    texts[landingPath(path, target.dirLinks) ?? path] = text;
  for (const r of pkg.dpkgInfo ?? []) {
    if (r[0].endsWith(".list")) texts[r[0]] = dpkgListText(pkg);
    else if (r[0].endsWith(".conffiles")) texts[r[0]] = pkg.conffiles.map((c) => `/${c}\n`).join("");
  }
  return rowsToEntries(aptPackageRows(pkg, target), texts, aptSeedNamespace(name, pkg));
}

/**
 * The text of var/lib/dpkg/info/<name>.list: "/." and every member of the .deb, in archive order,
 * including those the path filters kept off the disk (dpkg still lists them).
 */
export function dpkgListText(pkg: AptPackage): string {
  let out = "/.\n";
  for (const r of pkg.files) out += `/${r[0]}\n`;
  return out;
}

/** The seed namespace of a package's synthesized contents. */
export function aptSeedNamespace(name: string, pkg: AptPackage): string {
  return `deb:${name}=${pkg.version}`;
}

/** Names and sizes of what `apt-get update` leaves in /var/lib/apt/lists (the real files of the gathering run). */
export function aptListsRows(catalog: AptCatalog): CatalogRow[] {
  return catalog.update.added.filter((r) => r[0].startsWith("var/lib/apt/lists/"));
}

/** The files a real `apt-get update` added or changed on the base, as FileEntry values (index contents synthesized). */
export function aptUpdateEntries(catalog: AptCatalog): FileEntry[] {
  return rowsToEntries([...catalog.update.added, ...catalog.update.changed], {}, `${catalog.id}:update`);
}

/**
 * What apt keeps in /var/cache/apt after installing `plan` when no docker-clean configuration
 * deletes it: each downloaded .deb under archives/ and the two binary caches, with real sizes.
 */
export function aptCacheRows(catalog: AptCatalog, plan: AptResolution, mtime: number): CatalogRow[] {
  const rows: CatalogRow[] = [];
  for (const [name, size] of Object.entries(catalog.cacheSizes)) {
    rows.push([`var/cache/apt/${name}`, "f", 0o644, 0, 0, size, mtime]);
  }
  for (const item of plan.install) {
    rows.push([`var/cache/apt/archives/${item.pkg.debFile}`, "f", 0o644, 0, 0, item.pkg.debSize, mtime]);
  }
  return rows;
}

/**
 * Files every apt/dpkg run rewrites rather than any one package: apt's and dpkg's logs, the
 * debconf cache, dpkg's status and its backup, ldconfig's cache. (The same rule as gather-apt.py.)
 */
export const APT_TRANSACTION_FILES =
  /^(var\/log\/|var\/lib\/dpkg\/(status|status-old|available|lock.*|triggers\/.*|diversions.*|statoverride.*)$|var\/lib\/apt\/extended_states$|var\/cache\/debconf\/|var\/cache\/ldconfig\/|etc\/ld\.so\.cache$|var\/cache\/apt\/)/;

/**
 * The per-transaction files (APT_TRANSACTION_FILES, regular files only) as a recorded real run
 * left them, e.g. var/log/apt/term.log and var/cache/debconf/templates.dat with their real sizes.
 * Their sizes are those of that run: exact for the same command, an approximation for others.
 * var/lib/dpkg/status is left out: addToDpkgStatus rebuilds it exactly.
 */
export function aptTransactionRows(
  catalog: AptCatalog,
  command = "apt-get install -y python3",
): CatalogRow[] | undefined {
  const run = catalog.examples.find((e) => e.command === command);
  if (!run) return undefined;
  return [...run.added, ...run.changed].filter(
    (r) => r[1] === "f" && APT_TRANSACTION_FILES.test(r[0]) && r[0] !== "var/lib/dpkg/status",
  );
}
