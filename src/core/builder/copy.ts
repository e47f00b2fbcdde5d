/**
 * COPY and ADD: sources from the build context or another stage/image, wildcards, directory
 * contents, trailing-slash rules, --chown/--chmod/--parents/--exclude, and ADD's extraction of
 * local tar archives (detected by content, never by name).
 */

import { bunzip2 } from "../archive/bzip2.ts";
import { decompress, sniffCompression } from "../archive/compression.ts";
import { readAll, readTar } from "../archive/tar-reader.ts";
import { unxzBytes } from "../archive/xz.ts";
import { FsError, LayerLabError } from "../errors.ts";
import { cleanPath, joinPath } from "../fs/paths.ts";
import { type PathLookup, resolvePath } from "../fs/resolve-path.ts";
import { BashFs, type Owner } from "./bash-fs.ts";
import { writeEntries } from "./commands/apt.ts";
import { type ContextView, DockerIgnore, hasWildcard, matchPath } from "./context.ts";
import type { FsNode, LayerFs } from "./layer-fs.ts";

/** One object a COPY source names, as the source side sees it. */
interface SourceNode {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  target?: string;
  /** The node itself when the source is another stage or image (its bytes are shared, not read). */
  fsNode?: FsNode;
}

/** Where sources are read: the build context or the root filesystem of a stage or image. */
export interface SourceTree {
  readonly kind: "context" | "image";
  get(path: string): SourceNode | undefined;
  children(path: string): string[];
  read(path: string, node: SourceNode): Promise<Uint8Array>;
}

/** The build context as a source tree (files are owned by 0:0, as the context is sent). */
export function contextSource(view: ContextView): SourceTree {
  return {
    kind: "context",
    get(path) {
      if (path === "") return { type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0 };
      const e = view.byPath.get(path);
      if (!e) return undefined;
      const n: SourceNode = { type: e.type, mode: e.mode, uid: 0, gid: 0, size: e.size };
      if (e.target !== undefined) n.target = e.target;
      return n;
    },
    children(path) {
      return view.kids.get(path) ?? [];
    },
    read(path) {
      return view.source.read(path);
    },
  };
}

/** A stage's or image's root filesystem as a source tree (ownership is kept). */
export function fsSource(fs: LayerFs): SourceTree {
  return {
    kind: "image",
    get(path) {
      const n = fs.nodeAt(path);
      if (!n) return undefined;
      const s: SourceNode = { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, fsNode: n };
      if (n.target !== undefined) s.target = n.target;
      return s;
    },
    children(path) {
      return fs.childrenOf(path);
    },
    read(_path, node) {
      return node.fsNode ? fs.contentOf(node.fsNode) : Promise.resolve(new Uint8Array(0));
    },
  };
}

/** A parsed `--chmod` value: octal, or symbolic (`u+x,go=rX`). */
export type ChmodSpec = (mode: number, isDir: boolean) => number;

/** Parses `--chmod`; BuildKit accepts octal up to 07777 and symbolic modes. */
export function parseChmod(value: string): ChmodSpec {
  if (/^[0-7]+$/.test(value)) {
    const m = Number.parseInt(value, 8);
    if (m > 0o7777)
      throw new LayerLabError(
        "BUILD",
        `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`,
      );
    return () => m;
  }
  if (/^\d+$/.test(value) || !/^([ugoa]*[-+=][rwxXst]*)(,[ugoa]*[-+=][rwxXst]*)*$/.test(value)) {
    throw new LayerLabError(
      "BUILD",
      `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`,
    );
  }
  const clauses = value.split(",");
  return (mode, isDir) => {
    let m = mode;
    for (const c of clauses) {
      const [, who = "", op, perms = ""] = /^([ugoa]*)([-+=])(.*)$/.exec(c) as RegExpExecArray;
      const w = who === "" || who.includes("a") ? "ugo" : who;
      let bits = 0;
      for (const cls of w) {
        const shift = cls === "u" ? 6 : cls === "g" ? 3 : 0;
        for (const p of perms) {
          if (p === "r") bits |= 4 << shift;
          if (p === "w") bits |= 2 << shift;
          if (p === "x" || (p === "X" && (isDir || (mode & 0o111) !== 0))) bits |= 1 << shift;
          if (p === "s" && cls === "u") bits |= 0o4000;
          if (p === "s" && cls === "g") bits |= 0o2000;
          if (p === "t") bits |= 0o1000;
        }
      }
      let mask = 0;
      for (const cls of w) mask |= cls === "u" ? 0o4700 : cls === "g" ? 0o2070 : 0o1007;
      if (op === "+") m |= bits;
      else if (op === "-") m &= ~bits;
      else m = (m & ~mask) | bits;
    }
    return m & 0o7777;
  };
}

