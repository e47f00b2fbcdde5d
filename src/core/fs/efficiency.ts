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
  dive?: { score: number; wastedBytes: number };
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

/**
 * dive's own figures, faults included, so the two can be shown side by side: per path, the sizes
 * of its leaf nodes over all layers (a whiteout counting the size of the directory it deletes, 0 for
 * a file; opaque markers ignored); score = Σ smallest / Σ all, wasted = Σ all over the paths seen
 * in two or more layers. A layer's leaves are its entries with nothing of the same layer below them.
 */
export function diveEfficiency(stack: LayerStack): { score: number; wastedBytes: number } {
  const paths = new Map<string, { cumulative: number; min: number; count: number }>();
  const add = (path: string, size: number) => {
    const d = paths.get(path);
    if (!d) paths.set(path, { cumulative: size, min: size, count: 1 });
    else {
      d.cumulative += size;
      d.min = Math.min(d.min, size);
      d.count += 1;
    }
  };
  for (const applied of stack.layers) {
    const cs = applied.changeset;
    const parents = new Set<string>();
    const mark = (path: string) => {
      for (let p = parentPath(path); p !== "" && !parents.has(p); p = parentPath(p)) parents.add(p);
    };
    for (const e of cs.entries) mark(e.path);
    for (const w of cs.whiteouts) if (!w.opaque) mark(w.path);
    const seen = new Set<string>();
    for (let i = cs.entries.length - 1; i >= 0; i--) {
      const e = cs.entries[i]!;
      if (e.path === "" || parents.has(e.path) || seen.has(e.path)) continue;
      seen.add(e.path);
      add(e.path, e.size);
    }
    const below = stack.treeAt(applied.index - 1);
    for (const w of cs.whiteouts) {
      if (w.opaque || parents.has(w.path) || seen.has(w.path)) continue;
      const was = below.get(w.path);
      // dive fails on a whiteout of a path it cannot find, and skips it.
      if (!was) continue;
      seen.add(w.path);
      add(w.path, was.isDir ? was.totalSize() : 0);
    }
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
