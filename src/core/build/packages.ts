/**
 * Simulated package managers for RUN: apt-get and apt over a catalog of real package file lists
 * and sizes. They write what the real tools write (lists, installed files, downloaded archives) so
 * lessons like "clean the apt cache in the same RUN" show real numbers. Images without a catalog
 * have no apt-get, so the command is not found, as in a container.
 */
import { type CustomCommand, defineCommand } from "just-bash";
import type { FileEntry } from "../fs/types.ts";
import type { BashFs } from "./bash-fs.ts";
import type { FsNode } from "./layer-fs.ts";
import type { PackageCatalog } from "./types.ts";

const LISTS = "var/lib/apt/lists";
const ARCHIVES = "var/cache/apt/archives";

function kb(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${Math.round(bytes / 1000)} kB`;
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

/** The apt-get and apt commands over a catalog; none when the image has no catalog. */
export function packageCommands(bfs: BashFs, catalog: PackageCatalog | undefined): CustomCommand[] {
  if (!catalog) return [];
  const fs = bfs.fs;
  const exists = (p: string): boolean => {
    try {
      return fs.resolve(p, true).node !== undefined;
    } catch {
      return false;
    }
  };
  const aptGet = async (args: string[], name: string) => {
    const opts = new Set(args.filter((a) => a.startsWith("-")));
    const words = args.filter((a) => !a.startsWith("-"));
    const verb = words[0];
    let out = name === "apt" ? "" : "";
    const err =
      name === "apt"
        ? "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n"
        : "";
    if (verb === "update") {
      const u = catalog.update();
      writeEntries(bfs, u.files);
      return { stdout: u.output || "Reading package lists...\n", stderr: err, exitCode: 0 };
    }
    if (verb === "clean" || verb === "autoclean") {
      for (const dir of [ARCHIVES, "var/cache/apt"]) {
        for (const k of fs.childrenOf(dir)) {
          if (k.endsWith(".deb") || k.endsWith(".bin")) fs.removeTree(`${dir}/${k}`);
        }
      }
      return { stdout: "", stderr: err, exitCode: 0 };
    }
    if (verb === "install") {
      const names = words.slice(1).map((n) => n.replace(/=.*$/, ""));
      out += "Reading package lists...\n";
      const haveLists = fs
        .childrenOf(LISTS)
        .some((k) => k.endsWith("Packages") || k.endsWith("Packages.lz4"));
      let dpkgStatus = "";
      const status = fs.nodeAt("var/lib/dpkg/status");
      if (status?.type === "file") dpkgStatus = new TextDecoder().decode(await fs.contentOf(status));
      const plan = catalog.plan(names, { recommends: !opts.has("--no-install-recommends"), dpkgStatus });
      out += "Building dependency tree...\nReading state information...\n";
      const missing = haveLists ? plan.unknown : names;
      if (missing.length > 0 || (plan.errors?.length ?? 0) > 0) {
        const lines =
          missing.length > 0 ? missing.map((m) => `E: Unable to locate package ${m}`) : (plan.errors ?? []);
        return { stdout: out, stderr: `${err}${lines.join("\n")}\n`, exitCode: 100 };
      }
      for (const a of plan.already ?? []) out += `${a} is already the newest version.\n`;
      const pkgs = plan.packages.filter(
        (p) => !exists(`var/lib/dpkg/info/${p.name}.list`) || names.includes(p.name),
      );
      if (pkgs.length === 0) {
        out += "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
        return { stdout: out, stderr: err, exitCode: 0 };
      }
      const download = pkgs.reduce((n, p) => n + p.archiveSize, 0);
      const installed = pkgs.reduce(
        (n, p) => n + p.files.reduce((m, f) => m + (f.type === "file" ? f.size : 0), 0),
        0,
      );
      out += `The following NEW packages will be installed:\n  ${pkgs.map((p) => p.name).join(" ")}\n`;
      out += `0 upgraded, ${pkgs.length} newly installed, 0 to remove and 0 not upgraded.\n`;
      out += `Need to get ${kb(download)} of archives.\nAfter this operation, ${kb(installed)} of additional disk space will be used.\n`;
      if (
        !opts.has("-y") &&
        !opts.has("--yes") &&
        !opts.has("-qy") &&
        !args.some((a) => /^-[a-z]*y/.test(a))
      ) {
        out += "Do you want to continue? [Y/n] Abort.\n";
        return { stdout: out, stderr: err, exitCode: 1 };
      }
      // Ubuntu and Debian images ship docker-clean, which deletes downloaded .debs after each run.
      const dockerClean = exists("etc/apt/apt.conf.d/docker-clean");
      pkgs.forEach((p, i) => {
        out += `Get:${i + 1} ${p.name} ${p.version} [${kb(p.archiveSize)}]\n`;
      });
      out += `Fetched ${kb(download)} in 0s\n`;
      for (const p of pkgs) {
        if (!dockerClean)
          writeEntries(bfs, [
            synthetic(`${ARCHIVES}/${p.archiveFile}`, p.archiveSize, hashSeed(p.archiveFile)),
          ]);
        out += `Selecting previously unselected package ${p.name}.\nUnpacking ${p.name} (${p.version}) ...\n`;
        writeEntries(bfs, p.files);
      }
      if (!dockerClean) writeEntries(bfs, catalog.cacheFiles());
      for (const p of pkgs) out += `Setting up ${p.name} (${p.version}) ...\n`;
      return { stdout: out, stderr: err, exitCode: 0 };
    }
    if (verb === undefined) return { stdout: "", stderr: `${err}E: Invalid operation\n`, exitCode: 100 };
    return { stdout: "", stderr: `${err}E: Invalid operation ${verb}\n`, exitCode: 100 };
  };
  return [
    defineCommand("apt-get", (args) => aptGet(args, "apt-get")),
    defineCommand("apt", (args) => aptGet(args, "apt")),
  ];
}
