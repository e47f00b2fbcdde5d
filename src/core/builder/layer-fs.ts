/**
 * The root filesystem a build step works on: the merged tree of the layers below plus the writes
 * of the current step. `beginStep` starts recording; `diffStep` turns what the step changed into a
 * Changeset the way a real builder commits it: adds, modifications, one whiteout per deleted top-most
 * path, and an opaque directory where a directory of the layers below was removed and made again
 * (overlayfs marks such a directory opaque, and Docker's overlay2 driver writes it as
 * `.wh..wh..opq`).
 */
import type { Digest } from "../digest.ts";
import { baseName, joinPath as join, parentPath } from "../fs/paths.ts";
import { type PathLookup, resolvePath } from "../fs/resolve-path.ts";
import type { Changeset, ContentReader, ContentRef, FileEntry } from "../fs/types.ts";

/** The kinds of node the build filesystem holds (hard links share an inode number). */
export type NodeType = "file" | "dir" | "symlink" | "char" | "block" | "fifo";

/** One filesystem object. Nodes are never mutated once in the tree; changes replace them. */
export interface FsNode {
  type: NodeType;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** File bytes, when held in memory. */
  data?: Uint8Array;
  /** Where the bytes live otherwise (a layer tar, a blob, a synthetic seed). */
  ref?: ContentRef;
  digest?: Digest;
  /** Symlink target as written. */
  target?: string;
  ino: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /** Set once the inode has more than one name (a hard link), so writes update every name. */
  linked?: boolean;
}

export type { ContentReader } from "../fs/types.ts";

/** The snapshot of a tree at the end of a step, shareable because nodes are never mutated. */
export interface TreeSnapshot {
  readonly nodes: ReadonlyMap<string, FsNode>;
  readonly kids: ReadonlyMap<string, ReadonlySet<string>>;
  readonly nextIno: number;
}

/** A mutable rootfs for one build stage. */
export class LayerFs {
  private nodes: Map<string, FsNode>;
  private kids: Map<string, Set<string>>;
  /** Directories whose child set this generation owns (copy-on-write of shared sets). */
  private ownedKids = new Set<string>();
  private touched = new Map<string, FsNode | undefined>();
  private written = new Set<string>();
  private nextIno: number;
  /** Time stamp given to everything this build writes (SOURCE_DATE_EPOCH). */
  epoch: number;
  readonly readContent: ContentReader;

  constructor(readContent: ContentReader, epoch = 0, snapshot?: TreeSnapshot) {
    this.readContent = readContent;
    this.epoch = epoch;
    if (snapshot) {
      this.nodes = new Map(snapshot.nodes);
      this.kids = new Map(snapshot.kids as Map<string, Set<string>>);
      this.nextIno = snapshot.nextIno;
    } else {
      this.nodes = new Map([
        ["", { type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: 0, ino: 1 }],
      ]);
      this.kids = new Map([["", new Set()]]);
      this.ownedKids.add("");
      this.nextIno = 2;
    }
  }

  /** Freezes the current state; later changes to this LayerFs do not affect the snapshot. */
  snapshot(): TreeSnapshot {
    this.ownedKids.clear();
    return { nodes: new Map(this.nodes), kids: new Map(this.kids), nextIno: this.nextIno };
  }

  /** A copy that shares nodes with this one. */
  fork(): LayerFs {
    return new LayerFs(this.readContent, this.epoch, this.snapshot());
  }

  /** Every path whose node is the inode `ino` (hard links), sorted. */
  pathsOfInode(ino: number): string[] {
    const out: string[] = [];
    for (const [p, n] of this.nodes) if (n.ino === ino) out.push(p);
    return out.sort();
  }

  /** Number of paths in the tree (the root included). */
  get size(): number {
    return this.nodes.size;
  }

  /** Applies a layer's changeset from an image (whiteouts first, then entries), outside any step. */
  applyChangeset(cs: Changeset): void {
    for (const w of cs.whiteouts) {
      if (w.opaque) {
        for (const k of [...(this.kids.get(w.path) ?? [])]) this.removeTree(join(w.path, k));
      } else if (this.nodes.has(w.path)) this.removeTree(w.path);
    }
    const byPath = new Map<string, FsNode>();
    for (const e of cs.entries) {
      if (e.path === "" || e.path === ".") continue;
      if (e.type === "hardlink") {
        const src = byPath.get(e.linkname ?? "") ?? this.nodes.get(e.linkname ?? "");
        if (src && src.type === "file") {
          this.putNode(e.path, src);
          byPath.set(e.path, src);
        }
        continue;
      }
      const node: FsNode = {
        type: e.type,
        mode: e.mode & 0o7777,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        size: e.type === "file" ? e.size : 0,
        ino: this.nextIno++,
      };
      if (e.content) node.ref = e.content;
      if (e.content?.kind === "inline") node.data = e.content.bytes;
      if (e.digest) node.digest = e.digest;
      if (e.linkname !== undefined && e.type === "symlink") node.target = e.linkname;
      if (e.devmajor !== undefined) node.devmajor = e.devmajor;
      if (e.devminor !== undefined) node.devminor = e.devminor;
      if (e.xattrs) node.xattrs = e.xattrs;
      const old = this.nodes.get(e.path);
      if (old && old.type === "dir" && node.type !== "dir") this.removeTree(e.path);
      if (old && old.type === "dir" && node.type === "dir") {
        this.nodes.set(e.path, node);
        continue;
      }
      this.ensureParents(e.path);
      this.putNode(e.path, node);
      byPath.set(e.path, node);
    }
  }

