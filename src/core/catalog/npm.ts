/**
 * LayerLab's npm catalog (public/catalog/npm.json.gz): real package versions from the npm registry
 * with their tarballs' file lists, npm's own lockfile entries and recorded real npm runs, gathered
 * by src/devtools/catalog/gather-npm.py. Here: its shapes, a loader, npm's version ranges and tags,
 * npm's hoisted tree placement and its lockfile text.
 */
import semver from "semver";
import { LayerLabError } from "../errors.ts";
import { checkRows, decodeCatalogBytes } from "./load.ts";
import type { CatalogRow } from "./types.ts";

/** A tarball member: [path without the top folder, "f" or "d", mode, size]. */
export type NpmFileRow = [path: string, type: "f" | "d", mode: number, size: number];

/** A package.json-like map of names to ranges. */
export type DependencyMap = Record<string, string>;

/** npm's lockfile entry of a package version, without the tree's flags (dev, optional, ...). */
export interface NpmLockEntry {
  version: string;
  resolved: string;
  integrity: string;
  license?: string;
  dependencies?: DependencyMap;
  optionalDependencies?: DependencyMap;
  peerDependencies?: DependencyMap;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  funding?: unknown;
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
  [key: string]: unknown;
}

/** One version of a package as the catalog holds it. */
export interface NpmVersion {
  lock: NpmLockEntry;
  /** Bytes of the .tgz as the registry serves it (what lands in the npm cache). */
  tarballSize: number;
  /** The tarball's members; absent for versions npm never fetched (another platform's). */
  files: NpmFileRow[];
  /** Real text of package.json, bin scripts and small files, by path in the package. */
  texts: Record<string, string>;
  deprecated?: string;
}

/** A package name with the versions the catalog holds. */
export interface NpmPackage {
  versions: Record<string, NpmVersion>;
  /** The registry's dist-tags.latest when gathered. */
  latest?: string;
  /** Every dist-tag of the registry's document, when gathered ("next", "beta"); `latest` is above. */
  distTags?: Record<string, string>;
  /** Bytes and integrity of the registry document npm fetched and cached for this name. */
  packumentSize?: number;
  packumentIntegrity?: string;
}

/** One real npm command run during gathering, with what it printed and left behind. */
export interface NpmRecordedRun {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  packageJsonBefore: string | null;
  packageJson: string | null;
  lockfile: string | null;
  hiddenLockfile: string | null;
  /** node_modules afterwards: [path, type, mode, size, link?]. */
  nodeModules: (string | number)[][];
  /** Files under ~/.npm afterwards (logs left out): [path, "f", mode, size]. */
  cache: (string | number)[][];
}

/** A layer of the stand-in node image over the Debian base. */
export interface NodeImageLayer {
  createdBy: string;
  emptyLayer?: boolean;
  entries?: CatalogRow[];
  texts?: Record<string, string>;
}

/** The stand-in node image's own layers and config. */
export interface NodeImageData {
  id: string;
  sources: Record<string, { version: string; tarball: string; integrity: string; tarballSize: number }>;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  layers: NodeImageLayer[];
}

/** public/catalog/npm.json.gz. */
export interface NpmCatalog {
  format: "layerlab.npm/1";
  id: string;
  registry: string;
  npmVersion: string;
  source: string;
  /** The names people are told the catalog has. */
  suggested: string[];
  packages: Record<string, NpmPackage>;
  examples: { name: string; runs: NpmRecordedRun[] }[];
  nodeImage: NodeImageData;
}

const SHAREABLE = ["packageJsonBefore", "packageJson", "lockfile", "hiddenLockfile", "nodeModules", "cache"];

function invalid(what: string, message: string): LayerLabError {
  return new LayerLabError("ARCHIVE_INVALID", `catalog ${what}: ${message}`);
}

