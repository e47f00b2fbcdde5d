/**
 * Per-layer diff: what one layer really changed in the merged tree below it.
 *
 * Every path the layer writes is classified against the merged tree of the layers below:
 * `added` (nothing there), `modified` (type, content, mode, owner, link target, device numbers,
 * xattrs or, for a non-directory, mtime differ) or `unchanged` (rewritten identically). A
 * non-directory rewritten with only a new mtime (`RUN touch /etc/os-release`) is `modified`, as
 * `docker diff` says `C`: the layer carries the whole file again and the learner must see why. A
 * directory whose only change is its mtime is `unchanged`: builders rewrite every parent directory
 * of what they write with a fresh mtime, and listing those would bury the real changes. Whiteouts, opaque directories and
 * directories re-created by the layer yield `removed` rows for the topmost lower paths that are
 * gone, each with the total size of what it hid. A non-directory that replaces a directory is a
 * `modified` row whose `hiddenSize` is the size of the directory's former contents.
 */
import type { AppliedLayer, LayerStack, MergedNode, MergedTree } from "./overlay.ts";
import { parentPath } from "./paths.ts";
import type { ContentRef, EntryType, FileEntry } from "./types.ts";

/** How one path changed in a layer. */
export type ChangeKind = "added" | "modified" | "removed" | "unchanged";

/** Which attributes of a modified entry changed. */
export type ChangedAttribute = "type" | "content" | "mode" | "owner" | "link" | "device" | "xattrs" | "mtime";

/** One path a layer wrote or removed. */
export interface DiffRow {
  path: string;
  kind: ChangeKind;
  /** The entry's type now, or for a removed row the type of what was removed. */
  type: EntryType;
  /** Bytes of the entry now; for a removed row, the total bytes it hid. */
  size: number;
  /** Bytes of lower entries hidden below this path (a directory's contents replaced or removed). */
  hiddenSize: number;
  /** The layer that supplied the previous entry at this path, when there was one. */
  previousLayer?: number;
  /** For modified rows: what changed. */
  changed?: ChangedAttribute[];
  /** For removed rows: a whiteout of this path or an ancestor, or an opaque directory above it. */
  cause?: "whiteout" | "opaque" | "replaced";
  /** For added directories no entry wrote (created because a deeper entry needed them). */
  implicit?: boolean;
}

/** Counts and bytes of changes below a directory (itself included). */
export interface DiffAggregate {
  added: number;
  modified: number;
  removed: number;
  unchanged: number;
  addedBytes: number;
  modifiedBytes: number;
  removedBytes: number;
  unchangedBytes: number;
}

/** A node of the diff tree: a row, or a directory carried along only to hold rows below it. */
export interface DiffNode {
  name: string;
  path: string;
  /** Undefined for a parent directory the layer did not change. */
  row: DiffRow | undefined;
  /** Sorted by name. */
  children: DiffNode[];
  /** This node's row and every row below it. */
  aggregate: DiffAggregate;
}

/** The diff of one layer against the layers below it. */
export interface LayerDiff {
  layer: number;
  /** Every row sorted by path, unchanged rewrites included. */
  rows: DiffRow[];
  /** The rows that really change something (added, modified, removed), sorted by path. */
  changes: DiffRow[];
  /** The rows arranged as a tree under the root, with aggregates per directory. */
  tree: DiffNode;
}

function sameRef(a: ContentRef | undefined, b: ContentRef | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.kind !== b.kind) return false;
  switch (a.kind) {
    case "tar":
      return b.kind === "tar" && a.blob === b.blob && a.offset === b.offset;
    case "blob":
      return b.kind === "blob" && a.blob === b.blob;
    case "synthetic":
      return b.kind === "synthetic" && a.seed === b.seed;
    case "inline": {
      if (b.kind !== "inline" || a.bytes.length !== b.bytes.length) return false;
      for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
      return true;
    }
  }
}

/** True when two regular files have the same bytes, as far as digests and content refs tell. */
export function sameContent(a: FileEntry, b: FileEntry): boolean {
  if (a.size !== b.size) return false;
  if (a.digest !== undefined && b.digest !== undefined) return a.digest === b.digest;
  return sameRef(a.content, b.content);
}

function sameXattrs(a: FileEntry["xattrs"], b: FileEntry["xattrs"]): boolean {
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a![k] !== b?.[k]) return false;
  return true;
}

/** The attributes that differ between a lower entry and the one replacing it ([] = unchanged). */
export function compareEntries(before: FileEntry, after: FileEntry): ChangedAttribute[] {
  if (before.type !== after.type) return ["type"];
  const out: ChangedAttribute[] = [];
  if (after.type === "file" && !sameContent(before, after)) out.push("content");
  if ((before.mode & 0o7777) !== (after.mode & 0o7777)) out.push("mode");
  if (before.uid !== after.uid || before.gid !== after.gid) out.push("owner");
  if ((after.type === "symlink" || after.type === "hardlink") && before.linkname !== after.linkname)
    out.push("link");
  if (
    (after.type === "char" || after.type === "block") &&
    (before.devmajor !== after.devmajor || before.devminor !== after.devminor)
  )
    out.push("device");
  if (!sameXattrs(before.xattrs, after.xattrs)) out.push("xattrs");
  // Only for non-directories: see the module comment.
  if (after.type !== "dir" && before.mtime !== after.mtime) out.push("mtime");
  return out;
}

