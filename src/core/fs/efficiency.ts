/**
 * Image efficiency, after dive (wagoodman/dive, dive/filetree/efficiency.go), with its faults fixed.
 *
 * What dive does: for every path that is a leaf in some layer it sums the sizes of all its
 * versions over the layers (`CumulativeSize`, a whiteout counting the size of the directory it
 * deletes, or 0 for a deleted file) and keeps the smallest of them (`minDiscoveredSize`). Its score
 * is Σ min / Σ cumulative over all paths; its wasted bytes are Σ cumulative over every path seen in
 * two or more layers; its list of inefficiencies is those paths. Three faults follow:
 * - wasted bytes include the one copy that must stay (a file written twice counts both copies);
 * - "smallest version" is not the kept version (a 10-byte file later grown to 100 bytes counts
 *   100 as reclaimable where only 10 are);
 * - deleting a directory never counts its files (each file was seen in one layer only), and opaque
 *   whiteouts (`.wh..wh..opq`) are not handled at all.
 *
 * LayerLab's definition: a *version* is a non-directory entry applied by a layer (what its tar
 * carries). A version is reclaimable when it is not visible in the image's final merged tree:
 * overwritten by a later layer, deleted by a whiteout of it or of an ancestor, hidden by an opaque
 * directory, or dropped when a later layer replaced a parent directory by a non-directory.
 * - totalBytes = Σ sizes of all versions in all layers (each counted once);
 * - finalBytes = Σ sizes of the versions visible at the top (what a container sees);
 * - wastedBytes = totalBytes − finalBytes, the bytes that could be reclaimed by squashing;
 * - score = finalBytes / totalBytes in 0..1 (1 when there are no bytes at all).
 * Sizes are those of tar entries, so a hardlink counts 0 bytes (its file's bytes count once, at the
 * file), and a layer's entry replaced by a later entry of the same tar is not a version.
 * This equals dive's score whenever the kept version is the smallest one (or the file is deleted),
 * and differs exactly where dive's guesses are wrong. Inefficiencies list every path written in
 * two or more layers, or written and later removed, with each layer that wrote or removed it and
 * the bytes reclaimable at that path; sorted by reclaimable bytes, largest first.
 */
import type { HiddenRecord, LayerStack, MergedNode } from "./overlay.ts";
import { parentPath } from "./paths.ts";
import type { Changeset } from "./types.ts";

/** One layer's part in a path's history. */
export interface PathOccurrence {
  layer: number;
  /** `written`: the layer carries a version; `removed`: the layer hid the visible version. */
  action: "written" | "removed";
  /** Bytes of the version written, or of the version removed. */
  size: number;
  /** For removals: the whiteout's path, the opaque directory, or the path that replaced a parent. */
  by?: string;
  cause?: "whiteout" | "opaque" | "replaced" | "parent-replaced";
}

/** A path whose bytes are duplicated across layers or deleted later. */
export interface Inefficiency {
  path: string;
  /** Bytes of versions at this path not visible in the final tree. */
  wastedBytes: number;
  /** Σ sizes of every version at this path (dive's CumulativeSize, without whiteout sizes). */
  cumulativeBytes: number;
  /** Oldest first. */
  occurrences: PathOccurrence[];
}

/** The efficiency of an image (see the module comment for the definition). */
export interface EfficiencyReport {
  score: number;
  wastedBytes: number;
  totalBytes: number;
  finalBytes: number;
  inefficiencies: Inefficiency[];
  /** With `{ dive: true }`: what dive itself would report (see diveEfficiency), for comparison. */
  dive?: DiveEfficiency;
}

/** Options of computeEfficiency. */
export interface EfficiencyOptions {
  /** Also compute dive's own figures (one more pass over every entry of every layer). */
  dive?: boolean;
  /** List only this many inefficiencies, the most wasteful (the totals still cover them all). */
  limit?: number;
}

/**
 * Computes an image's efficiency from its stacked layers. Cost: the versions hidden, plus the
 * listed paths' details (and with `dive`, one pass over every entry of every layer).
 */