/** Reads the npm catalog, checking the shapes later code relies on. */
export function parseNpmCatalog(bytes: Uint8Array, what = "npm"): NpmCatalog {
  const doc = decodeCatalogBytes(bytes, what) as Partial<NpmCatalog> | null;
  if (typeof doc !== "object" || doc === null || doc.format !== "layerlab.npm/1")
    throw invalid(what, `format is not "layerlab.npm/1"`);
  if (typeof doc.packages !== "object" || doc.packages === null) throw invalid(what, "packages missing");
  for (const [name, p] of Object.entries(doc.packages)) {
    if (!isSafeName(name))
      throw invalid(what, `package name ${JSON.stringify(name)} is not a plain npm name`);
    for (const [v, rec] of Object.entries(p.versions ?? {})) {
      const ok =
        Array.isArray(rec.files) &&
        rec.files.every(
          (r) =>
            Array.isArray(r) &&
            typeof r[0] === "string" &&
            r[0] !== "" &&
            !r[0].startsWith("/") &&
            !r[0].split("/").some((s) => s === "" || s === "." || s === "..") &&
            (r[1] === "f" || r[1] === "d") &&
            Number.isSafeInteger(r[2]) &&
            Number.isSafeInteger(r[3]) &&
            r[3] >= 0,
        ) &&
        typeof rec.lock?.integrity === "string" &&
        Number.isSafeInteger(rec.tarballSize);
      if (!ok) throw invalid(what, `package ${name}@${v} is malformed`);
    }
  }
  if (!doc.nodeImage || !Array.isArray(doc.nodeImage.layers)) throw invalid(what, "nodeImage missing");
  // A run stores only what differs from the run before it; "same" names the fields it shares.
  for (const ex of doc.examples ?? []) {
    ex.runs.forEach((run, i) => {
      const prev = ex.runs[i - 1];
      const same = (run as { same?: unknown }).same;
      if (!Array.isArray(same)) return;
      for (const k of same) {
        if (!prev || !SHAREABLE.includes(k))
          throw invalid(what, `example ${ex.name} run ${i} shares ${k} with nothing`);
        (run as unknown as Record<string, unknown>)[k] = (prev as unknown as Record<string, unknown>)[k];
      }
    });
  }
  for (const l of doc.nodeImage.layers) if (l.entries) checkRows(l.entries, `${what} node layer`);
  return doc as NpmCatalog;
}

/** A name npm accepts: lower-case, optionally scoped, no path tricks. */
export function isSafeName(name: string): boolean {
  return /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name) && name.length <= 214;
}

// ---------------------------------------------------------------------------------------------
// Versions, ranges and tags, as npm reads them: npm's own `semver` package decides what a range
// means (including its prerelease rules), and a spec that is no range is a dist-tag, never a range.

/** npm reads specs loosely (npm-package-arg and npm-pick-manifest pass `loose`). */
const LOOSE = { loose: true } as const;

/** Parses "1.2.3" or "1.2.3-beta.1" (a leading "v" or "=" allowed) to its clean form; undefined otherwise. */
export function parseVersion(text: string): string | undefined {
  return semver.valid(text.trim(), LOOSE) ?? undefined;
}

/** Orders versions as semver does (a prerelease sorts before its release); non-versions by text. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return semver.compare(x, y);
}

/** Whether `version` satisfies the range, with npm's rules (a prerelease only where the range names one of the same version). */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  const r = range.trim() === "" ? "*" : range;
  return semver.validRange(r, LOOSE) !== null && semver.satisfies(v, r, LOOSE);
}

/** Whether a spec is a version range npm accepts ("^1.2.3", "1.x", ">=1 <2", "*", ""). */
export function isValidRange(range: string): boolean {
  return range.trim() === "" || semver.validRange(range, LOOSE) !== null;
}

/**
 * Whether a spec is a dist-tag name ("latest", "next"): what npm-package-arg calls a tag, a spec
 * that is no range and needs no escaping in a URL (so "github:x/y" and "./dir" are neither).
 */
export function isTag(spec: string): boolean {
  const t = spec.trim();
  return t !== "" && !isValidRange(t) && encodeURIComponent(t) === t;
}

/** Whether `npm install name@spec` may say this: a range or a dist-tag. */
export function isValidSpec(spec: string): boolean {
  return isValidRange(spec) || isTag(spec);
}

/** The version a dist-tag points at, as the registry's dist-tags say (the catalog always has `latest`). */
export function resolveTag(pkg: NpmPackage, tag: string): string | undefined {
  const t = tag.trim();
  return pkg.distTags?.[t] ?? (t === "latest" ? pkg.latest : undefined);
}

