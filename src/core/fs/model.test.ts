/**
 * The overlay checked against a reference model: a deliberately simple implementation of the OCI
 * layer rules over one flat Map of paths, recomputed from scratch, with fast-check generating
 * random layer stacks (and, further down, random diffs and container operations).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareEntries, diffLayer } from "./diff.ts";
import { type DumpRow, dumpRows, dumpTree } from "./dump.ts";
import { computeEfficiency } from "./efficiency.ts";
import { dirEntry, fakeDigest } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";
import type { Changeset, FileEntry } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// The reference model.

interface ModelEntry {
  entry: FileEntry;
  layer: number;
  implicit: boolean;
  /** Layer of the entry this one replaced at the same path, if any. */
  lowerLayer: number | undefined;
  /** For hardlinks: path of the file they resolve to. */
  target?: string;
}
type Model = Map<string, ModelEntry>;

function isBelow(path: string, dir: string): boolean {
  return dir === "" ? path !== "" : path.startsWith(`${dir}/`);
}
function removeTree(m: Model, path: string): void {
  for (const k of [...m.keys()]) if (k === path || isBelow(k, path)) m.delete(k);
}
function parents(path: string): string[] {
  const segs = path.split("/");
  return segs.slice(0, -1).map((_, i) => segs.slice(0, i + 1).join("/"));
}

/** Applies one changeset to a copy of the model, straight from the spec's sentences. */
function modelApply(before: Model, cs: Changeset, layer: number): Model {
  const m: Model = new Map(before);
  const removed = new Map<string, number>();
  for (const w of cs.whiteouts)
    if (w.opaque && m.get(w.path)?.entry.type !== "file") {
      for (const k of [...m.keys()]) if (isBelow(k, w.path)) m.delete(k);
    }
  for (const w of cs.whiteouts)
    if (!w.opaque) {
      const old = m.get(w.path);
      if (old) removed.set(w.path, old.layer);
      removeTree(m, w.path);
    }
  const lowerOf = (path: string) => {
    const old = m.get(path);
    return old ? (old.layer === layer ? old.lowerLayer : old.layer) : removed.get(path);
  };
  for (const e of cs.entries) {
    for (const p of parents(e.path)) {
      if (m.get(p)?.entry.type === "dir") continue;
      const lowerLayer = lowerOf(p);
      removeTree(m, p);
      m.set(p, { entry: dirEntry(p), layer, implicit: true, lowerLayer });
    }
    const old = m.get(e.path);
    const lowerLayer = lowerOf(e.path);
    if (!(old?.entry.type === "dir" && e.type === "dir")) removeTree(m, e.path);
    const me: ModelEntry = { entry: e, layer, implicit: false, lowerLayer };
    if (e.type === "hardlink") {
      const t = m.get(e.linkname!);
      if (t && t.entry.type !== "dir" && e.linkname !== e.path)
        me.target = t.entry.type === "hardlink" ? t.target : e.linkname;
    }
    m.set(e.path, me);
  }
  return m;
}

function modelStack(layers: Changeset[]): Model[] {
  const out: Model[] = [];
  let m: Model = new Map();
  layers.forEach((cs, i) => {
    m = modelApply(m, cs, i);
    out.push(m);
  });
  return out;
}

function modelDump(m: Model): string {
  const rows: DumpRow[] = [];
  for (const [path, v] of m) rows.push({ path, entry: v.entry, layer: v.layer });
  return dumpRows(rows);
}

// ---------------------------------------------------------------------------------------------
// Generators: few names, shallow paths, so that layers collide often.

const NAMES = ["a", "b", "c"];
const arbPath = fc
  .array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 })
  .map((segs) => segs.join("/"));

const arbEntry: fc.Arbitrary<FileEntry> = fc
  .record({
    path: arbPath,
    type: fc.constantFrom("file", "file", "dir", "dir", "symlink", "hardlink"),
    mode: fc.constantFrom(0o644, 0o755, 0o600),
    uid: fc.constantFrom(0, 1),
    size: fc.integer({ min: 0, max: 4 }),
    link: arbPath,
  })
  .map(({ path, type, mode, uid, size, link }) => {
    const base = { path, mode, uid, gid: 0, mtime: 0 };
    if (type === "file") return { ...base, type, size, digest: fakeDigest(size) } as FileEntry;
    if (type === "dir") return { ...base, type, size: 0 } as FileEntry;
    return { ...base, type, size: 0, linkname: link } as FileEntry;
  });

const arbChangeset: fc.Arbitrary<Changeset> = fc.record({
  entries: fc.array(arbEntry, { maxLength: 8 }),
  whiteouts: fc.array(
    fc.oneof(
      arbPath.map((path) => ({ path, opaque: false })),
      fc.oneof(arbPath, fc.constant("")).map((path) => ({ path, opaque: true })),
    ),
    { maxLength: 3 },
  ),
});

