/**
 * Simulated package managers for RUN: apt-get and apt over a catalog of real package file lists
 * and sizes. They write what the real tools write (lists, installed files, downloaded archives) so
 * lessons like "clean the apt cache in the same RUN" show real numbers. Images without a catalog
 * have no apt-get, so the command is not found, as in a container. npm (npm.ts) joins them on
 * images whose catalog has an npm catalog.
 */
import { type CommandContext, type CustomCommand, defineCommand } from "just-bash";
import type { FileEntry } from "../../fs/types.ts";
import type { BashFs } from "../bash-fs.ts";
import type { FsNode } from "../layer-fs.ts";
import type { PackageCatalog, PackagePlan } from "../types.ts";
import { nodeCommand, npmCommand } from "./npm.ts";

const LISTS = "var/lib/apt/lists";
const CACHE = "var/cache/apt";
const ARCHIVES = "var/cache/apt/archives";

/**
 * A byte count as apt prints it (apt-pkg's SizeToStr plus "B"): decimal units, one decimal
 * below 100 of a unit, none from 100 up, bytes as they are below 10,000.
 */
export function aptSize(bytes: number): string {
  const units = ["", "k", "M", "G", "T", "P"];
  let size = bytes;
  for (let i = 0; i < units.length; i++) {
    if (size < 100 && i !== 0) return `${size.toFixed(1)} ${units[i]}B`;
    if (size < 10000) return `${size.toFixed(0)} ${units[i]}B`;
    size /= 1000;
  }
  return `${size.toFixed(0)} EB`;
}

/** Package names as apt lists them: sorted, two spaces in, lines of at most 78 characters. */
export function aptNameList(names: readonly string[]): string {
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines: string[] = [];
  let line = " ";
  for (const n of sorted) {
    if (line.length > 1 && line.length + 1 + n.length > 78) {
      lines.push(line);
      line = " ";
    }
    line += ` ${n}`;
  }
  if (line.length > 1) lines.push(line);
  return lines.map((l) => `${l}\n`).join("");
}

/** apt-get update's output when nothing changed on the mirror: each release file a "Hit:", nothing fetched. */
export function aptUpdateHits(output: string): string {
  const lines = output.split("\n");
  let n = 0;
  const out: string[] = [];
  for (const line of lines) {
    const m = /^Get:\d+ (.* InRelease) \[[^\]]*\]$/.exec(line);
    if (m) out.push(`Hit:${++n} ${m[1]}`);
    else if (!/^Get:\d+ |^Fetched /.test(line)) out.push(line);
  }
  return out.join("\n");
}

/** The name lines under "The following NEW packages will be installed:" in apt's output. */
function newPackagesOf(stdout: string): string {
  const lines = stdout.split("\n");
  const at = lines.indexOf("The following NEW packages will be installed:");
  if (at < 0) return "";
  let out = "";
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith("  "); i++) out += `${lines[i]}\n`;
  return out;
}

/** What apt's configuration (/etc/apt/apt.conf, /etc/apt/apt.conf.d/*) says, keys lower-cased. */
export interface AptConfig {
  /** Scalar values: the last assignment wins. */
  values: Map<string, string>;
  /** List values (`Key { "a"; "b"; };`), appended across files. */
  lists: Map<string, string[]>;
}

/** Parses apt.conf text into `into` (comments `#`, `//`, `/* *\/`; scopes `A { B "x"; };`; lists). */
export function parseAptConfig(text: string, into: AptConfig): void {
  const tokens: { kind: "word" | "string" | "punct"; value: string }[] = [];
  const re = /\/\*[\s\S]*?\*\/|\/\/[^\n]*|#[^\n]*|"([^"]*)"|([{};])|([^\s{};"]+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) tokens.push({ kind: "string", value: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: "punct", value: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: "word", value: m[3] });
  }
  let i = 0;
  const block = (scope: string): void => {
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.kind === "punct" && t.value === "}") {
        i++;
        return;
      }
      if (t.kind === "punct") {
        i++;
        continue;
      }
      if (t.kind === "string") {
        // A list element: `"value";` inside `Key { ... }`.
        const list = into.lists.get(scope) ?? [];
        list.push(t.value);
        into.lists.set(scope, list);
        i++;
        continue;
      }
      const key = (scope ? `${scope}::${t.value}` : t.value).toLowerCase();
      i++;
      const next = tokens[i];
      if (next?.kind === "string") {
        into.values.set(key, next.value);
        i++;
      } else if (next?.kind === "punct" && next.value === "{") {
        i++;
        block(key);
      }
    }
  };
  block("");
}