  private ensureParents(path: string): void {
    const dir = parentPath(path);
    if (dir === "" || this.nodes.get(dir)?.type === "dir") return;
    this.ensureParents(dir);
    if (this.nodes.has(dir)) this.removeTree(dir);
    this.putNode(dir, {
      type: "dir",
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: this.epoch,
      size: 0,
      ino: this.nextIno++,
    });
  }

  // ---- recording ------------------------------------------------------------------------------

  /** Starts recording a step's changes. */
  beginStep(): void {
    this.touched.clear();
    this.written.clear();
  }

  /** True when the current step changed anything. */
  get stepChanged(): boolean {
    return this.touched.size > 0;
  }

  private touch(path: string): void {
    if (!this.touched.has(path)) this.touched.set(path, this.nodes.get(path));
  }

  private childSet(dir: string): Set<string> {
    let set = this.kids.get(dir);
    if (!set) {
      set = new Set();
      this.kids.set(dir, set);
      this.ownedKids.add(dir);
    } else if (!this.ownedKids.has(dir)) {
      set = new Set(set);
      this.kids.set(dir, set);
      this.ownedKids.add(dir);
    }
    return set;
  }

  /** Puts a node at a path whose parent is a directory (replaces a non-directory there). */
  putNode(path: string, node: FsNode, contentChanged = true): void {
    this.touch(path);
    if (contentChanged) this.written.add(path);
    const old = this.nodes.get(path);
    if (old?.type === "dir" && node.type !== "dir") this.removeTree(path);
    this.nodes.set(path, node);
    const dir = parentPath(path);
    const base = baseName(path);
    this.childSet(dir).add(base);
    if (node.type === "dir" && !this.kids.has(path)) {
      this.kids.set(path, new Set());
      this.ownedKids.add(path);
    }
  }

  /** Replaces a node's attributes without counting it as a content change. */
  updateNode(path: string, node: FsNode): void {
    this.touch(path);
    this.nodes.set(path, node);
  }

  /** Removes a path and everything below it. */
  removeTree(path: string): void {
    const node = this.nodes.get(path);
    if (!node) return;
    if (node.type === "dir") {
      for (const k of [...(this.kids.get(path) ?? [])]) this.removeTree(join(path, k));
      this.kids.delete(path);
      this.ownedKids.delete(path);
    }
    this.touch(path);
    this.nodes.delete(path);
    const dir = parentPath(path);
    const base = baseName(path);
    if (this.kids.has(dir)) this.childSet(dir).delete(base);
  }

  // ---- lookups --------------------------------------------------------------------------------

  /** The node at an exact (already resolved) relative path. */
  nodeAt(path: string): FsNode | undefined {
    return this.nodes.get(path);
  }

  /** Names in a directory (resolved relative path), sorted. */
  childrenOf(path: string): string[] {
    return [...(this.kids.get(path) ?? [])].sort();
  }

  /** Every path in the tree, sorted (root excluded). */
  allPaths(): string[] {
    return [...this.nodes.keys()].filter((p) => p !== "").sort();
  }

  /** The tree as the shared resolver sees it. */
  private readonly lookup: PathLookup<FsNode> = {
    get: (p) => this.nodes.get(p),
    isDir: (n) => n.type === "dir",
    linkTarget: (n) => (n.type === "symlink" ? (n.target ?? "") : undefined),
  };

  /**
   * Resolves symlinks in a relative path (`fs/resolve-path.ts`): every parent component is
   * followed; the last one only when `followLast`. Returns the resolved path and its node
   * (undefined when it does not exist but its parent does); throws FsError ENOENT/ENOTDIR/ELOOP
   * with Node's message for `op` otherwise.
   */
  resolve(path: string, followLast: boolean, op = "stat"): { path: string; node: FsNode | undefined } {
    return resolvePath(this.lookup, path, { followLast, syscall: op });
  }

  /** The bytes of a file node. */
  async contentOf(node: FsNode): Promise<Uint8Array> {
    if (node.data) return node.data;
    if (node.ref) return this.readContent(node.ref, node.size);
    return new Uint8Array(0);
  }

  /** A fresh node id for a new object. */
  newIno(): number {
    return this.nextIno++;
  }

  // ---- diff -----------------------------------------------------------------------------------