/** Whether a placed version meets a dependency's spec: the tag's version for a dist-tag, else the range. */
export function meetsSpec(catalog: NpmCatalog, name: string, version: string, spec: string): boolean {
  if (!isTag(spec)) return satisfies(version, spec);
  const pkg = catalog.packages[name];
  return pkg !== undefined && resolveTag(pkg, spec) === version;
}

// ---------------------------------------------------------------------------------------------
// The tree npm builds: a hoisted node_modules, nested where versions conflict.

/** A package placed in the tree. */
export interface TreeNode {
  name: string;
  version: string;
  /** "node_modules/a" or "node_modules/a/node_modules/b"; "" for the project itself. */
  location: string;
  parent: TreeNode | undefined;
  children: Map<string, TreeNode>;
  dev: boolean;
  optional: boolean;
  devOptional: boolean;
  /** Not installed here: its os/cpu are not linux/x64 (npm keeps it in the lockfile only). */
  skipped: boolean;
}

/** A requirement the catalog cannot meet. */
export interface NpmMissing {
  name: string;
  range: string;
  /** Who asked ("" for the project's package.json). */
  from: string;
  /** The versions the catalog has of that name (none when it does not know the name). */
  have: string[];
}

/** The project's own dependencies, as package.json declares them. */
export interface RootManifest {
  name?: string;
  version?: string;
  dependencies?: DependencyMap;
  devDependencies?: DependencyMap;
  optionalDependencies?: DependencyMap;
  peerDependencies?: DependencyMap;
  [key: string]: unknown;
}

type EdgeKind = "prod" | "dev" | "optional";

/** A dependency map's entries, ignoring anything that is not a name → range string map. */
function depsOf(value: unknown): [string, string][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string");
}

