/**
 * npm install / ci / prune / uninstall, and `npm install -g`: the ideal tree (catalog/npm.ts) made
 * real in node_modules (npm's hoisted layout, bins in .bin), package.json and package-lock.json
 * rewritten as npm does, node_modules/.package-lock.json kept, and the fetched tarballs added to
 * the npm cache. What is on disk already is kept, replaced or removed, as npm's reify does.
 */
import type { CommandContext } from "just-bash";
import {
  binsOf,
  buildIdealTree,
  extractedMode,
  hiddenLockfileText,
  isSafeName,
  isTag,
  isValidSpec,
  lockfileText,
  type NpmCatalog,
  type NpmLockEntry,
  omitted,
  pickVersion,
  type RootManifest,
  type TreeNode,
  treeNodes,
} from "../../../catalog/npm.ts";
import { seedFor } from "../../../catalog/synthesize.ts";
import { cleanPath as toRel } from "../../../fs/paths.ts";
import type { FileEntry } from "../../../fs/types.ts";
import { writeEntries } from "../apt.ts";
import { type NpmArgs, splitSpec } from "./args.ts";
import { contentPath, npmCacheDir, writeCache } from "./cache.ts";
import type { NpmFiles } from "./files.ts";
import { missingMessage, notInCatalog, npmError, type Result, summaryLine } from "./messages.ts";

const enc = new TextEncoder();

const join = (a: string, b: string): string => (a === "" ? b : `${a}/${b}`);

/** Writes one package's files at `dir` (real text where the catalog has it, synthesized otherwise). */
export function writePackage(files: NpmFiles, catalog: NpmCatalog, node: TreeNode, dir: string): void {
  const { bfs, fs, mkdirs } = files;
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
}

/** Writes the bins of the nodes in `nodes` into their parent's node_modules/.bin. */
export function linkBins(
  files: NpmFiles,
  catalog: NpmCatalog,
  nodes: TreeNode[],
  base: string,
  binDir?: (n: TreeNode) => string,
): void {
  const { bfs, fs, mkdirs } = files;
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
}

/**
 * npm install / ci / prune / uninstall: one reification of the ideal tree into node_modules. prune
 * only removes; uninstall first drops its names from package.json.
 */
export async function install(
  files: NpmFiles,
  loadCatalog: () => Promise<NpmCatalog | undefined>,
  a: NpmArgs,
  ctx: CommandContext,
  mode: "install" | "ci" | "prune" | "uninstall",
): Promise<Result> {
  const { fs, exists, readText, writeText, mkdirs } = files;
  const ci = mode === "ci";
  const catalog = await loadCatalog();
  if (!catalog) return { stdout: "", stderr: npmError("LayerLab has no npm catalog"), exitCode: 1 };
  const cwd = toRel(ctx.cwd);
  const at = (p: string) => (cwd === "" ? p : `${cwd}/${p}`);
  const cacheDir = npmCacheDir(ctx.env);
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
    writePackage(files, catalog, n, at(n.location));
  }
  if (present.length > 0) mkdirs(at("node_modules"));
  linkBins(files, catalog, fresh, cwd);
  // Tarballs not in the cache are downloaded into it; names resolved afresh fetch their registry document.
  const fetched = fresh.filter((n) => {
    const v = catalog.packages[n.name]?.versions[n.version];
    return v !== undefined && !exists(`${cacheDir}/_cacache/${contentPath(v.lock.integrity)}`);
  });
  const packuments = ideal.resolved;
  if (fetched.length > 0 || packuments.length > 0)
    await writeCache(files, catalog, cacheDir, fetched, packuments);
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
}

/** `npm install -g`: each package in its own folder under the prefix, its bins in the prefix's bin. */
export async function installGlobal(
  files: NpmFiles,
  loadCatalog: () => Promise<NpmCatalog | undefined>,
  a: NpmArgs,
): Promise<Result> {
  const { fs, exists } = files;
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
    writePackage(files, catalog, self, dir);
    const nodes = treeNodes(tree.root).filter((n) => !n.skipped);
    for (const n of nodes) writePackage(files, catalog, n, `${dir}/${n.location}`);
    linkBins(files, catalog, nodes, dir);
    linkBins(files, catalog, [self], dir, () => `${prefix}/bin`);
    total += 1 + nodes.length;
    funding += [self, ...nodes].filter(
      (n) => catalog.packages[n.name]?.versions[n.version]?.lock.funding,
    ).length;
  }
  let stdout = `\n${summaryLine(total, 0, 0, 150 + total * 10)}\n`;
  if (funding > 0)
    stdout += `\n${funding} package${funding === 1 ? " is" : "s are"} looking for funding\n  run \`npm fund\` for details\n`;
  return { stdout: a.silent ? "" : stdout, stderr: a.warnings.join(""), exitCode: 0 };
}
