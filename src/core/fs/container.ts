/**
 * The writable container layer: a filesystem over an image's merged tree whose writes go only to
 * the container's own layer, as overlayfs does it.
 *
 * - The image's tree is shared and never changed; each container keeps an upper map of path →
 *   entry or whiteout, so several containers of one image cost only their own changes.
 * - Copy-up on first write: writing, chmod-ing, chown-ing or touching an image file copies its
 *   entry (attributes and content reference, not the bytes) into the container layer, together with
 *   its parent directories; the copy remembers the layer it came from (`copiedUpFrom`).
 * - Deleting something the image has leaves a whiteout; deleting something only the container
 *   made just drops it. Re-creating a directory where a whiteout stands makes it opaque, so the
 *   image's old contents stay hidden.
 * - Paths resolve symlinks within the root with the core's one resolver (`resolve-path.ts`):
 *   absolute targets restart at the root, `..` stops at the root, more than 40 links give ELOOP.
 *   Errors are FsErrors with POSIX codes.
 * - A rename copies the moved subtree up under the new name and deletes the old one (overlayfs
 *   without redirect_dir does the same: EXDEV, then copy and delete).
 * - Hardlinks made in the container share one inode: a write through one name shows in the others.
 *   Copying up one name of an image hardlink breaks the link (as overlayfs without `index` does).
 */
import { sha256 } from "../digest.ts";
import { FsError } from "../errors.ts";
import { diffApplied, type LayerDiff } from "./diff.ts";
import { type AppliedLayer, applyChangeset, type MergedNode, type MergedTree } from "./overlay.ts";
import { joinPath, parentPath } from "./paths.ts";
import { type PathLookup, resolvePath } from "./resolve-path.ts";
import type { Changeset, ContentReader, EntryType, FileEntry, Whiteout } from "./types.ts";

export type { ContentReader } from "./types.ts";