/** The edges going out of a node: name, range and kind, sorted by name as arborist walks them. */
function edgesOf(node: TreeNode, root: RootManifest, catalog: NpmCatalog): [string, string, EdgeKind][] {
  const out = new Map<string, [string, string, EdgeKind]>();
  if (node.location === "") {
    for (const [n, r] of depsOf(root.devDependencies)) out.set(n, [n, r, "dev"]);
    for (const [n, r] of depsOf(root.peerDependencies)) out.set(n, [n, r, "prod"]);
    for (const [n, r] of depsOf(root.dependencies)) out.set(n, [n, r, "prod"]);
    for (const [n, r] of depsOf(root.optionalDependencies)) out.set(n, [n, r, "optional"]);
  } else {
    const lock = catalog.packages[node.name]?.versions[node.version]?.lock;
    const meta = lock?.peerDependenciesMeta ?? {};
    for (const [n, r] of depsOf(lock?.peerDependencies)) {
      // Optional peers are installed only when something else brings them.
      if (!meta[n]?.optional) out.set(n, [n, r, "prod"]);
    }
    for (const [n, r] of depsOf(lock?.dependencies)) out.set(n, [n, r, "prod"]);
    for (const [n, r] of depsOf(lock?.optionalDependencies)) out.set(n, [n, r, "optional"]);
  }
  return [...out.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The node a dependency named `name` resolves to from `from` (Node's module lookup upwards). */
export function resolveFrom(from: TreeNode, name: string): TreeNode | undefined {
  for (let n: TreeNode | undefined = from; n; n = n.parent) {
    const c = n.children.get(name);
    if (c) return c;
  }
  return undefined;
}

/**
 * The version npm picks for a spec (npm-pick-manifest's order): a dist-tag is the version it
 * points at; for a range, dist-tags.latest when it satisfies, else the highest version that does.
 */
export function pickVersion(catalog: NpmCatalog, name: string, spec: string): string | undefined {
  const pkg = catalog.packages[name];
  if (!pkg) return undefined;
  if (isTag(spec)) {
    const v = resolveTag(pkg, spec);
    return v !== undefined && pkg.versions[v] ? v : undefined;
  }
  if (!isValidRange(spec)) return undefined;
  const latest = resolveTag(pkg, "latest");
  if (latest !== undefined && pkg.versions[latest] && satisfies(latest, spec)) return latest;
  // Versions npm never fetched (another platform's) have no file list: never picked by range.
  const ok = Object.keys(pkg.versions).filter(
    (v) => (pkg.versions[v]!.files ?? null) !== null && satisfies(v, spec),
  );
  return ok.sort(compareVersions).at(-1);
}

function platformSkips(lock: NpmLockEntry | undefined): boolean {
  const allowed = (list: string[] | undefined, value: string) => {
    if (!list || list.length === 0) return true;
    const neg = list.filter((x) => x.startsWith("!")).map((x) => x.slice(1));
    const pos = list.filter((x) => !x.startsWith("!"));
    if (neg.includes(value)) return false;
    return pos.length === 0 || pos.includes(value);
  };
  return !allowed(lock?.os, "linux") || !allowed(lock?.cpu, "x64");
}

function childLocation(parent: TreeNode, name: string): string {
  return parent.location === "" ? `node_modules/${name}` : `${parent.location}/node_modules/${name}`;
}

function makeNode(parent: TreeNode, name: string, version: string, catalog: NpmCatalog): TreeNode {
  const node: TreeNode = {
    name,
    version,
    location: childLocation(parent, name),
    parent,
    children: new Map(),
    dev: false,
    optional: false,
    devOptional: false,
    skipped: platformSkips(catalog.packages[name]?.versions[version]?.lock),
  };
  parent.children.set(name, node);
  return node;
}

/** The project root of a tree. */
export function newRoot(): TreeNode {
  return {
    name: "",
    version: "",
    location: "",
    parent: undefined,
    children: new Map(),
    dev: false,
    optional: false,
    devOptional: false,
    skipped: false,
  };
}

/** Every node of the tree below the root, by location (sorted as npm sorts them). */
export function treeNodes(root: TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  const walk = (n: TreeNode) => {
    for (const c of n.children.values()) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out.sort((a, b) => a.location.localeCompare(b.location, "en"));
}

/**
 * Builds npm's ideal tree for the project: breadth first, each dependency placed as high as it can
 * go without clashing with another version of the same name on the way up (nested otherwise),
 * versions as npm picks them. A lockfile's packages (`locked`) are the starting tree, as in
 * `npm install` and `npm ci`: only what no longer satisfies package.json is resolved again, and
 * what nothing needs any more is pruned. `resolved` names the packages placed afresh (npm fetches
 * their registry documents); `fromLock` says the lockfile needed no change.
 */
export function buildIdealTree(
  catalog: NpmCatalog,
  root: RootManifest,
  locked?: Record<string, { version?: string }>,
): { root: TreeNode; missing: NpmMissing[]; fromLock: boolean; resolved: string[] } {
  const top = (locked && treeFromLock(catalog, locked)) || newRoot();
  const fromFile =
    top.children.size > 0 || (locked !== undefined && Object.keys(locked).every((k) => k === ""));
  const stale = fromFile && prune(top, root, catalog, true);
  const missing: NpmMissing[] = [];
  const resolved = new Set<string>();
  const walked = new Set<TreeNode>();
  let queue: TreeNode[] = [top];
  while (queue.length > 0) {
    for (const node of queue) {
      if (node.skipped) continue;
      for (const [name, range] of edgesOf(node, root, catalog)) {
        const seen = resolveFrom(node, name);
        if (seen && meetsSpec(catalog, name, seen.version, range)) continue;
        const version = pickVersion(catalog, name, range);
        if (!version) {
          missing.push({
            name,
            range,
            from: node.location === "" ? "" : `${node.name}@${node.version}`,
            have: Object.keys(catalog.packages[name]?.versions ?? {}).sort(compareVersions),
          });
          continue;
        }
        // Walk up from the node's own node_modules while no other version of the name is in the way.
        let target = node;
        let reuse: TreeNode | undefined;
        for (let cur: TreeNode | undefined = node; cur; cur = cur.parent) {
          const there = cur.children.get(name);
          if (there) {
            if (there.version === version) reuse = there;
            break;
          }
          // A package never sits in its own node_modules' parent chain under its own name.
          if (cur !== node && cur.name === name) break;
          target = cur;
        }
        if (reuse) continue;
        resolved.add(name);
        makeNode(target, name, version, catalog);
      }
    }
    // Next: every node not walked yet (those just placed, and on the first round the lockfile's).
    for (const n of queue) walked.add(n);
    queue = treeNodes(top)
      .filter((n) => !walked.has(n))
      .sort((a, b) => depth(a) - depth(b) || a.location.localeCompare(b.location, "en"));
  }
  const pruned = prune(top, root, catalog);
  computeFlags(top, root, catalog);
  return {
    root: top,
    missing,
    fromLock: fromFile && resolved.size === 0 && missing.length === 0 && !pruned && !stale,
    resolved: [...resolved].sort(),
  };
}

const depth = (n: TreeNode): number => n.location.split("node_modules/").length - 1;

/**
 * Removes the nodes no edge reaches any more (what npm calls extraneous); true when any went. With
 * `satisfiedOnly`, edges whose target no longer satisfies them do not count, so a lockfile's
 * outdated subtree goes before the new versions are placed (and does not force them to nest).
 */
function prune(top: TreeNode, root: RootManifest, catalog: NpmCatalog, satisfiedOnly = false): boolean {
  const reached = new Set<TreeNode>();
  const stack: TreeNode[] = [top];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (reached.has(n)) continue;
    reached.add(n);
    if (n.skipped) continue;
    for (const [name, range] of edgesOf(n, root, catalog)) {
      const to = resolveFrom(n, name);
      if (to && (!satisfiedOnly || meetsSpec(catalog, name, to.version, range))) stack.push(to);
    }
  }
  let any = false;
  for (const n of treeNodes(top)) {
    if (reached.has(n) || !n.parent) continue;
    if (n.parent.children.get(n.name) === n) n.parent.children.delete(n.name);
    any = true;
  }
  return any;
}

/** The tree a lockfile describes, when every entry is a package version the catalog has. */
function treeFromLock(
  catalog: NpmCatalog,
  locked: Record<string, { version?: string }>,
): TreeNode | undefined {
  const top = newRoot();
  const byLoc = new Map<string, TreeNode>([["", top]]);
  const locs = Object.keys(locked)
    .filter((l) => l !== "")
    .sort((a, b) => a.split("node_modules/").length - b.split("node_modules/").length || (a < b ? -1 : 1));
  for (const loc of locs) {
    const m = /^(?:(.*)\/)?node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(loc);
    const version = locked[loc]?.version;
    if (!m || !version) return undefined;
    const parent = byLoc.get(m[1] ?? "");
    const name = m[2]!;
    if (!parent || !catalog.packages[name]?.versions[version]) return undefined;
    byLoc.set(loc, makeNode(parent, name, version, catalog));
  }
  return top;
}

/** dev / optional / devOptional as arborist computes them: how a node can be reached from the root. */
function computeFlags(top: TreeNode, root: RootManifest, catalog: NpmCatalog): void {
  const reach = (rootKinds: EdgeKind[], followOptional: boolean): Set<TreeNode> => {
    const seen = new Set<TreeNode>();
    const stack: TreeNode[] = [];
    for (const [name, , kind] of edgesOf(top, root, catalog)) {
      const to = top.children.get(name);
      if (to && rootKinds.includes(kind)) stack.push(to);
    }
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const [name, , kind] of edgesOf(n, root, catalog)) {
        if (kind === "optional" && !followOptional) continue;
        const to = resolveFrom(n, name);
        if (to) stack.push(to);
      }
    }
    return seen;
  };
  const notDev = reach(["prod", "optional"], true);
  const notOptional = reach(["prod", "dev"], false);
  const prod = reach(["prod"], false);
  for (const n of treeNodes(top)) {
    n.dev = !notDev.has(n);
    n.optional = !notOptional.has(n);
    n.devOptional = !prod.has(n) && !n.dev && !n.optional;
  }
}

/** Whether `--omit` leaves a node out of node_modules (it stays in the lockfile). */
export function omitted(node: TreeNode, omit: ReadonlySet<string>): boolean {
  if (node.skipped) return true;
  if (node.dev && omit.has("dev")) return true;
  if (node.optional && omit.has("optional")) return true;
  if (node.devOptional && omit.has("dev") && omit.has("optional")) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Lockfiles as npm writes them (json-stringify-nice with arborist's preferred key order).

const LOCK_KEY_ORDER = [
  "name",
  "version",
  "lockfileVersion",
  "resolved",
  "integrity",
  "requires",
  "packages",
  "dependencies",
];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON text with keys ordered as npm's json-stringify-nice orders them: preferred, then scalars, then objects. */
export function stringifyNice(value: unknown, prefKeys: readonly string[] = LOCK_KEY_ORDER): string {
  const compare = (a: string, b: string): number => {
    const ia = prefKeys.indexOf(a);
    const ib = prefKeys.indexOf(b);
    if (ia >= 0 && ib < 0) return -1;
    if (ib >= 0 && ia < 0) return 1;
    if (ia >= 0 && ib >= 0) return ia - ib;
    return a.localeCompare(b, "en");
  };
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (!isObj(v)) return v;
    const entries = Object.entries(v).sort(([ak, av], [bk, bv]) =>
      isObj(av) === isObj(bv) ? compare(ak, bk) : isObj(av) ? 1 : -1,
    );
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) out[k] = sorted(x);
    return out;
  };
  return `${JSON.stringify(sorted(value), null, 2)}\n`;
}

/** The lockfile entry npm writes for a node. */
export function lockEntryOf(node: TreeNode, catalog: NpmCatalog): Record<string, unknown> {
  const lock = catalog.packages[node.name]?.versions[node.version]?.lock;
  const meta: Record<string, unknown> = { ...lock };
  if (node.dev) meta.dev = true;
  if (node.optional) meta.optional = true;
  if (node.devOptional) meta.devOptional = true;
  return meta;
}

/** The root entry ("") of a lockfile: package.json's fields arborist keeps, in its order. */
function rootEntry(root: RootManifest): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  for (const key of [
    "name",
    "version",
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "optionalDependencies",
    "bundleDependencies",
    "funding",
    "engines",
    "os",
    "cpu",
    "license",
    "bin",
    "workspaces",
  ]) {
    const v = root[key];
    if (v === undefined || v === null || v === "") continue;
    if (isObj(v) && Object.keys(v).length === 0 && key !== "dependencies") continue;
    meta[key] = key === "license" && isObj(v) && typeof v.type === "string" ? v.type : v;
  }
  return meta;
}

