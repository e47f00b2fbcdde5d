import type { EntryType } from "../fs/types.ts";
import { compilePathFilter } from "./glob.ts";

/** How a layer changed a path (see the overlay's diff); `unchanged` rows appear in merged views. */
export type ChangeKind = "added" | "modified" | "removed" | "unchanged";

/** One path to show: from a layer's diff or from a merged tree. */
export interface TreeInput {
  path: string;
  type: EntryType;
  size: number;
  kind: ChangeKind;
  /** Index of the layer that supplied the entry (or made the change). */
  layer: number;
  linkname?: string;
}

const KIND_CODE: Record<ChangeKind, number> = { unchanged: 0, added: 1, modified: 2, removed: 3 };
export const KIND_BY_CODE: readonly ChangeKind[] = ["unchanged", "added", "modified", "removed"];
const TYPE_CODE: Record<EntryType, number> = {
  file: 0,
  dir: 1,
  symlink: 2,
  hardlink: 3,
  char: 4,
  block: 5,
  fifo: 6,
};
export const TYPE_BY_CODE: readonly EntryType[] = [
  "file",
  "dir",
  "symlink",
  "hardlink",
  "char",
  "block",
  "fifo",
];

/**
 * A whole tree in columns (cheap to send from a worker and to walk): node 0 is the root, every
 * other node has a parent; `children` lists each node's children sorted by name. Directory sizes
 * are the sum of everything below; a directory's `kinds` bit set says which change kinds it holds.
 */
export interface TreeSnapshot {
  names: string[];
  parent: Int32Array;
  type: Uint8Array;
  /** The entry's own change kind (a directory implied by its children is `unchanged`). */
  kind: Uint8Array;
  /** Bit (1 << kind code) for every kind at or below the node. */
  kinds: Uint8Array;
  size: Float64Array;
  /** Entries added, modified and removed at or below the node (three counts per node). */
  changes: Uint32Array;
  layer: Int16Array;
  /** 1 when the node is a real entry, 0 when it is only implied as a parent of one. */
  real: Uint8Array;
  links: (string | undefined)[];
  childStart: Int32Array;
  childList: Int32Array;
}

/** Builds a snapshot from entries in any order; missing parent directories are implied. */
export function buildTreeSnapshot(entries: readonly TreeInput[]): TreeSnapshot {
  const index = new Map<string, number>([["", 0]]);
  const names = [""];
  const parents = [-1];
  const types = [1];
  const kinds = [0];
  const sizes = [0];
  const layers = [-1];
  const real = [0];
  const links: (string | undefined)[] = [undefined];
  const ensure = (path: string): number => {
    const found = index.get(path);
    if (found !== undefined) return found;
    const slash = path.lastIndexOf("/");
    const p = ensure(slash < 0 ? "" : path.slice(0, slash));
    const id = names.length;
    index.set(path, id);
    names.push(path.slice(slash + 1));
    parents.push(p);
    types.push(1);
    kinds.push(0);
    sizes.push(0);
    layers.push(-1);
    real.push(0);
    links.push(undefined);
    return id;
  };
  for (const e of entries) {
    if (e.path === "") continue;
    const id = ensure(e.path);
    types[id] = TYPE_CODE[e.type];
    kinds[id] = KIND_CODE[e.kind];
    // A removed directory carries the bytes it hides; other directories sum their children.
    sizes[id] = e.type === "dir" && e.kind !== "removed" ? 0 : e.size;
    layers[id] = e.layer;
    real[id] = 1;
    links[id] = e.linkname;
  }
  const n = names.length;
  const snap: TreeSnapshot = {
    names,
    parent: Int32Array.from(parents),
    type: Uint8Array.from(types),
    kind: Uint8Array.from(kinds),
    kinds: new Uint8Array(n),
    size: Float64Array.from(sizes),
    changes: new Uint32Array(n * 3),
    layer: Int16Array.from(layers),
    real: Uint8Array.from(real),
    links,
    childStart: new Int32Array(n + 1),
    childList: new Int32Array(Math.max(0, n - 1)),
  };
  const counts = new Int32Array(n);
  for (let i = 1; i < n; i++) counts[snap.parent[i]!]!++;
  // A node with children listed is the sum of them, never its own figure too.
  for (let i = 0; i < n; i++) if (counts[i]! > 0) snap.size[i] = 0;
  // Children are created after their parents, so a reverse sweep aggregates bottom-up.
  for (let i = n - 1; i >= 0; i--) {
    snap.kinds[i]! |= 1 << snap.kind[i]!;
    const k = snap.kind[i]!;
    if (snap.real[i] && k > 0) snap.changes[i * 3 + k - 1]!++;
    const p = snap.parent[i]!;
    if (p >= 0) {
      snap.size[p]! += snap.size[i]!;
      snap.kinds[p]! |= snap.kinds[i]!;
      for (let c = 0; c < 3; c++) snap.changes[p * 3 + c]! += snap.changes[i * 3 + c]!;
    }
  }
  for (let i = 0; i < n; i++) snap.childStart[i + 1] = snap.childStart[i]! + counts[i]!;
  const fill = snap.childStart.slice(0, n);
  for (let i = 1; i < n; i++) snap.childList[fill[snap.parent[i]!]!++] = i;
  for (let i = 0; i < n; i++) {
    const a = snap.childStart[i]!;
    const b = snap.childStart[i + 1]!;
    if (b - a > 1) {
      const sorted = Array.from(snap.childList.subarray(a, b)).sort((x, y) =>
        names[x]! < names[y]! ? -1 : names[x]! > names[y]! ? 1 : 0,
      );
      snap.childList.set(sorted, a);
    }
  }
  return snap;
}