/** What stat and lstat report. */
export interface FileStat {
  /** The real path (symlinks resolved for stat, not for lstat), clean and relative. */
  path: string;
  /** A hardlink of the image shows as the file it links to. */
  type: Exclude<EntryType, "hardlink">;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  /** Where the entry lives now: one of the image's layers, or the container layer. */
  source: "image" | "container";
  /** The layer that supplied it (the container layer's index for container entries). */
  layer: number;
  /** For container entries copied up from the image: the layer they came from. */
  copiedUpFrom?: number;
  /** True for a container directory that hides the image's contents at its path. */
  opaque?: boolean;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

/** A container-layer entry as kept (and persisted). */
export interface UpperEntry {
  entry: FileEntry;
  /** A directory re-created over a whiteout: the image's contents at this path stay hidden. */
  opaque?: boolean;
  copiedUpFrom?: number;
  /** Inode number shared by hardlinked names made in the container. */
  ino?: number;
}

/** A container layer as plain data (JSON-safe once inline contents are moved to blobs). */
export interface ContainerLayerData {
  version: 1;
  entries: UpperEntry[];
  whiteouts: string[];
}

/** The history entry a commit adds to the image config (OCI config `history[]` fields). */
export interface HistoryData {
  created: string;
  created_by: string;
  comment?: string;
  author?: string;
}

/** A container layer turned into a read-only layer's changeset (ready for the tar writer). */
export interface ContainerCommit {
  changeset: Changeset;
  history: HistoryData;
}

export interface ContainerFsOptions {
  /** Index given to the container layer (default: on top of the image). */
  layer?: number;
  /** The clock for mtimes and history, in milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** Owner of new files and directories (default root). */
  uid?: number;
  gid?: number;
  /** A saved container layer to start from. */
  state?: ContainerLayerData;
}

export interface MkdirOptions {
  recursive?: boolean;
  mode?: number;
}
export interface RmOptions {
  recursive?: boolean;
  /** No error when the path does not exist. */
  force?: boolean;
}
export interface WriteOptions {
  /** Mode of a newly created file (default 0644). */
  mode?: number;
}

/** A filesystem over an image with a writable container layer. Every method returns a Promise. */
export interface ContainerFs {
  readonly image: MergedTree;
  /** Index of the container layer. */
  readonly layer: number;
  stat(path: string): Promise<FileStat>;
  lstat(path: string): Promise<FileStat>;
  exists(path: string): Promise<boolean>;
  /** Names in a directory, sorted. */
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  readlink(path: string): Promise<string>;
  writeFile(path: string, data: Uint8Array | string, options?: WriteOptions): Promise<void>;
  appendFile(path: string, data: Uint8Array | string): Promise<void>;
  mkdir(path: string, options?: MkdirOptions): Promise<void>;
  rm(path: string, options?: RmOptions): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  utimes(path: string, atime: number, mtime: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  /**
   * Puts an entry at a real path (no symlink followed), as a program's write lands in overlayfs:
   * parents are copied up, a directory over a whiteout becomes opaque, and an existing directory
   * keeps its contents (only its attributes change). The content reference is kept as given.
   */
  put(entry: FileEntry): void;
  /** True when the container layer holds no change. */
  isClean(): boolean;
  /** The container layer as a changeset (entries sorted parents first, whiteouts, opaque dirs). */
  changeset(): Changeset;
  /** The merged tree the container sees (image + container layer). */
  tree(): MergedTree;
  /** The container layer's diff against the image. */
  diff(): LayerDiff;
  /** Turns the container layer into a changeset with content digests, plus its history entry. */
  commit(options?: { createdBy?: string; comment?: string; author?: string }): Promise<ContainerCommit>;
  /** Discards every change. */
  reset(): void;
  /** The container layer as plain data. */
  save(): ContainerLayerData;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type View = { up: UpperEntry; low?: undefined } | { up?: undefined; low: MergedNode };

function entryOf(v: View): FileEntry {
  if (v.up) return v.up.entry;
  return (v.low.hardlinkTarget ?? v.low).entry;
}
function typeOf(v: View): Exclude<EntryType, "hardlink"> {
  const t = entryOf(v).type;
  return t === "hardlink" ? "file" : t;
}

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data.slice();
}

class Container implements ContainerFs {
  readonly layer: number;
  private readonly now: () => number;
  private readonly uid: number;
  private readonly gid: number;
  /** Path → container entry or whiteout (null). */
  private upper = new Map<string, UpperEntry | null>();
  /** Directory path → names with an entry or whiteout in the container layer. */
  private kids = new Map<string, Set<string>>();
  private inodes = new Map<number, Set<string>>();
  private nextIno = 1;
  /** Bumped by every change: the merged tree and diff are computed once per version, not per ask. */
  private version = 0;
  private applied?: { version: number; layer: AppliedLayer; diff?: LayerDiff };

  constructor(
    readonly image: MergedTree,
    private readonly read: ContentReader,
    options: ContainerFsOptions = {},
  ) {
    this.layer = options.layer ?? image.layer + 1;
    this.now = options.now ?? Date.now;
    this.uid = options.uid ?? 0;
    this.gid = options.gid ?? 0;
    if (options.state) this.load(options.state);
  }

  // -- the upper map ---------------------------------------------------------------------------

  private setUpper(path: string, value: UpperEntry | null): void {
    this.version++;
    const old = this.upper.get(path);
    if (old?.ino !== undefined) this.inodes.get(old.ino)?.delete(path);
    this.upper.set(path, value);
    if (path !== "") {
      const dir = parentPath(path);
      let set = this.kids.get(dir);
      if (!set) {
        set = new Set();
        this.kids.set(dir, set);
      }
      set.add(path.slice(path.lastIndexOf("/") + 1));
    }
    if (value?.ino !== undefined) {
      let group = this.inodes.get(value.ino);
      if (!group) {
        group = new Set();
        this.inodes.set(value.ino, group);
      }
      group.add(path);
    }
  }

  /** Removes every container record at and below `path`. */
  private dropUpper(path: string): void {
    this.version++;
    const names = this.kids.get(path);
    if (names) {
      for (const n of names) this.dropUpper(joinPath(path, n));
      this.kids.delete(path);
    }
    const old = this.upper.get(path);
    if (old?.ino !== undefined) this.inodes.get(old.ino)?.delete(path);
    if (this.upper.delete(path) && path !== "") {
      this.kids.get(parentPath(path))?.delete(path.slice(path.lastIndexOf("/") + 1));
    }
  }