/** Everything one COPY or ADD needs. */
export interface CopyRequest {
  isAdd: boolean;
  /** Source paths (expanded) and heredoc files. */
  sources: string[];
  heredocs: { name: string; content: string }[];
  dest: string;
  workdir: string;
  tree: SourceTree;
  chown?: Owner;
  chmod?: ChmodSpec;
  excludes: string[];
  parents: boolean;
  unpack: boolean;
  epoch: number;
}

/** Joins two clean paths, either of which may be the root. */
function join(a: string, b: string): string {
  return b === "" ? a : joinPath(a, b);
}

function base(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** A source tree as the shared resolver sees it. */
function sourceLookup(tree: SourceTree): PathLookup<SourceNode> {
  return {
    get: (p) => tree.get(p),
    isDir: (n) => n.type === "dir",
    linkTarget: (n) => (n.type === "symlink" ? (n.target ?? "") : undefined),
  };
}

/**
 * Follows the symlinks of a source path inside its tree (targets relative to the link's
 * directory, `/` = the tree's root, as BuildKit's copy resolves them in its root). A path that
 * leads nowhere gives no node; a symlink loop is an FsError ELOOP.
 */
export function followSource(tree: SourceTree, path: string): { path: string; node: SourceNode | undefined } {
  try {
    return resolvePath(sourceLookup(tree), path, { followLast: true });
  } catch (err) {
    if (err instanceof FsError && err.errno !== "ELOOP") return { path, node: undefined };
    throw err;
  }
}

/** Expands a (cleaned) wildcard source against the tree, segment by segment, sorted. */
function expandWildcard(tree: SourceTree, pattern: string): string[] {
  const segs = pattern.split("/").filter((s) => s !== "");
  let paths = [""];
  for (const seg of segs) {
    const next: string[] = [];
    for (const p of paths) {
      const n = followSource(tree, p).node;
      if (n?.type !== "dir") continue;
      const real = followSource(tree, p).path;
      if (!hasWildcard(seg)) {
        if (tree.get(join(real, seg)) || tree.get(join(p, seg))) next.push(join(p, seg));
        continue;
      }
      for (const k of tree.children(real)) if (matchPath(seg, k)) next.push(join(p, k));
    }
    paths = next;
  }
  return paths.sort();
}

/** Expands a `--parents` pattern that may contain `**`. */
function expandParents(tree: SourceTree, root: string, pattern: string): string[] {
  const ignore = new DockerIgnore(pattern);
  const out: string[] = [];
  const walk = (p: string): void => {
    for (const k of tree.children(p)) {
      const child = join(p, k);
      const rel = root === "" ? child : child.slice(root.length + 1);
      if (ignore.ignores(rel)) out.push(child);
      else if (tree.get(child)?.type === "dir") walk(child);
    }
  };
  walk(root);
  return out;
}

/** Copies COPY/ADD sources into the filesystem. */
export async function copyInto(fs: LayerFs, req: CopyRequest): Promise<void> {
  const bfs = new BashFs(fs, req.chown ?? { uid: 0, gid: 0 });
  const trailing = /(^|\/)\.?$/.test(req.dest) || req.dest === "" || req.dest.endsWith("/");
  const destRel = cleanPath(req.dest, req.workdir);
  const destIsDir = trailing || req.dest === "." || req.dest === "";
  const excludes = req.excludes.length > 0 ? new DockerIgnore(req.excludes.join("\n")) : undefined;
  const owner = (n: SourceNode): Owner => req.chown ?? { uid: n.uid, gid: n.gid };
  const modeOf = (mode: number, isDir: boolean): number => (req.chmod ? req.chmod(mode, isDir) : mode);

  const owner0 = req.chown ?? { uid: 0, gid: 0 };
  /**
   * Directories made to hold the copy are 0755 with the chown, as fsutil's MkdirAll makes them; a
   * directory the copy itself creates from a source directory (`last`) takes that source's mode,
   * or --chmod.
   */
  const mkdirp = (rel: string, last?: number): string => {
    const slash = rel.lastIndexOf("/");
    if (last === undefined || rel === "") bfs.mkdirSync(`/${rel}`, true, 0o755, owner0);
    else {
      if (slash > 0) bfs.mkdirSync(`/${rel.slice(0, slash)}`, true, 0o755, owner0);
      bfs.mkdirSync(`/${rel}`, true, modeOf(last, true), owner0);
    }
    return fs.resolve(rel, true, "mkdir").path;
  };
  const destDirExists = (): boolean => {
    try {
      return fs.resolve(destRel, true).node?.type === "dir";
    } catch {
      return false;
    }
  };

  const writeFile = async (src: string, n: SourceNode, to: string, bytes?: Uint8Array): Promise<void> => {
    const parent = to.includes("/") ? to.slice(0, to.lastIndexOf("/")) : "";
    const realParent = mkdirp(parent);
    const at = join(realParent, base(to));
    const existing = fs.nodeAt(at);
    if (existing?.type === "dir") fs.removeTree(at);
    const o = owner(n);
    if (n.type === "symlink") {
      fs.putNode(at, {
        type: "symlink",
        mode: 0o777,
        uid: o.uid,
        gid: o.gid,
        mtime: req.epoch,
        size: 0,
        target: n.target ?? "",
        ino: fs.newIno(),
      });
      return;
    }
    const node: FsNode = {
      type: n.type,
      mode: modeOf(n.mode, false),
      uid: o.uid,
      gid: o.gid,
      mtime: req.epoch,
      size: n.type === "file" ? n.size : 0,
      ino: fs.newIno(),
    };
    if (n.type === "file") {
      if (n.fsNode) {
        if (n.fsNode.data) node.data = n.fsNode.data;
        if (n.fsNode.ref) node.ref = n.fsNode.ref;
        if (n.fsNode.digest) node.digest = n.fsNode.digest;
      } else node.data = bytes ?? (await req.tree.read(src, n));
    }
    fs.putNode(at, node);
  };

  const copyDir = async (src: string, n: SourceNode, to: string, relBase: string): Promise<void> => {
    let real: string;
    try {
      const r = fs.resolve(to, true);
      if (r.node && r.node.type !== "dir") fs.removeTree(r.path);
      real = r.node?.type === "dir" ? r.path : mkdirp(to, n.mode);
    } catch {
      real = mkdirp(to, n.mode);
    }
    for (const k of req.tree.children(src)) {
      const child = join(src, k);
      const rel = join(relBase, k);
      if (excludes?.ignores(rel)) continue;
      const c = req.tree.get(child);
      if (!c) continue;
      if (c.type === "dir") await copyDir(child, c, join(real, k), rel);
      else await writeFile(child, c, join(real, k));
    }
  };

  const extract = async (bytes: Uint8Array, to: string): Promise<boolean> => {
    const kind = sniffArchive(bytes);
    let tarBytes: Uint8Array;
    try {
      if (kind === "bzip2") tarBytes = bunzip2(bytes);
      else if (kind === "xz") tarBytes = await unxzBytes(bytes, { limit: 4 * 2 ** 30, entry: "ADD" });
      else {
        const source = (async function* () {
          yield bytes;
        })();
        const stream =
          kind === "none" ? source : decompress(source, kind, { limit: 4 * 2 ** 30, entry: "ADD" });
        tarBytes = await readAll(stream, 4 * 2 ** 30, "ADD");
      }
    } catch {
      return false;
    }
    if (!looksLikeTar(tarBytes)) return false;
    const entries = [];
    const realDest = mkdirp(to);
    for await (const { header, body } of readTar(
      (async function* () {
        yield tarBytes;
      })(),
    )) {
      const path = cleanPath(header.name);
      if (path === "" || header.name.split("/").includes("..")) continue;
      const data = header.type === "file" ? await readAll(body, 4 * 2 ** 30, header.name) : undefined;
      const o = req.chown ?? { uid: header.uid, gid: header.gid };
      entries.push({
        path: join(realDest, path),
        type: header.type,
        // Linux gives every symlink 0777 whatever the header says (tars from non-Docker tools often
        // say 0644), so the layer carries lrwxrwxrwx as a real builder's does.
        mode: header.type === "symlink" ? 0o777 : header.mode & 0o7777,
        uid: o.uid,
        gid: o.gid,
        size: data?.byteLength ?? 0,
        mtime: header.mtime,
        ...(header.type === "symlink" ? { linkname: header.linkname } : {}),
        ...(header.type === "hardlink" ? { linkname: join(realDest, cleanPath(header.linkname)) } : {}),
        ...(data ? { content: { kind: "inline" as const, bytes: data } } : {}),
      });
    }
    writeEntries(bfs, entries);
    return true;
  };

  const placeFile = (src: string): string =>
    destIsDir || destDirExists() ? join(destRel, base(src)) : destRel;

  for (const h of req.heredocs) {
    const bytes = new TextEncoder().encode(h.content);
    const n: SourceNode = { type: "file", mode: 0o644, uid: 0, gid: 0, size: bytes.byteLength };
    const many = req.heredocs.length + req.sources.length > 1;
    const to = destIsDir || destDirExists() || many ? join(destRel, h.name) : destRel;
    await writeFile(h.name, n, to, bytes);
  }

  for (const raw of req.sources) {
    let pivot = "";
    let pattern = raw;
    if (req.parents) {
      const i = raw.indexOf("/./");
      if (i >= 0) {
        pivot = cleanPath(raw.slice(0, i));
        pattern = raw.slice(i + 3);
      }
    }
    const clean = cleanPath(pattern);
    const full = join(pivot, clean);
    let matches: string[];
    if (req.parents && (clean.includes("**") || hasWildcard(clean)))
      matches = expandParents(req.tree, pivot, clean);
    else if (hasWildcard(full)) matches = expandWildcard(req.tree, full);
    else {
      if (!followSource(req.tree, full).node) {
        throw new LayerLabError(
          "BUILD",
          `failed to compute cache key: "/${full}": not found${req.tree.kind === "context" ? " (is it in the build context, and not left out by .dockerignore?)" : ""}`,
        );
      }
      matches = [full];
    }
    for (const m of matches) {
      const rel = pivot === "" ? m : m.slice(pivot.length + 1);
      if (excludes && req.excludes.length > 0 && excludes.ignores(rel) && m !== full) continue;
      const { path: real, node } = followSource(req.tree, m);
      if (!node) continue;
      if (node.type === "dir") {
        const to = req.parents ? join(destRel, rel) : destRel;
        // A trailing slash makes the destination first, so it keeps 0755 rather than the source's mode.
        if (destIsDir && !req.parents) mkdirp(to);
        await copyDir(real, node, to, "");
        continue;
      }
      if (req.isAdd && req.unpack && node.type === "file" && !req.parents) {
        const bytes = await req.tree.read(real, node);
        if (await extract(bytes, destRel)) continue;
      }
      const to = req.parents ? join(destRel, rel) : placeFile(m);
      await writeFile(real, node, to);
    }
  }
}

/** The compression of ADD's source, by its first bytes (BuildKit's list). */
export function sniffArchive(bytes: Uint8Array): "gzip" | "zstd" | "bzip2" | "xz" | "none" {
  if (bytes[0] === 0x42 && bytes[1] === 0x5a && bytes[2] === 0x68) return "bzip2";
  if (
    bytes[0] === 0xfd &&
    bytes[1] === 0x37 &&
    bytes[2] === 0x7a &&
    bytes[3] === 0x58 &&
    bytes[4] === 0x5a &&
    bytes[5] === 0
  ) {
    return "xz";
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08) return "gzip";
  const c = sniffCompression(bytes);
  if (c === "zstd") return "zstd";
  if (
    bytes.length >= 4 &&
    ((bytes[0] as number) & 0xf0) === 0x50 &&
    bytes[1] === 0x2a &&
    bytes[2] === 0x4d &&
    bytes[3] === 0x18
  ) {
    return "zstd";
  }
  return "none";
}

/** True when the bytes start with a valid tar header (checksum matches). */
function looksLikeTar(b: Uint8Array): boolean {
  if (b.byteLength < 512) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number);
  const text = new TextDecoder().decode(b.subarray(148, 156)).replace(/[\0 ]/g, "");
  if (text === "") return false;
  return Number.parseInt(text, 8) === sum;
}