/** The configuration the given apt.conf texts make, in order. */
export function aptConfigFrom(texts: readonly string[]): AptConfig {
  const cfg: AptConfig = { values: new Map(), lists: new Map() };
  for (const t of texts) parseAptConfig(t, cfg);
  return cfg;
}

/** The image's apt configuration, read from its files as apt reads them at start. */
export async function readAptConfig(bfs: BashFs): Promise<AptConfig> {
  const cfg: AptConfig = { values: new Map(), lists: new Map() };
  const dec = new TextDecoder();
  const textOf = async (path: string): Promise<string | undefined> => {
    let node: FsNode | undefined;
    try {
      node = bfs.fs.resolve(path, true).node;
    } catch {
      return undefined;
    }
    return node?.type === "file" ? dec.decode(await bfs.fs.contentOf(node)) : undefined;
  };
  const main = await textOf("etc/apt/apt.conf");
  if (main !== undefined) parseAptConfig(main, cfg);
  // apt reads the parts in alphanumeric order and ignores names with other characters.
  const parts = bfs.fs
    .childrenOf("etc/apt/apt.conf.d")
    .filter((n) => /^[A-Za-z0-9_.-]+$/.test(n) && (!n.includes(".") || n.endsWith(".conf")))
    .sort();
  for (const n of parts) {
    const t = await textOf(`etc/apt/apt.conf.d/${n}`);
    if (t !== undefined) parseAptConfig(t, cfg);
  }
  return cfg;
}

/** Writes catalog entries into the filesystem (parents created 0755), owned as the entries say. */
export function writeEntries(bfs: BashFs, entries: readonly FileEntry[]): void {
  const fs = bfs.fs;
  const written = new Map<string, FsNode>();
  for (const e of entries) {
    const abs = `/${e.path}`;
    const slash = e.path.lastIndexOf("/");
    if (slash > 0) bfs.mkdirSync(`/${e.path.slice(0, slash)}`, true, 0o755, { uid: 0, gid: 0 });
    const existing = fs.nodeAt(e.path);
    if (e.type === "dir") {
      if (existing?.type === "dir") {
        if (existing.mode !== e.mode || existing.uid !== e.uid || existing.gid !== e.gid) {
          fs.updateNode(e.path, { ...existing, mode: e.mode, uid: e.uid, gid: e.gid });
        }
        continue;
      }
      bfs.mkdirSync(abs, true, e.mode, { uid: e.uid, gid: e.gid });
      continue;
    }
    if (e.type === "hardlink") {
      const src = written.get(e.linkname ?? "") ?? fs.nodeAt(e.linkname ?? "");
      if (src) fs.putNode(e.path, src);
      continue;
    }
    const node: FsNode = {
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: fs.epoch,
      size: e.type === "file" ? e.size : 0,
      ino: fs.newIno(),
    };
    if (e.type === "symlink") node.target = e.linkname ?? "";
    if (e.content?.kind === "inline") node.data = e.content.bytes;
    else if (e.content) node.ref = e.content;
    if (e.devmajor !== undefined) node.devmajor = e.devmajor;
    if (e.devminor !== undefined) node.devminor = e.devminor;
    fs.putNode(e.path, node);
    written.set(e.path, node);
  }
}

/** Options of apt-get that take a value (`-o Key=Value`, `-c file`, `-t release`). */
const VALUE_OPTIONS = new Set(["-o", "--option", "-c", "--config-file", "-t", "--target-release"]);

/** A `-y`-like flag: apt-get's `-y`, `--yes`, `--assume-yes`, or `-y` among bundled short flags (`-qy`). */
function assumesYes(opts: readonly string[]): boolean {
  return opts.some((a) => a === "--yes" || a === "--assume-yes" || /^-[a-zA-Z]*y[a-zA-Z]*$/.test(a));
}