  /** True when the image's entry at `path` (if any) shows through the container layer. */
  private lowerVisible(path: string): boolean {
    if (this.upper.size === 0) return true;
    let i = path.indexOf("/");
    while (i >= 0) {
      const up = this.upper.get(path.slice(0, i));
      if (up === null || (up && (up.entry.type !== "dir" || up.opaque))) return false;
      i = path.indexOf("/", i + 1);
    }
    if (path !== "") {
      const root = this.upper.get("");
      if (root?.opaque) return false;
    }
    return true;
  }

  /** What is at a real path (no symlink followed), or undefined. */
  private view(path: string): View | undefined {
    const up = this.upper.get(path);
    if (up) return { up };
    if (up === null) return undefined;
    if (!this.lowerVisible(path)) return undefined;
    const low = this.image.get(path);
    return low ? { low } : undefined;
  }

  // -- path resolution -------------------------------------------------------------------------

  /** The container's view as the shared resolver sees it. */
  private readonly lookup: PathLookup<View> = {
    get: (p) => this.view(p),
    isDir: (v) => typeOf(v) === "dir",
    linkTarget: (v) => (typeOf(v) === "symlink" ? (entryOf(v).linkname ?? "") : undefined),
  };

  /**
   * Resolves a user path to a real path inside the root (`resolve-path.ts`). Intermediate
   * symlinks are always followed, the last one when `followLast`; every component but the last
   * must exist.
   */
  private resolve(input: string, followLast: boolean): { path: string; view: View | undefined } {
    const r = resolvePath(this.lookup, input, { followLast });
    return { path: r.path, view: r.node };
  }

  /** Resolves the parent of a path to create, which must be an existing directory. */
  private parentFor(input: string): { path: string; view: View | undefined } {
    const r = this.unfollowed(input);
    if (r.path !== "") {
      const parent = this.view(parentPath(r.path));
      if (!parent) throw new FsError("ENOENT", `/${parentPath(r.path)}`);
      if (typeOf(parent) !== "dir") throw new FsError("ENOTDIR", `/${parentPath(r.path)}`);
    }
    return r;
  }

  /**
   * The path an unlink, rmdir, rename or link acts on: its last component is never followed, and
   * with a trailing slash it must be a directory (a symlink there is ENOTDIR, as Linux says), so
   * removing `link/` never removes what the link points at.
   */
  private unfollowed(input: string): { path: string; view: View | undefined } {
    const bare = input.replace(/\/+$/, "");
    const r = this.resolve(bare === "" ? "/" : bare, false);
    if (bare !== input && r.view && typeOf(r.view) !== "dir") throw new FsError("ENOTDIR", `/${r.path}`);
    return r;
  }

  private existingUnfollowed(input: string): { path: string; view: View } {
    const r = this.unfollowed(input);
    if (!r.view) throw new FsError("ENOENT", `/${r.path}`);
    return r as { path: string; view: View };
  }

  private existing(input: string, followLast: boolean): { path: string; view: View } {
    const r = this.resolve(input, followLast);
    if (!r.view) throw new FsError("ENOENT", `/${r.path}`);
    return r as { path: string; view: View };
  }

  // -- copy-up ---------------------------------------------------------------------------------