/** The full path of a node ("" for the root). */
export function nodePath(snap: TreeSnapshot, id: number): string {
  const parts: string[] = [];
  for (let i = id; i > 0; i = snap.parent[i]!) parts.push(snap.names[i]!);
  return parts.reverse().join("/");
}

/**
 * The node at `path` ("" for the root), or undefined: one binary search per name in the sorted
 * child lists, so a view can find its few open directories without indexing every path.
 */
export function findNode(snap: TreeSnapshot, path: string): number | undefined {
  let id = 0;
  if (path === "") return id;
  for (const name of path.split("/")) {
    let lo = snap.childStart[id]!;
    let hi = snap.childStart[id + 1]! - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const child = snap.childList[mid]!;
      const n = snap.names[child]!;
      if (n === name) {
        found = child;
        break;
      }
      if (n < name) lo = mid + 1;
      else hi = mid - 1;
    }
    if (found < 0) return undefined;
    id = found;
  }
  return id;
}

/** What the tree shows: view state, owned by the UI, passed in. */
export interface TreeViewOptions {
  expanded: ReadonlySet<number>;
  sort: "name" | "size";
  /** Substring or glob (see compilePathFilter). */
  filter?: string;
  /** When given, only these kinds (and the directories leading to them) are shown. */
  kinds?: ReadonlySet<ChangeKind>;
}

/** The rows on screen, in order: node ids and their depth. Filtering expands what it keeps. */
export interface TreeRows {
  ids: Int32Array;
  depth: Uint16Array;
  /** Nodes kept by the filter (undefined when nothing is filtered). */
  matched?: Uint8Array;
  /** How many entries the filter itself matched, not counting the directories leading to them. */
  matches?: number;
}

/** Flattens the tree into visible rows for the given expansion, sort and filter. */
export function layoutTreeRows(snap: TreeSnapshot, opt: TreeViewOptions): TreeRows {
  const n = snap.names.length;
  let keep: Uint8Array | undefined;
  let matches = 0;
  const filtering = (opt.filter?.trim() ?? "") !== "" || (opt.kinds !== undefined && opt.kinds.size < 4);
  if (filtering) {
    keep = new Uint8Array(n);
    const match = compilePathFilter(opt.filter ?? "");
    let kindMask = 0;
    for (const k of opt.kinds ?? KIND_BY_CODE) kindMask |= 1 << KIND_CODE[k];
    // Walk depth-first carrying each node's path, so paths are built once.
    const stack: [number, string][] = [[0, ""]];
    while (stack.length) {
      const [id, path] = stack.pop()!;
      for (let c = snap.childStart[id]!; c < snap.childStart[id + 1]!; c++) {
        const child = snap.childList[c]!;
        const p = path ? `${path}/${snap.names[child]}` : snap.names[child]!;
        const isLeafOrReal = snap.real[child] === 1;
        if (isLeafOrReal && (1 << snap.kind[child]!) & kindMask && match(p)) {
          matches++;
          for (let a = child; a >= 0 && !keep[a]; a = snap.parent[a]!) keep[a] = 1;
        }
        stack.push([child, p]);
      }
    }
  }
  const ids: number[] = [];
  const depth: number[] = [];
  const order = (id: number): number[] => {
    const kids = Array.from(snap.childList.subarray(snap.childStart[id]!, snap.childStart[id + 1]!));
    if (opt.sort === "size") kids.sort((a, b) => snap.size[b]! - snap.size[a]!);
    return kids;
  };
  const visit = (id: number, d: number) => {
    for (const c of order(id)) {
      if (keep && !keep[c]) continue;
      ids.push(c);
      depth.push(d);
      const open = keep ? true : opt.expanded.has(c);
      if (open && snap.childStart[c + 1]! > snap.childStart[c]!) visit(c, d + 1);
    }
  };
  visit(0, 0);
  return {
    ids: Int32Array.from(ids),
    depth: Uint16Array.from(depth),
    ...(keep ? { matched: keep, matches } : {}),
  };
}