/** package-lock.json as npm 10 writes it (lockfileVersion 3). */
export function lockfileText(top: TreeNode, root: RootManifest, catalog: NpmCatalog): string {
  const packages: Record<string, unknown> = { "": rootEntry(root) };
  for (const n of treeNodes(top)) packages[n.location] = lockEntryOf(n, catalog);
  const doc: Record<string, unknown> = {};
  if (root.name !== undefined) doc.name = root.name;
  if (root.version !== undefined) doc.version = root.version;
  Object.assign(doc, { lockfileVersion: 3, requires: true, packages });
  return stringifyNice(doc);
}

/** node_modules/.package-lock.json: the packages actually on disk, without the root entry. */
export function hiddenLockfileText(
  top: TreeNode,
  root: RootManifest,
  catalog: NpmCatalog,
  present: (n: TreeNode) => boolean,
): string {
  const packages: Record<string, unknown> = {};
  for (const n of treeNodes(top)) if (present(n)) packages[n.location] = lockEntryOf(n, catalog);
  const doc: Record<string, unknown> = {};
  if (root.name !== undefined) doc.name = root.name;
  if (root.version !== undefined) doc.version = root.version;
  Object.assign(doc, { lockfileVersion: 3, requires: true, packages });
  return stringifyNice(doc);
}

/** The mode npm (pacote) gives an extracted file: at least rw-r--r--, umask 022, bins executable. */
export function extractedMode(mode: number, isBin: boolean): number {
  return ((mode | 0o644) & ~0o022) | 0o600 | (isBin ? 0o111 : 0);
}

/** The bin map of a lock entry, paths cleaned as npm links them ("./bin/x.js" → "bin/x.js"). */
export function binsOf(lock: NpmLockEntry | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(lock?.bin ?? {})) {
    const name = k.replace(/^@[^/]+\//, "");
    const target = String(v)
      .replace(/^(\.\/)+/, "")
      .replace(/\/{2,}/g, "/");
    if (!/^[^/]+$/.test(name) || name === "." || name === "..") continue;
    if (target.split("/").some((s) => s === ".." || s === "")) continue;
    out.push([name, target]);
  }
  return out;
}