  private mtime(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Copies the ancestors of a real path into the container layer (as directories). */
  private copyUpParents(path: string): void {
    const segs = path.split("/");
    let p = "";
    for (let i = 0; i < segs.length - 1; i++) {
      p = joinPath(p, segs[i]!);
      this.copyUp(p);
    }
  }

  /** The container entry at a real, existing path, copying it up from the image if needed. */
  private copyUp(path: string): UpperEntry {
    const v = this.view(path);
    if (!v) throw new FsError("ENOENT", `/${path}`);
    if (v.up) return v.up;
    if (path !== "") this.copyUpParents(path);
    const source = v.low.hardlinkTarget ?? v.low;
    const entry: FileEntry = { ...source.entry, path };
    if (entry.type === "hardlink") entry.type = "file";
    const up: UpperEntry = { entry };
    if (source.layer >= 0) up.copiedUpFrom = source.layer;
    this.setUpper(path, up);
    return up;
  }

  /** Applies a change to an entry and to every name hardlinked with it. */
  private change(path: string, edit: (e: FileEntry) => FileEntry): void {
    const up = this.copyUp(path);
    const paths = up.ino !== undefined ? [...(this.inodes.get(up.ino) ?? [path])] : [path];
    this.version++;
    for (const p of paths) {
      const u = this.upper.get(p);
      if (u) u.entry = { ...edit(u.entry), path: p };
    }
  }

  private isDirEmpty(path: string): boolean {
    return this.names(path).length === 0;
  }

  private names(path: string): string[] {
    const out = new Set<string>();
    const up = this.upper.get(path);
    if (!(up?.opaque || up === null) && this.lowerVisible(path)) {
      const low = this.image.get(path);
      if (low?.isDir) for (const c of low.readdir()) out.add(c.name);
    }
    const names = this.kids.get(path);
    if (names) {
      for (const n of names) {
        if (this.upper.get(joinPath(path, n))) out.add(n);
        else out.delete(n);
      }
    }
    return [...out].sort();
  }

  /** Deletes a real path and everything below it: whiteout where the image has something. */
  private remove(path: string): void {
    const lowerThere = this.lowerVisible(path) && this.image.get(path) !== undefined;
    this.dropUpper(path);
    if (lowerThere) this.setUpper(path, null);
    if (path !== "") this.copyUpParents(path);
  }

  /** Updates the mtime of a path's parent directory (the root's is left alone). */
  private stamp(path: string): void {
    const parent = parentPath(path);
    if (parent === "") return;
    const up = this.copyUp(parent);
    up.entry = { ...up.entry, mtime: this.mtime() };
    this.version++;
  }

  /** Makes (or replaces) a name; `stamp` false for a file changed in place, whose directory keeps its mtime. */
  private create(
    path: string,
    entry: Omit<FileEntry, "path">,
    extra: Omit<UpperEntry, "entry"> = {},
    stamp = true,
  ): UpperEntry {
    const wasWhiteout = this.upper.get(path) === null;
    this.copyUpParents(path);
    const up: UpperEntry = { entry: { ...entry, path }, ...extra };
    if (entry.type === "dir" && wasWhiteout) up.opaque = true;
    this.dropUpper(path);
    this.setUpper(path, up);
    if (stamp) this.stamp(path);
    return up;
  }

  private statOf(path: string, v: View): FileStat {
    const e = entryOf(v);
    const type = typeOf(v);
    const st: FileStat = {
      path,
      type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.size,
      mtime: e.mtime,
      source: v.up ? "container" : "image",
      layer: v.up ? this.layer : (v.low.hardlinkTarget ?? v.low).layer,
      isFile: type === "file",
      isDirectory: type === "dir",
      isSymbolicLink: type === "symlink",
    };
    if (e.linkname !== undefined && type === "symlink") st.linkname = e.linkname;
    if (v.up?.copiedUpFrom !== undefined) st.copiedUpFrom = v.up.copiedUpFrom;
    if (v.up?.opaque) st.opaque = true;
    return st;
  }

  // -- the API -----------------------------------------------------------------------------

  async stat(path: string): Promise<FileStat> {
    const r = this.existing(path, true);
    return this.statOf(r.path, r.view);
  }
  async lstat(path: string): Promise<FileStat> {
    const r = this.existing(path, false);
    return this.statOf(r.path, r.view);
  }
  async exists(path: string): Promise<boolean> {
    try {
      return this.resolve(path, true).view !== undefined;
    } catch (err) {
      if (err instanceof FsError) return false;
      throw err;
    }
  }
  async readdir(path: string): Promise<string[]> {
    const r = this.existing(path, true);
    if (typeOf(r.view) !== "dir") throw new FsError("ENOTDIR", `/${r.path}`);
    return this.names(r.path);
  }
  async readFile(path: string): Promise<Uint8Array> {
    const r = this.existing(path, true);
    const type = typeOf(r.view);
    if (type === "dir") throw new FsError("EISDIR", `/${r.path}`);
    const e = entryOf(r.view);
    if (type !== "file" || e.size === 0) return new Uint8Array(0);
    const ref = e.content;
    if (!ref) throw new FsError("EINVAL", `/${r.path}`, "the content of this file is not available");
    if (ref.kind === "inline") return ref.bytes.slice();
    return this.read(ref, e.size);
  }
  async readTextFile(path: string): Promise<string> {
    return decoder.decode(await this.readFile(path));
  }
  async readlink(path: string): Promise<string> {
    const r = this.existing(path, false);
    if (typeOf(r.view) !== "symlink") throw new FsError("EINVAL", `/${r.path}`, "not a symbolic link");
    return entryOf(r.view).linkname ?? "";
  }
  async writeFile(path: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
    this.writeBytes(path, bytesOf(data), options);
  }
  private writeBytes(path: string, bytes: Uint8Array, options: WriteOptions): void {
    const r = this.parentFor(path);
    const real = r.view && typeOf(r.view) === "symlink" ? this.resolve(path, true) : r;
    if (real.path === "") throw new FsError("EISDIR", "/");
    if (real.view) {
      if (typeOf(real.view) === "dir") throw new FsError("EISDIR", `/${real.path}`);
      const mtime = this.mtime();
      this.change(real.path, (e) => {
        const next: FileEntry = { ...e, size: bytes.length, mtime, content: { kind: "inline", bytes } };
        delete next.digest;
        return next;
      });
      // Rewriting a file changes the file, not its directory's entries: the directory keeps its mtime.
      return;
    }
    const parent = this.view(parentPath(real.path));
    if (!parent) throw new FsError("ENOENT", `/${parentPath(real.path)}`);
    if (typeOf(parent) !== "dir") throw new FsError("ENOTDIR", `/${parentPath(real.path)}`);
    this.create(real.path, {
      type: "file",
      mode: options.mode ?? 0o644,
      uid: this.uid,
      gid: this.gid,
      size: bytes.length,
      mtime: this.mtime(),
      content: { kind: "inline", bytes },
    });
  }
  async appendFile(path: string, data: Uint8Array | string): Promise<void> {
    const add = bytesOf(data);
    const before = (await this.exists(path)) ? await this.readFile(path) : new Uint8Array(0);
    const all = new Uint8Array(before.length + add.length);
    all.set(before);
    all.set(add, before.length);
    this.writeBytes(path, all, {});
  }
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    if (options.recursive) {
      const segs = path.split("/").filter((s) => s !== "" && s !== ".");
      for (let i = 1; i <= segs.length; i++) {
        const sub = `/${segs.slice(0, i).join("/")}`;
        const r = this.resolve(sub, true);
        if (r.view) {
          if (typeOf(r.view) !== "dir") throw new FsError("ENOTDIR", `/${r.path}`);
          continue;
        }
        this.mkdirOne(sub, options.mode);
      }
      return;
    }
    this.mkdirOne(path, options.mode);
  }
  private mkdirOne(path: string, mode = 0o755): void {
    const r = this.parentFor(path);
    if (r.view || r.path === "") throw new FsError("EEXIST", `/${r.path}`);
    this.create(r.path, { type: "dir", mode, uid: this.uid, gid: this.gid, size: 0, mtime: this.mtime() });
  }
  async rm(path: string, options: RmOptions = {}): Promise<void> {
    let r: { path: string; view: View | undefined };
    try {
      r = this.unfollowed(path);
    } catch (err) {
      if (options.force && err instanceof FsError && err.errno === "ENOENT") return;
      throw err;
    }
    if (!r.view) {
      if (options.force) return;
      throw new FsError("ENOENT", `/${r.path}`);
    }
    if (r.path === "") throw new FsError("EPERM", "/", "cannot remove the root directory");
    if (typeOf(r.view) === "dir" && !options.recursive) {
      if (!this.isDirEmpty(r.path)) throw new FsError("ENOTEMPTY", `/${r.path}`);
    }
    this.remove(r.path);
    this.stamp(r.path);
  }
  async rmdir(path: string): Promise<void> {
    const r = this.existingUnfollowed(path);
    if (typeOf(r.view) !== "dir") throw new FsError("ENOTDIR", `/${r.path}`);
    if (r.path === "") throw new FsError("EPERM", "/", "cannot remove the root directory");
    if (!this.isDirEmpty(r.path)) throw new FsError("ENOTEMPTY", `/${r.path}`);
    this.remove(r.path);
    this.stamp(r.path);
  }
  async unlink(path: string): Promise<void> {
    const r = this.existingUnfollowed(path);
    if (typeOf(r.view) === "dir") throw new FsError("EISDIR", `/${r.path}`);
    this.remove(r.path);
    this.stamp(r.path);
  }
  async rename(from: string, to: string): Promise<void> {
    const src = this.existingUnfollowed(from);
    const dst = this.parentFor(to);
    if (src.path === "" || dst.path === "")
      throw new FsError("EPERM", "/", "cannot rename the root directory");
    if (src.path === dst.path) return;
    const srcType = typeOf(src.view);
    if (srcType === "dir" && dst.path.startsWith(`${src.path}/`)) {
      throw new FsError("EINVAL", `/${dst.path}`, "cannot move a directory into itself");
    }
    if (dst.view) {
      const dstType = typeOf(dst.view);
      if (srcType === "dir" && dstType !== "dir") throw new FsError("ENOTDIR", `/${dst.path}`);
      if (srcType !== "dir" && dstType === "dir") throw new FsError("EISDIR", `/${dst.path}`);
      if (dstType === "dir" && !this.isDirEmpty(dst.path)) throw new FsError("ENOTEMPTY", `/${dst.path}`);
    }
    // Snapshot the moved subtree as it is seen, then delete the old names and write the new ones.
    const moved: UpperEntry[] = [];
    const collect = (p: string, rel: string) => {
      const v = this.view(p)!;
      const e = entryOf(v);
      const copy: UpperEntry = { entry: { ...e, type: e.type === "hardlink" ? "file" : e.type } };
      if (v.up?.ino !== undefined) copy.ino = v.up.ino;
      const from = v.up ? v.up.copiedUpFrom : (v.low.hardlinkTarget ?? v.low).layer;
      if (from !== undefined && from >= 0) copy.copiedUpFrom = from;
      copy.entry.path = rel;
      moved.push(copy);
      if (e.type === "dir") for (const n of this.names(p)) collect(joinPath(p, n), joinPath(rel, n));
    };
    collect(src.path, dst.path);
    this.remove(src.path);
    this.stamp(src.path);
    if (dst.view) this.remove(dst.path);
    const { entry: top, ...topExtra } = moved[0]!;
    this.create(dst.path, top, topExtra);
    for (const m of moved.slice(1)) this.setUpper(m.entry.path, m);
  }
  async chmod(path: string, mode: number): Promise<void> {
    const r = this.existing(path, true);
    this.change(r.path, (e) => ({ ...e, mode: mode & 0o7777 }));
  }
  async chown(path: string, uid: number, gid: number): Promise<void> {
    const r = this.existing(path, true);
    this.change(r.path, (e) => ({ ...e, uid, gid }));
  }
  async utimes(path: string, _atime: number, mtime: number): Promise<void> {
    const r = this.existing(path, true);
    this.change(r.path, (e) => ({ ...e, mtime: Math.floor(mtime) }));
  }
  async symlink(target: string, path: string): Promise<void> {
    const r = this.parentFor(path);
    if (r.view || r.path === "") throw new FsError("EEXIST", `/${r.path}`);
    this.create(r.path, {
      type: "symlink",
      mode: 0o777,
      uid: this.uid,
      gid: this.gid,
      size: 0,
      mtime: this.mtime(),
      linkname: target,
    });
  }
  async link(existing: string, newPath: string): Promise<void> {
    const src = this.existingUnfollowed(existing);
    if (typeOf(src.view) === "dir") throw new FsError("EPERM", `/${src.path}`, "cannot hardlink a directory");
    const dst = this.parentFor(newPath);
    if (dst.view || dst.path === "") throw new FsError("EEXIST", `/${dst.path}`);
    const up = this.copyUp(src.path);
    if (up.ino === undefined) {
      up.ino = this.nextIno++;
      this.setUpper(src.path, up);
    }
    const { path: _ignored, ...rest } = up.entry;
    this.create(dst.path, rest, { ino: up.ino });
  }

