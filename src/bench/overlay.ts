/**
 * The overlay on a generated 200,000-entry, 30-layer image: building every layer's merged tree,
 * listing the largest directory, diffing the top layer. The reference, measured in the same run,
 * is the naive approach: one flat Map of paths, re-merged from scratch for every layer, listings
 * and diffs by scanning it.
 */
import { diffLayer } from "../core/fs/diff.ts";
import { computeEfficiency } from "../core/fs/efficiency.ts";
import { stackLayers } from "../core/fs/overlay.ts";
import type { Changeset, FileEntry } from "../core/fs/types.ts";
import { prng } from "../core/image/synthetic.ts";
import type { Benchmark } from "./index.ts";
import { medianMs, row } from "./measure.ts";

/** Deterministic, so every run benchmarks the same image. */
const random = prng;

const dir = (path: string): FileEntry => ({
  path,
  type: "dir",
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 1,
});
const file = (path: string, size: number, n: number): FileEntry => ({
  path,
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtime: 1,
  digest: `sha256:${n.toString(16).padStart(64, "0")}`,
});

/**
 * A base layer of ~100,000 entries (1,000 package directories under usr/lib, a 12,000-entry
 * usr/share/zoneinfo-like directory), then 29 layers of ~3,450 entries each that modify, add,
 * delete (files and whole directories) and occasionally make a directory opaque, re-emitting
 * parent directories as real builders do.
 */
export function generateImage(totalEntries = 200_000, layerCount = 30): Changeset[] {
  const rnd = random(42);
  const layers: Changeset[] = [];
  const files: string[] = [];
  let content = 0;
  const base: FileEntry[] = [dir("usr"), dir("usr/lib"), dir("usr/share"), dir("usr/share/big")];
  const baseCount = Math.floor(totalEntries / 2);
  const bigCount = Math.floor(baseCount * 0.12);
  for (let i = 0; i < bigCount; i++) {
    const p = `usr/share/big/f${i}`;
    base.push(file(p, 100 + (i % 900), ++content));
    files.push(p);
  }
  const pkgs = 1000;
  for (let k = 0; k < pkgs; k++) base.push(dir(`usr/lib/pkg${k}`));
  while (base.length < baseCount) {
    const p = `usr/lib/pkg${Math.floor(rnd() * pkgs)}/f${base.length}`;
    base.push(file(p, Math.floor(rnd() * 20_000), ++content));
    files.push(p);
  }
  layers.push({ entries: base, whiteouts: [] });
  const perLayer = Math.floor((totalEntries - baseCount) / (layerCount - 1));
  for (let l = 1; l < layerCount; l++) {
    const entries: FileEntry[] = [dir("usr"), dir("usr/lib")];
    const whiteouts: Changeset["whiteouts"] = [];
    while (entries.length + whiteouts.length < perLayer) {
      const r = rnd();
      if (r < 0.45) {
        const p = files[Math.floor(rnd() * files.length)]!;
        entries.push(file(p, Math.floor(rnd() * 20_000), ++content));
      } else if (r < 0.9) {
        const p = `usr/lib/pkg${Math.floor(rnd() * pkgs)}/n${l}_${entries.length}`;
        entries.push(file(p, Math.floor(rnd() * 20_000), ++content));
        files.push(p);
      } else if (r < 0.998) {
        whiteouts.push({ path: files[Math.floor(rnd() * files.length)]!, opaque: false });
      } else if (r < 0.999) {
        whiteouts.push({ path: `usr/lib/pkg${Math.floor(rnd() * pkgs)}`, opaque: false });
      } else {
        const d = `usr/lib/pkg${Math.floor(rnd() * pkgs)}`;
        whiteouts.push({ path: d, opaque: true });
        entries.push(dir(d));
      }
    }
    layers.push({ entries, whiteouts });
  }
  return layers;
}

/** The reference: a flat Map re-merged from scratch (deletes scan the keys under a directory). */
function naiveMerge(layers: readonly Changeset[]): Map<string, FileEntry> {
  const m = new Map<string, FileEntry>();
  const dropUnder = (p: string) => {
    const prefix = p === "" ? "" : `${p}/`;
    for (const k of m.keys()) if (k.startsWith(prefix)) m.delete(k);
  };
  for (const cs of layers) {
    for (const w of cs.whiteouts) if (w.opaque) dropUnder(w.path);
    for (const w of cs.whiteouts) {
      if (w.opaque) continue;
      const was = m.get(w.path);
      m.delete(w.path);
      if (was?.type === "dir") dropUnder(w.path);
    }
    for (const e of cs.entries) {
      const was = m.get(e.path);
      if (was?.type === "dir" && e.type !== "dir") dropUnder(e.path);
      m.set(e.path, e);
    }
  }
  return m;
}

export const overlayBenchmark: Benchmark = {
  name: "overlay",
  summary: "merged trees of a 200,000-entry, 30-layer image; largest directory listing; top-layer diff",
  async run() {
    const layers = generateImage();
    const entries = layers.reduce((n, l) => n + l.entries.length + l.whiteouts.length, 0);
    console.log(`${layers.length} layers, ${entries} entries and whiteouts`);

    // LayerLab's figures first, before the reference's big maps weigh on the garbage collector.
    const stackMs = await medianMs(() => stackLayers(layers), 5);
    const stack = stackLayers(layers);
    const top = stack.top;
    let largest = top.root;
    for (const n of top.walk()) if (n.childCount > largest.childCount) largest = n;
    // A listing is the directory node's sorted child array: nothing is computed per call.
    const listMs = await medianMs(() => top.readdir(largest.path).length, 5);
    const diffMs = await medianMs(() => diffLayer(stack, layers.length - 1), 5);
    const diff = diffLayer(stack, layers.length - 1);
    const effMs = await medianMs(() => computeEfficiency(stack), 3);
    const eff = computeEfficiency(stack);

    // Timed once, without a warm-up: re-merging every prefix is quadratic and slow by nature.
    const t0 = performance.now();
    for (let n = 1; n <= layers.length; n++) naiveMerge(layers.slice(0, n));
    const naiveAllMs = performance.now() - t0;
    const naiveTopMs = await medianMs(() => naiveMerge(layers), 3);
    const flat = naiveMerge(layers);
    const naiveListMs = await medianMs(() => {
      const prefix = `${largest.path}/`;
      const names: string[] = [];
      for (const k of flat.keys()) if (k.startsWith(prefix) && !k.includes("/", prefix.length)) names.push(k);
      names.sort();
    }, 3);
    const below = naiveMerge(layers.slice(0, -1));
    const naiveDiffMs = await medianMs(() => {
      const rows: string[] = [];
      for (const [p, e] of flat) {
        const was = below.get(p);
        if (!was || was !== e) rows.push(p);
      }
      for (const p of below.keys()) if (!flat.has(p)) rows.push(p);
      rows.sort();
    }, 3);

    console.log(row("", "LayerLab ms", "reference ms"));
    console.log(row("merged index, every layer (ref: re-merge each)", stackMs, naiveAllMs));
    console.log(row("merged index, every layer (ref: top only, flat)", stackMs, naiveTopMs));
    console.log(row(`list ${largest.path} (${largest.childCount} entries, sorted)`, listMs, naiveListMs));
    console.log(row(`diff top layer (${diff.changes.length} changes, classified)`, diffMs, naiveDiffMs));
    console.log(row(`efficiency (score ${eff.score.toFixed(3)})`, effMs, "-"));
  },
};