export function computeEfficiency(stack: LayerStack, options: EfficiencyOptions = {}): EfficiencyReport {
  // Each hidden version is one event in these parallel arrays, chained per path through `next`.
  const evNode: MergedNode[] = [];
  const evRec: HiddenRecord[] = [];
  const evLayer: number[] = [];
  const evNext: number[] = [];
  const paths = new Map<string, { path: string; wasted: number; head: number; tail: number }>();
  let hiddenBytes = 0;
  for (const applied of stack.layers) {
    const layer = applied.index;
    // Each version is hidden once, by exactly one record of exactly one layer.
    for (const rec of applied.hidden) {
      const todo: MergedNode[] = [rec.node];
      while (todo.length) {
        const node = todo.pop()!;
        if (node.isDir) {
          for (const c of node.readdir()) todo.push(c);
          continue;
        }
        if (node.layer === layer) continue; // written and replaced within this one tar
        const i = evNode.length;
        evNode.push(node);
        evRec.push(rec);
        evLayer.push(layer);
        evNext.push(-1);
        let p = paths.get(node.path);
        if (!p) {
          p = { path: node.path, wasted: 0, head: i, tail: i };
          paths.set(node.path, p);
        } else {
          evNext[p.tail] = i;
          p.tail = i;
        }
        p.wasted += node.entry.size;
        hiddenBytes += node.entry.size;
      }
    }
  }
  // Every version is either hidden exactly once or in the final tree, so the final tree's bytes
  // and the hidden bytes add up to all the bytes the layers wrote.
  const top = stack.top;
  const finalBytes = top.root.totalSize();
  const totalBytes = finalBytes + hiddenBytes;

  const ranked = [...paths.values()];
  ranked.sort((a, b) => b.wasted - a.wasted || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (options.limit !== undefined) ranked.length = Math.min(ranked.length, Math.max(0, options.limit));
  const inefficiencies: Inefficiency[] = ranked.map((p) => {
    const occurrences: PathOccurrence[] = [];
    let total = 0;
    for (let i = p.head; i >= 0; i = evNext[i]!) {
      const node = evNode[i]!;
      const rec = evRec[i]!;
      const size = node.entry.size;
      total += size;
      occurrences.push({ layer: node.layer, action: "written", size });
      // An overwrite shows as the overwriting layer's own write, not as a removal.
      if (rec.cause === "replaced" && !rec.node.isDir) continue;
      const by = rec.cause === "opaque" ? parentPath(rec.path) : rec.path;
      occurrences.push({ layer: evLayer[i]!, action: "removed", size, by, cause: rec.cause });
    }
    const now = top.get(p.path);
    if (now && !now.isDir) {
      total += now.entry.size;
      occurrences.push({ layer: now.layer, action: "written", size: now.entry.size });
    }
    // Oldest first; in one layer its removals (applied first) before its write.
    occurrences.sort(
      (a, b) => a.layer - b.layer || (a.action === b.action ? 0 : a.action === "removed" ? -1 : 1),
    );
    return { path: p.path, wastedBytes: p.wasted, cumulativeBytes: total, occurrences };
  });
  const report: EfficiencyReport = {
    score: totalBytes === 0 ? 1 : finalBytes / totalBytes,
    wastedBytes: hiddenBytes,
    totalBytes,
    finalBytes,
    inefficiencies,
  };
  if (options.dive) report.dive = diveEfficiency(stack);
  return report;
}

/** What dive (wagoodman/dive) reports for an image: its efficiency score and wasted bytes. */
export interface DiveEfficiency {
  score: number;
  wastedBytes: number;
}

/**
 * A node of a file tree as dive builds one: per layer from its tar entries, and stacked over the
 * layers below for the sizes of what a whiteout deletes. `size` and `isDir` are the payload of the
 * entry at this path; a parent directory no entry named has the empty payload (0, not a directory).
 */
interface DiveNode {
  size: number;
  isDir: boolean;
  children: Map<string, DiveNode> | undefined;
}

const WH = ".wh.";

function diveNode(size = 0, isDir = false): DiveNode {
  return { size, isDir, children: undefined };
}

/** Walks to `names` from `root`, creating missing nodes with the empty payload. */
function diveWalk(root: DiveNode, names: readonly string[]): DiveNode {
  let node = root;
  for (const name of names) {
    node.children ??= new Map();
    let next = node.children.get(name);
    if (!next) {
      next = diveNode();
      node.children.set(name, next);
    }
    node = next;
  }
  return node;
}

/** dive's AddPath: the node at `path`, its parents created empty, its payload replaced. */
function diveAdd(root: DiveNode, path: string, size: number, isDir: boolean): void {
  const node = diveWalk(root, path.split("/"));
  node.size = size;
  node.isDir = isDir;
}

/** dive's GetNode. */
function diveGet(root: DiveNode, path: string): DiveNode | undefined {
  let node: DiveNode | undefined = root;
  for (const name of path.split("/")) {
    node = node.children?.get(name);
    if (!node) return undefined;
  }
  return node;
}

/** dive's RemovePath (a path that is not there is skipped, as dive logs and goes on). */
function diveRemove(root: DiveNode, path: string): void {
  const cut = path.lastIndexOf("/");
  const parent = cut < 0 ? root : diveGet(root, path.slice(0, cut));
  parent?.children?.delete(path.slice(cut + 1));
}

/**
 * One layer's tree as dive reads it from the tar: every entry at its path (a later duplicate
 * replaces the payload), each whiteout as a node named `.wh.<name>` (an empty file), and an opaque
 * marker only creating its directory's path (dive drops `.wh..wh..*` names).
 */
function diveLayerTree(cs: Changeset): DiveNode {
  const root = diveNode();
  for (const e of cs.entries) if (e.path !== "") diveAdd(root, e.path, e.size, e.type === "dir");
  for (const w of cs.whiteouts) {
    if (w.opaque) {
      if (w.path !== "") diveWalk(root, w.path.split("/"));
      continue;
    }
    const cut = w.path.lastIndexOf("/");
    diveAdd(root, `${w.path.slice(0, cut + 1)}${WH}${w.path.slice(cut + 1)}`, 0, false);
  }
  return root;
}

/** Go's sort.Strings order (bytes of UTF-8, which is the order of code points). */
function goCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

/**
 * dive's VisitDepthChildFirst below `node` (at `path`): children in name order, each before its
 * parent; the root itself is never visited. A visitor returning false stops the whole walk.
 */
function diveVisit(
  node: DiveNode,
  path: string,
  visit: (node: DiveNode, path: string, name: string) => boolean,
  name = "",
): boolean {
  if (node.children) {
    for (const child of [...node.children.keys()].sort(goCompare)) {
      const sub = path === "" ? child : `${path}/${child}`;
      if (!diveVisit(node.children.get(child)!, sub, visit, child)) return false;
    }
  }
  return path === "" ? true : visit(node, path, name);
}

/** dive's Stack: every node of `upper` grafted on `tree`, whiteouts removing their paths. */
function diveStack(tree: DiveNode, upper: DiveNode): void {
  diveVisit(upper, "", (node, path, name) => {
    if (name.startsWith(WH))
      diveRemove(tree, path.slice(0, path.length - name.length) + name.slice(WH.length));
    else diveAdd(tree, path, node.size, node.isDir);
    return true;
  });
}

/**
 * dive's own figures, faults included, computed as dive/filetree/efficiency.go and
 * dive/image/analysis.go compute them, so a CI job ported from dive can keep its thresholds:
 * - For each layer, every leaf of its tree (an entry with nothing of the same layer below it: a
 *   file, link, empty directory or whiteout) is one occurrence of its path. A whiteout counts the
 *   bytes of everything below the path it deletes when that was a directory in the layers below
 *   (dive's stacked tree, where a parent directory a later layer only implied has lost its
 *   directory payload), 0 otherwise; anything else counts its tar size. Opaque markers are ignored.
 * - score = Σ over paths of the smallest occurrence / Σ of all occurrences (1 when that is 0).
 * - wastedBytes = Σ of all occurrences of the paths seen two or more times.
 * - A whiteout of a path dive cannot find below stops its walk of that layer (dive logs the error
 *   and goes on with the next layer), and the path it was at counts -1 as its smallest size (dive's
 *   "not yet seen" marker) unless the path occurs later.
 * Leaves are visited in dive's order (children before parents, names in byte order), which only
 * matters for where such a walk stops.
 */
export function diveEfficiency(stack: LayerStack): DiveEfficiency {
  const changesets = stack.layers.map((l) => l.changeset);
  const paths = new Map<string, { cumulative: number; min: number; count: number }>();
  const deletes = changesets.some((cs) => cs.whiteouts.some((w) => !w.opaque));
  // dive stacks a copy of the first layer's tree, then layers 0..n-1, for layer n's whiteouts
  // (for layer 0: the first layer's tree alone).
  const below = deletes && changesets[0] ? diveLayerTree(changesets[0]) : undefined;
  for (const cs of changesets) {
    const tree = diveLayerTree(cs);
    diveVisit(tree, "", (node, path, name) => {
      if (node.children?.size) return true;
      const whiteout = name.startsWith(WH);
      const key = whiteout ? path.slice(0, path.length - name.length) + name.slice(WH.length) : path;
      let d = paths.get(key);
      if (!d) {
        d = { cumulative: 0, min: -1, count: 0 };
        paths.set(key, d);
      }
      let size = node.size;
      if (whiteout) {
        const was = below && diveGet(below, key);
        if (!was) return false;
        size = 0;
        if (was.isDir)
          diveVisit({ size: 0, isDir: false, children: new Map([["x", was]]) }, "", (n) => {
            size += n.size;
            return true;
          });
      }
      d.cumulative += size;
      if (d.min < 0 || size < d.min) d.min = size;
      d.count += 1;
      return true;
    });
    if (below) diveStack(below, tree);
  }
  let min = 0;
  let cumulative = 0;
  let wastedBytes = 0;
  for (const d of paths.values()) {
    min += d.min;
    cumulative += d.cumulative;
    if (d.count >= 2) wastedBytes += d.cumulative;
  }
  return { score: cumulative === 0 ? 1 : min / cumulative, wastedBytes };
}