  put(entry: FileEntry): void {
    this.version++;
    const path = entry.path;
    if (path === "") {
      const root = this.copyUp("");
      root.entry = { ...entry, path: "" };
      return;
    }
    const v = this.view(path);
    const { path: _p, ...rest } = entry;
    if (v && typeOf(v) === "dir" && entry.type === "dir") {
      const up = this.copyUp(path);
      up.entry = { ...rest, path };
      return;
    }
    // Replacing what the image has at this path still records where it came from.
    const low = v?.low ? (v.low.hardlinkTarget ?? v.low).layer : v?.up?.copiedUpFrom;
    // The same kind of file at the same name was written, appended to or chmod-ed in place: its
    // directory's entries did not change, so (as on overlayfs) the directory keeps its mtime and
    // `docker diff` does not list it.
    const inPlace = v !== undefined && typeOf(v) === entry.type;
    this.create(path, rest, low !== undefined && low >= 0 ? { copiedUpFrom: low } : {}, !inPlace);
  }

  isClean(): boolean {
    return this.upper.size === 0;
  }

  changeset(): Changeset {
    const paths = [...this.upper.keys()].sort();
    const entries: FileEntry[] = [];
    const whiteouts: Whiteout[] = [];
    const firstOfInode = new Map<number, string>();
    for (const p of paths) {
      const up = this.upper.get(p);
      if (up === null) {
        whiteouts.push({ path: p, opaque: false });
        continue;
      }
      if (!up) continue;
      if (up.opaque) whiteouts.push({ path: p, opaque: true });
      const first = up.ino === undefined ? undefined : firstOfInode.get(up.ino);
      if (up.ino !== undefined && first === undefined) firstOfInode.set(up.ino, p);
      if (first !== undefined) {
        const { content: _c, digest: _d, ...rest } = up.entry;
        entries.push({ ...rest, type: "hardlink", size: 0, linkname: first });
      } else entries.push(up.entry);
    }
    return { entries, whiteouts };
  }