/** apt's quiet level: one per `q` in short flags (`-qq` is 2), `-q=N`, `--quiet`. */
function quietLevel(opts: readonly string[]): number {
  let q = 0;
  for (const a of opts) {
    const eq = /^(?:-q|--quiet)=(\d+)$/.exec(a);
    if (eq) q = Number(eq[1]);
    else if (a === "--quiet") q++;
    else if (/^-[a-zA-Z]+$/.test(a)) q += a.split("q").length - 1;
  }
  return q;
}

/** The Version of package `name` in a dpkg status text. */
function statusVersion(status: string, name: string): string | undefined {
  for (const stanza of status.split(/\n\n+/)) {
    if (!stanza.startsWith(`Package: ${name}\n`)) continue;
    return /^Version: (.+)$/m.exec(stanza)?.[1];
  }
  return undefined;
}

/** The apt-get and apt commands over a catalog; none when the image has no catalog. */
export function packageCommands(bfs: BashFs, catalog: PackageCatalog | undefined): CustomCommand[] {
  if (!catalog) return [];
  const fs = bfs.fs;
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const exists = (p: string): boolean => {
    try {
      return fs.resolve(p, true).node !== undefined;
    } catch {
      return false;
    }
  };
  const readText = async (p: string): Promise<string> => {
    const n = fs.nodeAt(p);
    return n?.type === "file" ? dec.decode(await fs.contentOf(n)) : "";
  };
  const writeText = (path: string, text: string): void => {
    const bytes = enc.encode(text);
    const old = fs.nodeAt(path);
    writeEntries(bfs, [
      {
        path,
        type: "file",
        mode: old?.mode ?? 0o644,
        uid: old?.uid ?? 0,
        gid: old?.gid ?? 0,
        size: bytes.byteLength,
        mtime: 0,
        content: { kind: "inline", bytes },
      },
    ]);
  };
  /** Runs apt's hooks (`DPkg::Post-Invoke`, `APT::Update::Post-Invoke`) with the shell, as apt does with sh -c. */
  const runHooks = async (cfg: AptConfig, key: string, ctx: CommandContext): Promise<string> => {
    let err = "";
    for (const cmd of cfg.lists.get(key) ?? []) {
      if (!ctx.exec) break;
      const r = await ctx.exec(cmd, { cwd: "/" });
      err += r.stderr;
      if (r.exitCode !== 0)
        err += `E: Problem executing scripts ${key.replace(/^dpkg/, "DPkg").replace(/^apt::update/, "APT::Update")} '${cmd}'\n`;
    }
    return err;
  };
  /** The binary caches apt writes unless Dir::Cache::pkgcache / srcpkgcache are set to "". */
  const writeCaches = (cfg: AptConfig): void => {
    const off = (name: string) => cfg.values.get(`dir::cache::${name}`) === "";
    const files = catalog
      .cacheFiles()
      .filter((f) => !(f.path.endsWith("/pkgcache.bin") && off("pkgcache")))
      .filter((f) => !(f.path.endsWith("/srcpkgcache.bin") && off("srcpkgcache")));
    writeEntries(bfs, files);
  };
  const installedAlready = (p: PackagePlan): boolean => {
    const info = "var/lib/dpkg/info";
    if (exists(`${info}/${p.name}.list`) || (p.dpkgName && exists(`${info}/${p.dpkgName}.list`))) return true;
    return fs.childrenOf(info).some((k) => k.startsWith(`${p.name}:`) && k.endsWith(".list"));
  };
  /** Writes the per-transaction files; logs apt and dpkg append to grow by what this run wrote. */
  const writeTransaction = (command: string): void => {
    const files = (catalog.transactionFiles?.(command) ?? []).map((f) => {
      if (!/\.log$/.test(f.path)) return f;
      const old = fs.nodeAt(f.path);
      return old?.type === "file" ? { ...f, size: old.size + f.size } : f;
    });
    writeEntries(bfs, files);
  };

  const aptGet = async (args: string[], name: string, ctx: CommandContext) => {
    const opts: string[] = [];
    const words: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (VALUE_OPTIONS.has(a)) {
        opts.push(a, args[++i] ?? "");
        continue;
      }
      if (a.startsWith("-")) opts.push(a);
      else words.push(a);
    }
    const verb = words[0];
    let out = "";
    const err =
      name === "apt"
        ? "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n"
        : "";
    const cfg = await readAptConfig(bfs);
    // -o Key=Value sets a configuration item for this run, after the files.
    for (let i = 0; i < opts.length; i++) {
      if (opts[i] !== "-o" && opts[i] !== "--option") continue;
      const [key = "", ...value] = (opts[i + 1] ?? "").split("=");
      if (key) cfg.values.set(key.toLowerCase(), value.join("="));
    }
    const quiet = quietLevel(opts);
    if (verb === "update") {
      const u = catalog.update();
      // Lists already fetched from the same mirror state are not fetched again: apt says "Hit:"
      // for each release file and leaves the files alone, so they are not in this layer.
      const fresh = u.files.some((f) => {
        const n = fs.nodeAt(f.path);
        return n === undefined || n.type !== f.type || (f.type === "file" && n.size !== f.size);
      });
      let output = u.output || "Reading package lists...\n";
      if (fresh) writeEntries(bfs, u.files);
      else output = aptUpdateHits(output);
      // The binary caches are rebuilt from new lists; current ones are kept as they are.
      if (fresh || !catalog.cacheFiles().every((f) => fs.nodeAt(f.path)?.size === f.size)) writeCaches(cfg);
      const hookErr = await runHooks(cfg, "apt::update::post-invoke", ctx);
      const stdout = quiet >= 2 ? "" : output;
      return { stdout, stderr: err + hookErr, exitCode: 0 };
    }
    if (verb === "clean" || verb === "autoclean") {
      // apt-get clean empties the archives (and partial/) and deletes the binary caches.
      for (const dir of [ARCHIVES, `${ARCHIVES}/partial`]) {
        for (const k of fs.childrenOf(dir)) {
          if (k !== "lock" && k !== "partial" && (verb === "clean" || k.endsWith(".deb")))
            fs.removeTree(`${dir}/${k}`);
        }
      }
      if (verb === "clean") {
        for (const k of fs.childrenOf(CACHE)) if (k.endsWith(".bin")) fs.removeTree(`${CACHE}/${k}`);
      }
      return { stdout: "", stderr: err, exitCode: 0 };
    }
    const header = "Reading package lists...\nBuilding dependency tree...\nReading state information...\n";
    if (verb === "upgrade" || verb === "dist-upgrade" || verb === "full-upgrade" || verb === "autoremove") {
      // The catalog's base was fully upgraded against the same mirror state: nothing to do.
      out += header;
      if (verb !== "autoremove") out += "Calculating upgrade...\n";
      out += "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
      return { stdout: out, stderr: err, exitCode: 0 };
    }
    if (verb === "install") {
      const names = words.slice(1).map((n) => n.replace(/=.*$/, ""));
      out += "Reading package lists...\n";
      const haveLists = fs
        .childrenOf(LISTS)
        .some((k) => k.endsWith("Packages") || /Packages\.(lz4|gz|xz)$/.test(k));
      const dpkgStatus = await readText("var/lib/dpkg/status");
      // --[no-]install-recommends wins over APT::Install-Recommends (true unless configured off).
      const recommends = opts.includes("--no-install-recommends")
        ? false
        : opts.includes("--install-recommends") ||
          !/^(false|no|off|0)$/i.test(cfg.values.get("apt::install-recommends") ?? "true");
      const plan = catalog.plan(names, { recommends, dpkgStatus });
      out += "Building dependency tree...\nReading state information...\n";
      if (!haveLists) {
        // Without lists apt truly knows no package (the base ships with /var/lib/apt/lists empty).
        const known = new Set(plan.already ?? []);
        const lines = names.filter((n) => !known.has(n)).map((m) => `E: Unable to locate package ${m}`);
        if (lines.length > 0) return { stdout: out, stderr: `${err}${lines.join("\n")}\n`, exitCode: 100 };
      }
      if (plan.unknown.length > 0) {
        const d = catalog.describe?.();
        let lines = plan.unknown
          .map(
            (m) =>
              `E: Package ${m} is not in LayerLab's offline package catalog, so this simulated apt-get cannot install it (the real mirror may well have it; LayerLab does not download).\n`,
          )
          .join("");
        if (d) {
          lines += `N: The catalog holds ${d.packages} ${d.distribution} packages with their real file lists and sizes: ${d.suggested.join(", ")}, and their dependencies.\n`;
        }
        return { stdout: out, stderr: err + lines, exitCode: 100 };
      }
      if ((plan.errors?.length ?? 0) > 0) {
        return { stdout: out, stderr: `${err}${(plan.errors ?? []).join("\n")}\n`, exitCode: 100 };
      }
      for (const a of plan.already ?? []) {
        const v = statusVersion(dpkgStatus, a);
        out += `${a} is already the newest version${v ? ` (${v})` : ""}.\n`;
      }
      const pkgs = plan.packages.filter((p) => !installedAlready(p));
      if (pkgs.length === 0) {
        out += "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
        return { stdout: out, stderr: err, exitCode: 0 };
      }
      const all = pkgs.length === plan.packages.length;
      const download =
        all && plan.downloadBytes !== undefined
          ? plan.downloadBytes
          : pkgs.reduce((n, p) => n + p.archiveSize, 0);
      const additional =
        all && plan.installedKiB !== undefined
          ? plan.installedKiB * 1024
          : pkgs.reduce((n, p) => n + p.files.reduce((m, f) => m + (f.type === "file" ? f.size : 0), 0), 0);
      const extra = pkgs.map((p) => p.name).filter((n) => !names.includes(n));
      if (extra.length > 0)
        out += `The following additional packages will be installed:\n${aptNameList(extra)}`;
      out += `The following NEW packages will be installed:\n${aptNameList(pkgs.map((p) => p.name))}`;
      out += `0 upgraded, ${pkgs.length} newly installed, 0 to remove and 0 not upgraded.\n`;
      out += `Need to get ${aptSize(download)} of archives.\n`;
      out += `After this operation, ${aptSize(additional)} of additional disk space will be used.\n`;
      // apt asks only when it installs more than was asked for; -y or -qq answer for the person.
      if (extra.length > 0 && !assumesYes(opts) && quiet < 2) {
        // A build has no terminal: apt reads end-of-file and takes it as "no".
        out += "Do you want to continue? [Y/n] Abort.\n";
        return { stdout: out, stderr: err, exitCode: 1 };
      }
      // 70debconf's DPkg::Pre-Install-Pkgs hook runs dpkg-preconfigure for packages with debconf
      // templates; without apt-utils (apt-extracttemplates) it says so and defers to dpkg.
      const preconfigure =
        (cfg.lists.get("dpkg::pre-install-pkgs") ?? []).some((c) => c.includes("dpkg-preconfigure")) &&
        exists("usr/sbin/dpkg-preconfigure") &&
        !exists("usr/bin/apt-extracttemplates") &&
        pkgs.some((p) => p.files.some((f) => /^var\/lib\/dpkg\/info\/[^/]+\.templates$/.test(f.path)))
          ? "debconf: delaying package configuration, since apt-utils is not installed\n"
          : "";
      pkgs.forEach((p, i) => {
        const from = p.origin ? `${p.origin} ` : "";
        const arch = p.architecture ? ` ${p.architecture}` : "";
        out += `Get:${i + 1} ${from}${p.name}${arch} ${p.version} [${aptSize(p.archiveSize)}]\n`;
      });
      out += `Fetched ${aptSize(download)} in 0s\n`;
      // Downloaded .debs stay in the archives until something deletes them: docker-clean's
      // DPkg::Post-Invoke hook, or `apt` itself (APT::Keep-Downloaded-Packages is false for apt).
      const keep = cfg.values.get("apt::keep-downloaded-packages") ?? (name === "apt" ? "false" : "true");
      writeEntries(
        bfs,
        pkgs.map((p) => synthetic(`${ARCHIVES}/${p.archiveFile}`, p.archiveSize, hashSeed(p.archiveFile))),
      );
      for (const p of pkgs) {
        const shown = p.dpkgName ?? p.name;
        out += `Selecting previously unselected package ${shown}.\nPreparing to unpack .../${p.archiveFile} ...\nUnpacking ${shown} (${p.version}) ...\n`;
        writeEntries(bfs, p.files);
      }
      for (const p of pkgs) out += `Setting up ${p.dpkgName ?? p.name} (${p.version}) ...\n`;
      if (plan.dpkgStatus !== undefined) writeText("var/lib/dpkg/status", plan.dpkgStatus);
      writeTransaction(`apt-get ${args.join(" ")}`);
      writeCaches(cfg);
      if (/^(false|no|off|0)$/i.test(keep)) {
        for (const p of pkgs) fs.removeTree(`${ARCHIVES}/${p.archiveFile}`);
      }
      const hookErr = await runHooks(cfg, "dpkg::post-invoke", ctx);
      // When the catalog recorded a real run of this very command that installed this very set of
      // packages, its output is the truth (download order, dpkg's and the scripts' own lines).
      const recorded = name === "apt-get" ? catalog.recordedOutput?.(`apt-get ${args.join(" ")}`) : undefined;
      const same =
        recorded !== undefined &&
        newPackagesOf(recorded.stdout) === aptNameList(pkgs.map((p) => p.name)) &&
        recorded.stdout.includes(`\n0 upgraded, ${pkgs.length} newly installed, 0 to remove`);
      const stdout = same ? recorded.stdout : out;
      const stderr = err + (same ? recorded.stderr : preconfigure) + hookErr;
      // -qq: nothing but errors.
      return { stdout: quiet >= 2 ? "" : stdout, stderr, exitCode: 0 };
    }
    if (verb === "remove" || verb === "purge") {
      return {
        stdout: header,
        stderr: `${err}E: LayerLab's simulated apt-get installs packages but cannot ${verb} them.\n`,
        exitCode: 100,
      };
    }
    if (verb === undefined) return { stdout: "", stderr: `${err}E: Invalid operation\n`, exitCode: 100 };
    return { stdout: "", stderr: `${err}E: Invalid operation ${verb}\n`, exitCode: 100 };
  };
  /**
   * pip as Debian 12 ships it: installing into the system Python is refused (PEP 668), with the
   * message the real pip printed on this base; LayerLab has no PyPI, so even an override cannot
   * install. Only where python3-pip is installed; elsewhere the shell says it is not found.
   */
  const pip = async (args: string[], name: string) => {
    if (!exists(`usr/bin/${name}`))
      return { stdout: "", stderr: `bash: ${name}: command not found\n`, exitCode: 127 };
    if (args[0] === "--version" || args[0] === "-V") {
      return {
        stdout: "pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)\n",
        stderr: "",
        exitCode: 0,
      };
    }
    if (args[0] === "install") {
      if (!args.includes("--break-system-packages")) {
        const real = catalog.recordedOutput?.("pip install flask");
        return { stdout: "", stderr: real?.stderr ?? "error: externally-managed-environment\n", exitCode: 1 };
      }
      const wanted = args
        .slice(1)
        .filter((a) => !a.startsWith("-"))
        .join(" ");
      return {
        stdout: "",
        stderr: `ERROR: LayerLab builds offline and has no Python Package Index: cannot install ${wanted || "packages"}. Install Debian's python3-<name> packages with apt-get instead (python3-flask is in the catalog).\n`,
        exitCode: 1,
      };
    }
    return {
      stdout: "",
      stderr: `${name} ${args[0] ?? ""}: LayerLab simulates only pip install and pip --version\n`,
      exitCode: 126,
    };
  };
  return [
    defineCommand("apt-get", (args, ctx) => aptGet(args, "apt-get", ctx)),
    defineCommand("apt", (args, ctx) => aptGet(args, "apt", ctx)),
    defineCommand("pip", (args) => pip(args, "pip")),
    defineCommand("pip3", (args) => pip(args, "pip3")),
    ...(catalog.npm ? [npmCommand(bfs, catalog.npm), nodeCommand(bfs, catalog.npm)] : []),
  ];
}

function synthetic(path: string, size: number, seed: number): FileEntry {
  return {
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
    content: { kind: "synthetic", seed },
  };
}

function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