function emptyAggregate(): DiffAggregate {
  return {
    added: 0,
    modified: 0,
    removed: 0,
    unchanged: 0,
    addedBytes: 0,
    modifiedBytes: 0,
    removedBytes: 0,
    unchangedBytes: 0,
  };
}

function byPath(a: DiffRow, b: DiffRow): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function entryRow(node: MergedNode, prev: MergedNode | undefined): DiffRow {
  const row: DiffRow = {
    path: node.path,
    kind: "added",
    type: node.entry.type,
    size: node.entry.size,
    hiddenSize: 0,
  };
  if (node.implicit) row.implicit = true;
  if (!prev) return row;
  row.previousLayer = prev.layer;
  const changed = compareEntries(prev.entry, node.entry);
  row.kind = changed.length ? "modified" : "unchanged";
  if (changed.length) row.changed = changed;
  if (prev.isDir && !node.isDir) row.hiddenSize = prev.totalSize() - prev.entry.size;
  return row;
}

/**
 * Diffs an applied layer against the merged tree below it. Cost: the layer's own entries and
 * whiteouts (and the lower directories they empty), never the whole image.
 */
export function diffApplied(lower: MergedTree, applied: AppliedLayer): LayerDiff {
  const upper = applied.tree;
  const rows = new Map<string, DiffRow>();
  const n = applied.index;

  // Directories this layer re-created over lower directories: their lower contents are gone.
  const restarted: [MergedNode, MergedNode][] = [];
  // Rows for the paths this layer supplies, implicit parents included.
  for (const node of applied.written) {
    const prev = lower.get(node.path);
    rows.set(node.path, entryRow(node, prev));
    if (node.fresh && prev?.isDir) restarted.push([prev, node]);
  }

  // Removed rows: lower paths gone from the new tree whose parent is still a directory.
  const removeUnder = (before: MergedNode, after: MergedNode, cause: "whiteout" | "opaque" | "replaced") => {
    for (const c of before.readdir()) {
      const now = after.child(c.name);
      if (!now) {
        if (!rows.has(c.path)) {
          rows.set(c.path, {
            path: c.path,
            kind: "removed",
            type: c.entry.type,
            size: c.totalSize(),
            hiddenSize: c.totalSize(),
            previousLayer: c.layer,
            cause,
          });
        }
      } else if (c.isDir && now.fresh) removeUnder(c, now, cause);
    }
  };
  for (const w of applied.changeset.whiteouts) {
    const before = lower.get(w.path);
    if (!before) continue;
    if (w.opaque) {
      const after = upper.get(w.path);
      if (after?.isDir && before.isDir) removeUnder(before, after, "opaque");
      continue;
    }
    const parent = upper.get(parentPath(w.path));
    if (!parent?.isDir) continue;
    const after = parent.child(before.name);
    if (!after) {
      if (!rows.has(w.path)) {
        const size = before.totalSize();
        rows.set(w.path, {
          path: w.path,
          kind: "removed",
          type: before.entry.type,
          size,
          hiddenSize: size,
          previousLayer: before.layer,
          cause: "whiteout",
        });
      }
    }
  }
  const whited = new Set(applied.changeset.whiteouts.filter((w) => !w.opaque).map((w) => w.path));
  for (const [before, after] of restarted)
    removeUnder(before, after, whited.has(after.path) ? "whiteout" : "replaced");

  const all = [...rows.values()].sort(byPath);
  return {
    layer: n,
    rows: all,
    changes: all.filter((r) => r.kind !== "unchanged"),
    tree: buildDiffTree(all),
  };
}

/** The diff of layer `n` of a stack against layers 0..n-1. */
export function diffLayer(stack: LayerStack, n: number): LayerDiff {
  const applied = stack.layers[n];
  if (!applied) throw new RangeError(`no layer ${n}: the image has ${stack.layers.length}`);
  return diffApplied(stack.treeAt(n - 1), applied);
}

function addTo(agg: DiffAggregate, row: DiffRow): void {
  switch (row.kind) {
    case "added":
      agg.added++;
      agg.addedBytes += row.size;
      break;
    case "modified":
      agg.modified++;
      agg.modifiedBytes += row.size;
      agg.removedBytes += row.hiddenSize;
      break;
    case "removed":
      agg.removed++;
      agg.removedBytes += row.size;
      break;
    case "unchanged":
      agg.unchanged++;
      agg.unchangedBytes += row.size;
      break;
  }
}

/** Arranges rows sorted by path into a tree under the root, summing each directory's rows. */
export function buildDiffTree(rows: readonly DiffRow[]): DiffNode {
  const root: DiffNode = { name: "", path: "", row: undefined, children: [], aggregate: emptyAggregate() };
  const nodes = new Map<string, DiffNode>([["", root]]);
  const nodeFor = (path: string): DiffNode => {
    let node = nodes.get(path);
    if (node) return node;
    const parent = nodeFor(parentPath(path));
    node = {
      name: path.slice(path.lastIndexOf("/") + 1),
      path,
      row: undefined,
      children: [],
      aggregate: emptyAggregate(),
    };
    parent.children.push(node);
    nodes.set(path, node);
    return node;
  };
  for (const row of rows) {
    const node = nodeFor(row.path);
    node.row = row;
    for (let p: string | undefined = row.path; p !== undefined; p = p === "" ? undefined : parentPath(p)) {
      addTo(nodes.get(p)!.aggregate, row);
    }
  }
  for (const node of nodes.values())
    node.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return root;
}