  /**
   * What the current step changed, as an overlay upper directory records it: new paths are added,
   * files written (or with new mode/owner) are modified, a deleted path whose parent still exists as
   * a directory gets one whiteout, and parents of changes are carried along. A directory of the
   * layers below that was removed and made again (`rm -rf d && mkdir d`) is opaque: one
   * `.wh..wh..opq` marker hides everything the lower layers had in it, and everything now in it is
   * written out, instead of a whiteout per old child.
   */
  diffStep(): Changeset {
    const entries = new Map<string, FileEntry>();
    const whiteouts: string[] = [];
    const deleted = (p: string): boolean => this.touched.get(p) !== undefined && !this.nodes.has(p);
    const opaque = this.recreatedDirs();
    const underOpaque = (p: string): boolean => {
      for (let d = parentPath(p); ; d = parentPath(d)) {
        if (opaque.has(d)) return true;
        if (d === "") return false;
      }
    };
    for (const [path, old] of this.touched) {
      const now = this.nodes.get(path);
      if (!now) {
        if (!old || underOpaque(path)) continue;
        const dir = parentPath(path);
        // Only the top-most deleted path needs a whiteout; a parent replaced by a non-directory hides it.
        let ancestorGone = false;
        for (let d = dir; d !== ""; d = parentPath(d)) {
          const n = this.nodes.get(d);
          const o = this.touched.has(d) ? this.touched.get(d) : n;
          if (deleted(d) || !n || n.type !== "dir" || (o && o.type !== "dir")) {
            ancestorGone = true;
            break;
          }
        }
        if (!ancestorGone) whiteouts.push(path);
        continue;
      }
      let changed = !old || old.type !== now.type;
      if (!changed && old) {
        changed =
          old.mode !== now.mode ||
          old.uid !== now.uid ||
          old.gid !== now.gid ||
          (now.type !== "dir" &&
            (this.written.has(path) ||
              old.size !== now.size ||
              old.mtime !== now.mtime ||
              old.target !== now.target));
      }
      if (changed) entries.set(path, this.entryFor(path, now));
    }
    // The marker hides the lower layers' copy of everything below, so all of it is written again.
    for (const d of opaque) {
      const walk = (p: string): void => {
        const n = this.nodes.get(p) as FsNode;
        entries.set(p, this.entryFor(p, n));
        if (n.type === "dir") for (const k of this.kids.get(p) ?? []) walk(join(p, k));
      };
      walk(d);
    }
    // A directory whose contents changed is carried along so its permissions are restored.
    const parents = new Set<string>();
    for (const p of [...entries.keys(), ...whiteouts]) {
      for (let d = parentPath(p); d !== ""; d = parentPath(d)) {
        if (entries.has(d) || parents.has(d)) break;
        parents.add(d);
      }
    }
    for (const d of parents) {
      const n = this.nodes.get(d);
      if (n) entries.set(d, this.entryFor(d, n));
    }
    const sorted = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // Hard links: the first path of an inode in this layer carries the bytes, the others link to it.
    const firstOfIno = new Map<number, string>();
    for (const e of sorted) {
      if (e.type !== "file") continue;
      const n = this.nodes.get(e.path) as FsNode;
      const first = firstOfIno.get(n.ino);
      if (first === undefined) firstOfIno.set(n.ino, e.path);
      else {
        e.type = "hardlink";
        e.linkname = first;
        e.size = 0;
        delete e.content;
        delete e.digest;
      }
    }
    const outs = [
      ...whiteouts.map((path) => ({ path, opaque: false })),
      ...[...opaque].map((path) => ({ path, opaque: true })),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.opaque ? 1 : -1));
    return { entries: sorted, whiteouts: outs };
  }

  /**
   * Directories of the layers below that this step removed and made again, top-most only: the
   * node there now is a directory but not the one the step started with (a new inode), as overlayfs
   * sees a directory made where its whiteout stood. One below another is already hidden by it.
   */
  private recreatedDirs(): Set<string> {
    const found: string[] = [];
    for (const [path, old] of this.touched) {
      const now = this.nodes.get(path);
      if (path !== "" && old?.type === "dir" && now?.type === "dir" && old.ino !== now.ino) found.push(path);
    }
    found.sort();
    const top = new Set<string>();
    for (const p of found) {
      let inside = false;
      for (let d = parentPath(p); d !== "" && !inside; d = parentPath(d)) inside = top.has(d);
      if (!inside) top.add(p);
    }
    return top;
  }

  private entryFor(path: string, n: FsNode): FileEntry {
    return entryOfNode(path, n);
  }
}

/** A filesystem node as a changeset entry (contents by reference or inline, as the node holds them). */
export function entryOfNode(path: string, n: FsNode): FileEntry {
  const e: FileEntry = {
    path,
    type: n.type,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    size: n.type === "file" ? n.size : 0,
    mtime: n.mtime,
  };
  if (n.type === "symlink") e.linkname = n.target ?? "";
  if (n.type === "file") {
    if (n.data) e.content = { kind: "inline", bytes: n.data };
    else if (n.ref) e.content = n.ref;
    if (n.digest) e.digest = n.digest;
  }
  if (n.devmajor !== undefined) e.devmajor = n.devmajor;
  if (n.devminor !== undefined) e.devminor = n.devminor;
  if (n.xattrs) e.xattrs = n.xattrs;
  return e;
}