const arbStack = fc.array(arbChangeset, { minLength: 1, maxLength: 5 });

// ---------------------------------------------------------------------------------------------

describe("overlay against the reference model", () => {
  it("merged trees agree at every layer (paths, attributes, supplying layer)", () => {
    fc.assert(
      fc.property(arbStack, (layers) => {
        const stack = stackLayers(layers);
        const models = modelStack(layers);
        layers.forEach((_, i) => {
          expect(dumpTree(stack.treeAt(i))).toBe(modelDump(models[i]!));
        });
      }),
      { numRuns: 400 },
    );
  });

  it("every entry knows what it replaced and where its hardlink points", () => {
    fc.assert(
      fc.property(arbStack, (layers) => {
        const stack = stackLayers(layers);
        const models = modelStack(layers);
        layers.forEach((_, i) => {
          const got: string[] = [];
          for (const n of stack.treeAt(i).walk()) {
            got.push(
              `${n.path} implicit=${n.implicit} lower=${n.lower?.layer} target=${n.hardlinkTarget?.path}`,
            );
          }
          const want = [...models[i]!]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([p, v]) => `${p} implicit=${v.implicit} lower=${v.lowerLayer} target=${v.target}`);
          expect(got.sort()).toEqual(want.sort());
        });
      }),
      { numRuns: 300 },
    );
  });

  it("pushing a layer onto a stack gives the same trees as stacking all at once", () => {
    fc.assert(
      fc.property(arbStack, arbChangeset, (layers, extra) => {
        const pushed = stackLayers(layers).push(extra);
        const whole = stackLayers([...layers, extra]);
        for (let i = 0; i <= layers.length; i++)
          expect(dumpTree(pushed.treeAt(i))).toBe(dumpTree(whole.treeAt(i)));
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The model's diff: compare the flat maps below and at layer n.

function modelDiff(before: Model, after: Model, n: number): string[] {
  const rows: string[] = [];
  const sizeUnder = (m: Model, p: string, self: boolean) => {
    let s = 0;
    for (const [k, v] of m) if ((self && k === p) || isBelow(k, p)) s += v.entry.size;
    return s;
  };
  for (const [p, v] of after) {
    if (v.layer !== n) continue;
    const prev = before.get(p);
    let kind = "added";
    let hidden = 0;
    if (prev) {
      kind = compareEntries(prev.entry, v.entry).length ? "modified" : "unchanged";
      if (prev.entry.type === "dir" && v.entry.type !== "dir") hidden = sizeUnder(before, p, false);
    }
    rows.push(`${p} ${kind} ${v.entry.size} ${hidden}`);
  }
  for (const [p, v] of before) {
    if (after.has(p)) continue;
    const parent = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (parent !== "" && after.get(parent)?.entry.type !== "dir") continue;
    const size = sizeUnder(before, p, true);
    rows.push(`${p} removed ${size} ${size}${v.entry.type === "dir" ? "" : ""}`);
  }
  return rows.sort();
}

describe("per-layer diffs against the reference model", () => {
  it("classify every path a layer writes or removes exactly as the model does", () => {
    fc.assert(
      fc.property(arbStack, (layers) => {
        const stack = stackLayers(layers);
        const models = modelStack(layers);
        layers.forEach((_, n) => {
          const got = diffLayer(stack, n).rows.map((r) => `${r.path} ${r.kind} ${r.size} ${r.hiddenSize}`);
          expect(got.sort()).toEqual(modelDiff(models[n - 1] ?? new Map(), models[n]!, n));
        });
      }),
      { numRuns: 400 },
    );
  });
});

describe("efficiency against the reference model", () => {
  it("wasted bytes are every applied version's bytes minus the final tree's, listed once per path", () => {
    fc.assert(
      fc.property(arbStack, (layers) => {
        const models = modelStack(layers);
        let total = 0;
        models.forEach((m, l) => {
          for (const v of m.values())
            if (v.layer === l && v.entry.type !== "dir" && !v.implicit) total += v.entry.size;
        });
        let final = 0;
        for (const v of models.at(-1)!.values()) if (v.entry.type !== "dir") final += v.entry.size;
        const report = computeEfficiency(stackLayers(layers));
        expect([report.totalBytes, report.finalBytes, report.wastedBytes]).toEqual([
          total,
          final,
          total - final,
        ]);
        expect(report.inefficiencies.reduce((s, i) => s + i.wastedBytes, 0)).toBe(total - final);
        expect(report.score).toBeGreaterThanOrEqual(0);
        expect(report.score).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