  /** The container layer applied over the image, as of the last change. */
  private appliedNow(): { version: number; layer: AppliedLayer; diff?: LayerDiff } {
    if (this.applied?.version !== this.version) {
      this.applied = {
        version: this.version,
        layer: applyChangeset(this.image, this.changeset(), this.layer),
      };
    }
    return this.applied;
  }

  tree(): MergedTree {
    return this.appliedNow().layer.tree;
  }

  diff(): LayerDiff {
    const a = this.appliedNow();
    a.diff ??= diffApplied(this.image, a.layer);
    return a.diff;
  }

  async commit(
    options: { createdBy?: string; comment?: string; author?: string } = {},
  ): Promise<ContainerCommit> {
    const cs = this.changeset();
    const entries: FileEntry[] = [];
    for (const e of cs.entries) {
      if (e.type === "file" && e.digest === undefined && e.content?.kind === "inline") {
        entries.push({ ...e, digest: await sha256(e.content.bytes) });
      } else entries.push(e);
    }
    const history: HistoryData = {
      created: new Date(this.now()).toISOString(),
      created_by: options.createdBy ?? "layerlab container commit",
    };
    if (options.comment !== undefined) history.comment = options.comment;
    if (options.author !== undefined) history.author = options.author;
    return { changeset: { entries, whiteouts: cs.whiteouts }, history };
  }

  reset(): void {
    this.version++;
    this.upper.clear();
    this.kids.clear();
    this.inodes.clear();
  }

  save(): ContainerLayerData {
    const entries: UpperEntry[] = [];
    const whiteouts: string[] = [];
    for (const [path, up] of [...this.upper].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (up === null) whiteouts.push(path);
      else entries.push({ ...up, entry: { ...up.entry } });
    }
    return { version: 1, entries, whiteouts };
  }

  private load(state: ContainerLayerData): void {
    if (state.version !== 1)
      throw new FsError("EINVAL", "/", `unknown container layer format ${String(state.version)}`);
    for (const up of state.entries) {
      this.setUpper(up.entry.path, { ...up, entry: { ...up.entry } });
      if (up.ino !== undefined && up.ino >= this.nextIno) this.nextIno = up.ino + 1;
    }
    for (const w of state.whiteouts) this.setUpper(w, null);
  }
}

/**
 * A filesystem over `image` (an image's merged tree) with a fresh (or restored) container layer.
 * `read` supplies the bytes of the image's files; the container's own writes are held inline.
 */
export function createContainerFs(
  image: MergedTree,
  read: ContentReader,
  options?: ContainerFsOptions,
): ContainerFs {
  return new Container(image, read, options);
}
