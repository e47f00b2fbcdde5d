/**
 * just-bash's IFileSystem over the build's LayerFs, so every file a RUN command writes lands in the
 * step's layer. Paths are absolute container paths; new files get the step's owner and umask 022.
 */
import type {
  BufferEncoding,
  CpOptions,
  FileContent,
  FsStat,
  IFileSystem,
  MkdirOptions,
  RmOptions,
} from "just-bash";
import { FsError } from "../errors.ts";
import { cleanPath } from "../fs/paths.ts";
import type { FsNode, LayerFs } from "./layer-fs.ts";

type ReadFileOptions = { encoding?: BufferEncoding | null };
type WriteFileOptions = { encoding?: BufferEncoding };
type DirentEntry = { name: string; isFile: boolean; isDirectory: boolean; isSymbolicLink: boolean };

const encoder = new TextEncoder();

function encodingOf(
  options?: ReadFileOptions | WriteFileOptions | BufferEncoding | null,
): string | undefined {
  if (!options) return undefined;
  if (typeof options === "string") return options;
  return options.encoding ?? undefined;
}

function toBytes(content: FileContent, encoding?: string): Uint8Array {
  if (typeof content !== "string") return content;
  if (encoding === "binary" || encoding === "latin1") {
    const out = new Uint8Array(content.length);
    for (let i = 0; i < content.length; i++) out[i] = content.charCodeAt(i) & 0xff;
    return out;
  }
  if (encoding === "base64") return Uint8Array.from(atob(content), (c) => c.charCodeAt(0));
  return encoder.encode(content);
}

function fromBytes(bytes: Uint8Array, encoding?: string): string {
  if (encoding === "binary" || encoding === "latin1") {
    let s = "";
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return s;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Commands a POSIX shell (busybox sh, dash, bash) has built in, which just-bash implements as
 * commands found through PATH: they must work in images that have no file for them.
 */
const SHELL_BUILTINS = new Set([
  "echo",
  "printf",
  "pwd",
  "kill",
  "umask",
  "alias",
  "unalias",
  "trap",
  "ulimit",
  "times",
]);

/** Device files a container's runtime provides under /dev; they never land in a layer. */
const DEVICES = new Set([
  "/dev/null",
  "/dev/zero",
  "/dev/random",
  "/dev/urandom",
  "/dev/stdout",
  "/dev/stderr",
  "/dev/tty",
]);

function deviceBytes(path: string): Uint8Array {
  if (path === "/dev/zero") return new Uint8Array(65536);
  if (path === "/dev/random" || path === "/dev/urandom") {
    // Deterministic "randomness" keeps builds reproducible.
    const out = new Uint8Array(65536);
    let x = 0x9e3779b9;
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  }
  return new Uint8Array(0);
}

function normAbs(path: string): string {
  return `/${cleanPath(path)}`;
}

/** The owner new files get (the Dockerfile's current USER, resolved). */
export interface Owner {
  uid: number;
  gid: number;
}

/** An IFileSystem whose reads and writes go to a LayerFs. */
export class BashFs implements IFileSystem {
  /** Names of LayerLab's commands for the image's programs; PATH lookups find them through /usr/bin. */
  readonly routed = new Set<string>();
  /** Bytes written through this filesystem so far, and the most a step may write (a runaway RUN stops). */
  written = 0;
  maxWrite = 1024 * 1024 * 1024;

  constructor(
    readonly fs: LayerFs,
    public owner: Owner = { uid: 0, gid: 0 },
  ) {}

  private rel(path: string): string {
    return cleanPath(path);
  }

  private existing(path: string, follow: boolean, op: string): { path: string; node: FsNode } {
    const r = this.fs.resolve(this.rel(path), follow, op);
    if (!r.node) throw new FsError("ENOENT", path, undefined, op);
    return r as { path: string; node: FsNode };
  }

  /** Resolves the parent directory of a path to be created; the last component is not followed. */
  private parentOf(path: string, op: string): { dir: string; name: string } {
    const rel = this.rel(path);
    const i = rel.lastIndexOf("/");
    const parent = i < 0 ? "" : rel.slice(0, i);
    const name = i < 0 ? rel : rel.slice(i + 1);
    const r = this.fs.resolve(parent, true, op);
    if (!r.node) throw new FsError("ENOENT", path, undefined, op);
    if (r.node.type !== "dir") throw new FsError("ENOTDIR", path, undefined, op);
    return { dir: r.path, name };
  }

  private childPath(dir: string, name: string): string {
    return dir === "" ? name : `${dir}/${name}`;
  }

  async readFile(path: string, options?: ReadFileOptions | BufferEncoding): Promise<string> {
    return fromBytes(await this.readFileBuffer(path), encodingOf(options));
  }

  async readFileBuffer(path: string): Promise<Uint8Array> {
    if (DEVICES.has(normAbs(path))) return deviceBytes(normAbs(path));
    const { node } = this.existing(path, true, "open");
    if (node.type === "dir") throw new FsError("EISDIR", path, undefined, "read");
    return this.fs.contentOf(node);
  }

  /** Writes a file (following a symlink at the path), replacing its bytes. */
  async writeBytes(path: string, bytes: Uint8Array, mode?: number, added = bytes.byteLength): Promise<void> {
    if (DEVICES.has(normAbs(path))) return;
    if (this.rel(path) === "") throw new FsError("EISDIR", path, undefined, "open");
    this.written += added;
    if (this.written > this.maxWrite) throw new FsError("ENOSPC", path, undefined, "write");
    const { dir, name } = this.parentOf(path, "open");
    let target = this.childPath(dir, name);
    let old = this.fs.nodeAt(target);
    if (old?.type === "symlink") {
      const r = this.fs.resolve(target, true, "open");
      target = r.path;
      old = r.node;
    }
    if (old?.type === "dir") throw new FsError("EISDIR", path, undefined, "open");
    const node: FsNode = {
      type: "file",
      mode: old ? old.mode : (mode ?? 0o644),
      uid: old ? old.uid : this.owner.uid,
      gid: old ? old.gid : this.owner.gid,
      mtime: this.fs.epoch,
      size: bytes.byteLength,
      data: bytes,
      ino: old ? old.ino : this.fs.newIno(),
    };
    if (old?.linked) {
      // A hard-linked file: every name sees the new bytes.
      node.linked = true;
      for (const p of this.fs.pathsOfInode(old.ino)) this.fs.putNode(p, node);
      return;
    }
    this.fs.putNode(target, node);
  }

  async writeFile(
    path: string,
    content: FileContent,
    options?: WriteFileOptions | BufferEncoding,
  ): Promise<void> {
    await this.writeBytes(path, toBytes(content, encodingOf(options)));
  }

  async appendFile(
    path: string,
    content: FileContent,
    options?: WriteFileOptions | BufferEncoding,
  ): Promise<void> {
    if (DEVICES.has(normAbs(path))) return;
    const add = toBytes(content, encodingOf(options));
    let before: Uint8Array = new Uint8Array(0);
    try {
      before = await this.readFileBuffer(path);
    } catch (e) {
      if (!(e instanceof FsError) || e.code !== "ENOENT") throw e;
    }
    const out = new Uint8Array(before.byteLength + add.byteLength);
    out.set(before);
    out.set(add, before.byteLength);
    await this.writeBytes(path, out, undefined, add.byteLength);
  }

  /** A file the runtime or the shell provides although the image has none at that path. */
  private virtual(path: string): FsStat | undefined {
    const abs = normAbs(path);
    if (DEVICES.has(abs)) {
      return {
        isFile: false,
        isDirectory: false,
        isSymbolicLink: false,
        mode: 0o666,
        size: 0,
        mtime: new Date(0),
      };
    }
    // just-bash runs a registered command only through /bin or /usr/bin: LayerLab's commands for
    // programs that live elsewhere on PATH (/usr/sbin/useradd) are reached through /usr/bin.
    const other = /^\/(?:usr\/local\/sbin|usr\/local\/bin|usr\/sbin|sbin)\/([^/]+)$/.exec(abs);
    if (other && this.routed.has(other[1] as string)) {
      try {
        const n = this.fs.resolve(cleanPath(abs), true).node;
        if (n) return { ...this.statOf(n), mode: n.mode & ~0o111 };
      } catch {
        return undefined;
      }
      return undefined;
    }
    const m = /^\/(?:usr\/)?bin\/([^/]+)$/.exec(abs);
    if (m && this.routed.has(m[1] as string)) {
      try {
        if (this.fs.resolve(cleanPath(abs), true).node) return undefined;
      } catch {
        // Fall through to the virtual entry.
      }
      return {
        isFile: true,
        isDirectory: false,
        isSymbolicLink: false,
        mode: 0o755,
        size: 0,
        mtime: new Date(0),
      };
    }
    if (m && SHELL_BUILTINS.has(m[1] as string)) {
      for (const p of [`bin/${m[1]}`, `usr/bin/${m[1]}`]) {
        try {
          if (this.fs.resolve(p, true).node) return undefined;
        } catch {
          // A missing directory on the way: the builtin is still there.
        }
      }
      return {
        isFile: true,
        isDirectory: false,
        isSymbolicLink: false,
        mode: 0o755,
        size: 0,
        mtime: new Date(0),
      };
    }
    return undefined;
  }

  async exists(path: string): Promise<boolean> {
    if (this.virtual(path)) return true;
    try {
      return this.fs.resolve(this.rel(path), true).node !== undefined;
    } catch {
      return false;
    }
  }

  private statOf(node: FsNode): FsStat {
    return {
      isFile: node.type === "file",
      isDirectory: node.type === "dir",
      isSymbolicLink: node.type === "symlink",
      mode: node.mode,
      size: node.type === "symlink" ? (node.target ?? "").length : node.size,
      mtime: new Date(node.mtime * 1000),
      ino: node.ino,
    };
  }

  async stat(path: string): Promise<FsStat> {
    const v = this.virtual(path);
    if (v) return v;
    return this.statOf(this.existing(path, true, "stat").node);
  }

  async lstat(path: string): Promise<FsStat> {
    const v = this.virtual(path);
    if (v) return v;
    return this.statOf(this.existing(path, false, "lstat").node);
  }

  /** Creates a directory with the given mode (default 0755), owned by the step's owner. */
  mkdirSync(path: string, recursive: boolean, mode = 0o755, owner: Owner = this.owner): void {
    const rel = this.rel(path);
    if (rel === "") {
      if (recursive) return;
      throw new FsError("EEXIST", path, undefined, "mkdir");
    }
    let r: { path: string; node: FsNode | undefined } = { path: rel, node: undefined };
    try {
      r = this.fs.resolve(rel, true, "mkdir");
    } catch (e) {
      if (!recursive || !(e instanceof FsError) || e.code !== "ENOENT") throw e;
    }
    if (r.node) {
      if (recursive && r.node.type === "dir") return;
      throw new FsError("EEXIST", path, undefined, "mkdir");
    }
    const i = rel.lastIndexOf("/");
    const parentRel = i < 0 ? "" : rel.slice(0, i);
    let parent: { path: string; node: FsNode | undefined };
    try {
      parent = this.fs.resolve(parentRel, true, "mkdir");
    } catch (e) {
      if (!recursive || !(e instanceof FsError) || e.code !== "ENOENT") throw e;
      this.mkdirSync(`/${parentRel}`, true, mode, owner);
      parent = this.fs.resolve(parentRel, true, "mkdir");
    }
    if (!parent.node) {
      if (!recursive) throw new FsError("ENOENT", path, undefined, "mkdir");
      this.mkdirSync(`/${parentRel}`, true, mode, owner);
      parent = this.fs.resolve(parentRel, true, "mkdir");
    }
    if (parent.node?.type !== "dir") throw new FsError("ENOTDIR", path, undefined, "mkdir");
    const name = i < 0 ? rel : rel.slice(i + 1);
    this.fs.putNode(this.childPath(parent.path, name), {
      type: "dir",
      mode,
      uid: owner.uid,
      gid: owner.gid,
      mtime: this.fs.epoch,
      size: 0,
      ino: this.fs.newIno(),
    });
  }

  async mkdir(path: string, options?: MkdirOptions): Promise<void> {
    this.mkdirSync(path, options?.recursive ?? false);
  }

  async readdir(path: string): Promise<string[]> {
    const r = this.existing(path, true, "scandir");
    if (r.node.type !== "dir") throw new FsError("ENOTDIR", path, undefined, "scandir");
    return this.fs.childrenOf(r.path);
  }

  async readdirWithFileTypes(path: string): Promise<DirentEntry[]> {
    const r = this.existing(path, true, "scandir");
    if (r.node.type !== "dir") throw new FsError("ENOTDIR", path, undefined, "scandir");
    return this.fs.childrenOf(r.path).map((name) => {
      const n = this.fs.nodeAt(this.childPath(r.path, name)) as FsNode;
      return {
        name,
        isFile: n.type === "file",
        isDirectory: n.type === "dir",
        isSymbolicLink: n.type === "symlink",
      };
    });
  }

  async rm(path: string, options?: RmOptions): Promise<void> {
    let dir: string;
    let name: string;
    try {
      ({ dir, name } = this.parentOf(path, "rm"));
    } catch (e) {
      if (options?.force && e instanceof FsError) return;
      throw e;
    }
    const target = this.childPath(dir, name);
    const node = this.fs.nodeAt(target);
    if (!node || target === "") {
      if (options?.force) return;
      throw new FsError("ENOENT", path, undefined, "rm");
    }
    if (node.type === "dir" && !options?.recursive && this.fs.childrenOf(target).length > 0) {
      throw new FsError("ENOTEMPTY", path, undefined, "rm");
    }
    this.fs.removeTree(target);
  }

  async cp(src: string, dest: string, options?: CpOptions): Promise<void> {
    const from = this.existing(src, true, "cp");
    if (from.node.type === "dir" && !options?.recursive) throw new FsError("EISDIR", src, undefined, "cp");
    await this.copyNode(from.path, from.node, dest);
  }

  private async copyNode(fromPath: string, node: FsNode, dest: string): Promise<void> {
    if (node.type === "dir") {
      if (!(await this.exists(dest))) this.mkdirSync(dest, false, node.mode);
      for (const name of this.fs.childrenOf(fromPath)) {
        const childPath = this.childPath(fromPath, name);
        const child = this.fs.nodeAt(childPath) as FsNode;
        await this.copyNode(childPath, child, `${dest.replace(/\/+$/, "")}/${name}`);
      }
      return;
    }
    if (node.type === "symlink") {
      await this.symlink(node.target ?? "", dest);
      return;
    }
    const bytes = await this.fs.contentOf(node);
    const existed = await this.exists(dest);
    await this.writeBytes(dest, bytes, node.mode);
    if (!existed) {
      const r = this.fs.resolve(this.rel(dest), true);
      if (r.node) this.fs.updateNode(r.path, { ...r.node, mode: node.mode });
    }
  }

  async mv(src: string, dest: string): Promise<void> {
    const { dir, name } = this.parentOf(src, "mv");
    const from = this.childPath(dir, name);
    const node = this.fs.nodeAt(from);
    if (!node) throw new FsError("ENOENT", src, undefined, "mv");
    const to = this.parentOf(dest, "mv");
    let target = this.childPath(to.dir, to.name);
    const existing = this.fs.nodeAt(target);
    if (existing?.type === "dir" && node.type !== "dir") target = this.childPath(target, name);
    if (target === from) return;
    if (`${target}/`.startsWith(`${from}/`)) throw new FsError("EINVAL", dest, undefined, "mv");
    const moved: [string, FsNode][] = [];
    const collect = (p: string, rel: string): void => {
      const n = this.fs.nodeAt(p) as FsNode;
      moved.push([rel, n]);
      if (n.type === "dir")
        for (const k of this.fs.childrenOf(p)) collect(this.childPath(p, k), `${rel}/${k}`);
    };
    collect(from, "");
    this.fs.removeTree(from);
    if (this.fs.nodeAt(target)) this.fs.removeTree(target);
    for (const [rel, n] of moved) this.fs.putNode(`${target}${rel}`, n);
  }

  resolvePath(base: string, path: string): string {
    return `/${cleanPath(path, base)}`;
  }

  getAllPaths(): string[] {
    return ["/", ...this.fs.allPaths().map((p) => `/${p}`)];
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = this.existing(path, true, "chmod");
    this.fs.updateNode(r.path, { ...r.node, mode: mode & 0o7777 });
  }

  /** Changes a path's owner (just-bash's interface has no chown; our chown command calls this). */
  chown(path: string, uid: number | undefined, gid: number | undefined, follow = true): void {
    const r = this.existing(path, follow, "chown");
    this.fs.updateNode(r.path, { ...r.node, uid: uid ?? r.node.uid, gid: gid ?? r.node.gid });
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    const { dir, name } = this.parentOf(linkPath, "symlink");
    const at = this.childPath(dir, name);
    if (this.fs.nodeAt(at)) throw new FsError("EEXIST", linkPath, undefined, "symlink");
    this.fs.putNode(at, {
      type: "symlink",
      mode: 0o777,
      uid: this.owner.uid,
      gid: this.owner.gid,
      mtime: this.fs.epoch,
      size: 0,
      target,
      ino: this.fs.newIno(),
    });
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    const from = this.existing(existingPath, false, "link");
    if (from.node.type === "dir") throw new FsError("EPERM", existingPath, undefined, "link");
    const { dir, name } = this.parentOf(newPath, "link");
    const at = this.childPath(dir, name);
    if (this.fs.nodeAt(at)) throw new FsError("EEXIST", newPath, undefined, "link");
    const shared: FsNode = { ...from.node, linked: true };
    if (!from.node.linked) this.fs.updateNode(from.path, shared);
    this.fs.putNode(at, shared);
  }

  async readlink(path: string): Promise<string> {
    const r = this.existing(path, false, "readlink");
    if (r.node.type !== "symlink") throw new FsError("EINVAL", path, undefined, "readlink");
    return r.node.target ?? "";
  }

  async realpath(path: string): Promise<string> {
    return `/${this.existing(path, true, "realpath").path}`;
  }

  async utimes(path: string, _atime: Date, mtime: Date): Promise<void> {
    const r = this.existing(path, true, "utimes");
    // Any touch is a modification to the differ, whatever time it sets (the build pins times).
    this.fs.putNode(r.path, { ...r.node, mtime: Math.floor(mtime.getTime() / 1000) && this.fs.epoch });
  }
}
