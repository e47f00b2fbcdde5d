/**
 * The overlay checked against a reference model: a deliberately simple implementation of the OCI
 * layer rules over one flat Map of paths, recomputed from scratch, with fast-check generating
 * random layer stacks (and, further down, random diffs and container operations).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FsError } from "../errors.ts";
import { type ContainerFs, type ContentReader, createContainerFs } from "./container.ts";
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
        // Per path: the bytes of its versions not in the final tree, and how many versions it had.
        const last = models.at(-1)!;
        const versions = new Map<string, { wasted: number; count: number }>();
        models.forEach((m, l) => {
          for (const [p, v] of m) {
            if (v.layer !== l || v.entry.type === "dir" || v.implicit) continue;
            const hiddenNow = last.get(p)?.entry !== v.entry;
            const r = versions.get(p) ?? { wasted: 0, count: 0 };
            r.count += 1;
            if (hiddenNow) r.wasted += v.entry.size;
            versions.set(p, r);
          }
        });
        const want = [...versions]
          .filter(([, r]) => r.wasted > 0)
          .map(([p, r]) => `${p} ${r.wasted} ${r.count}`)
          .sort();
        const got = report.inefficiencies
          .filter((i) => i.wastedBytes > 0)
          .map(
            (i) => `${i.path} ${i.wastedBytes} ${i.occurrences.filter((o) => o.action === "written").length}`,
          )
          .sort();
        expect(got).toEqual(want);
        expect(report.score).toBeGreaterThanOrEqual(0);
        expect(report.score).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The container layer against a model filesystem: one flat Map of visible paths, POSIX rules
// applied directly (no layers), with hardlinked names sharing one inode object.

interface MInode {
  mode: number;
  uid: number;
  data: string;
  link?: string;
}
interface MNode {
  type: "file" | "dir" | "symlink";
  ino: MInode;
}
type MFs = Map<string, MNode>;

class ModelError extends Error {
  constructor(readonly errno: string) {
    super(errno);
  }
}

function contentOf(seed: number, size: number): string {
  return `s${seed}`.padEnd(size, "#").slice(0, size);
}

const readSynthetic: ContentReader = async (ref, size) => {
  if (ref.kind !== "synthetic") throw new Error(`unexpected ${ref.kind}`);
  return new TextEncoder().encode(contentOf(ref.seed, size));
};

function modelFs(m: Model): MFs {
  const fs: MFs = new Map([["", { type: "dir", ino: { mode: 0o755, uid: 0, data: "" } }]]);
  for (const [p, v] of m) {
    const e = v.entry;
    const type = e.type as MNode["type"];
    const ino: MInode = { mode: e.mode, uid: e.uid, data: "" };
    if (type === "file") ino.data = contentOf((e.content as { seed: number }).seed, e.size);
    if (type === "symlink") ino.link = e.linkname!;
    fs.set(p, { type, ino });
  }
  return fs;
}

function mParent(p: string): string {
  return p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
}

/** The model's path resolution: the same rules, written out plainly. */
function mResolve(fs: MFs, input: string, followLast: boolean): string {
  let todo = input.split("/").filter((s) => s !== "" && s !== ".");
  let done: string[] = [];
  let links = 0;
  while (todo.length) {
    const seg = todo.shift()!;
    if (seg === "..") {
      done.pop();
      continue;
    }
    const p = [...done, seg].join("/");
    const n = fs.get(p);
    if (n?.type === "symlink" && (todo.length > 0 || followLast)) {
      if (++links > 40) throw new ModelError("ELOOP");
      const t = n.ino.link!;
      if (t.startsWith("/")) done = [];
      todo = [...t.split("/").filter((s) => s !== "" && s !== "."), ...todo];
      continue;
    }
    if (todo.length > 0) {
      if (!n) throw new ModelError("ENOENT");
      if (n.type !== "dir") throw new ModelError("ENOTDIR");
    }
    done.push(seg);
  }
  return done.join("/");
}

function mParentOk(fs: MFs, p: string): void {
  if (p === "") return;
  const parent = fs.get(mParent(p));
  if (!parent) throw new ModelError("ENOENT");
  if (parent.type !== "dir") throw new ModelError("ENOTDIR");
}

function mBelow(fs: MFs, p: string): string[] {
  return [...fs.keys()].filter((k) => k === p || k.startsWith(`${p}/`));
}

type Op =
  | { op: "write"; path: string; text: string }
  | { op: "mkdir"; path: string; recursive: boolean }
  | { op: "rm"; path: string; recursive: boolean }
  | { op: "rename"; from: string; to: string }
  | { op: "chmod"; path: string; mode: number }
  | { op: "symlink"; target: string; path: string }
  | { op: "link"; from: string; to: string };

function mApply(fs: MFs, o: Op): void {
  switch (o.op) {
    case "write": {
      const p = mResolve(fs, o.path, true);
      if (p === "") throw new ModelError("EISDIR");
      const n = fs.get(p);
      if (n?.type === "dir") throw new ModelError("EISDIR");
      if (n) n.ino.data = o.text;
      else {
        mParentOk(fs, p);
        fs.set(p, { type: "file", ino: { mode: 0o644, uid: 0, data: o.text } });
      }
      return;
    }
    case "mkdir": {
      if (o.recursive) {
        const segs = o.path.split("/").filter((s) => s !== "" && s !== ".");
        for (let i = 1; i <= segs.length; i++) {
          const sub = segs.slice(0, i).join("/");
          const p = mResolve(fs, sub, true);
          const n = fs.get(p);
          if (n) {
            if (n.type !== "dir") throw new ModelError("ENOTDIR");
            continue;
          }
          mkdirOne(fs, sub);
        }
        return;
      }
      mkdirOne(fs, o.path);
      return;
    }
    case "rm": {
      const p = mResolve(fs, o.path, false);
      const n = fs.get(p);
      if (!n) throw new ModelError("ENOENT");
      if (p === "") throw new ModelError("EPERM");
      if (n.type === "dir" && !o.recursive && mBelow(fs, p).length > 1) throw new ModelError("ENOTEMPTY");
      for (const k of mBelow(fs, p)) fs.delete(k);
      return;
    }
    case "rename": {
      const a = mResolve(fs, o.from, false);
      const na = fs.get(a);
      if (!na) throw new ModelError("ENOENT");
      const b = mResolve(fs, o.to, false);
      mParentOk(fs, b);
      if (a === "" || b === "") throw new ModelError("EPERM");
      if (a === b) return;
      if (na.type === "dir" && b.startsWith(`${a}/`)) throw new ModelError("EINVAL");
      const nb = fs.get(b);
      if (nb) {
        if (na.type === "dir" && nb.type !== "dir") throw new ModelError("ENOTDIR");
        if (na.type !== "dir" && nb.type === "dir") throw new ModelError("EISDIR");
        if (nb.type === "dir" && mBelow(fs, b).length > 1) throw new ModelError("ENOTEMPTY");
        fs.delete(b);
      }
      for (const k of mBelow(fs, a)) {
        const n = fs.get(k)!;
        fs.delete(k);
        fs.set(b + k.slice(a.length), n);
      }
      return;
    }
    case "chmod": {
      const p = mResolve(fs, o.path, true);
      const n = fs.get(p);
      if (!n) throw new ModelError("ENOENT");
      n.ino.mode = o.mode;
      return;
    }
    case "symlink": {
      const p = mResolve(fs, o.path, false);
      mParentOk(fs, p);
      if (p === "" || fs.has(p)) throw new ModelError("EEXIST");
      fs.set(p, { type: "symlink", ino: { mode: 0o777, uid: 0, data: "", link: o.target } });
      return;
    }
    case "link": {
      const a = mResolve(fs, o.from, false);
      const na = fs.get(a);
      if (!na) throw new ModelError("ENOENT");
      if (na.type === "dir") throw new ModelError("EPERM");
      const b = mResolve(fs, o.to, false);
      mParentOk(fs, b);
      if (b === "" || fs.has(b)) throw new ModelError("EEXIST");
      fs.set(b, na);
    }
  }
}

function mkdirOne(fs: MFs, path: string): void {
  const p = mResolve(fs, path, false);
  mParentOk(fs, p);
  if (p === "" || fs.has(p)) throw new ModelError("EEXIST");
  fs.set(p, { type: "dir", ino: { mode: 0o755, uid: 0, data: "" } });
}

async function runOp(c: ContainerFs, o: Op): Promise<void> {
  switch (o.op) {
    case "write":
      return c.writeFile(o.path, o.text);
    case "mkdir":
      return c.mkdir(o.path, { recursive: o.recursive });
    case "rm":
      return c.rm(o.path, { recursive: o.recursive });
    case "rename":
      return c.rename(o.from, o.to);
    case "chmod":
      return c.chmod(o.path, o.mode);
    case "symlink":
      return c.symlink(o.target, o.path);
    case "link":
      return c.link(o.from, o.to);
  }
}

function mListing(fs: MFs): string[] {
  const out: string[] = [];
  for (const [p, n] of fs) {
    if (p === "") continue;
    const what = n.type === "file" ? n.ino.data : n.type === "symlink" ? `-> ${n.ino.link}` : "";
    out.push(`${p} ${n.type} ${n.ino.mode.toString(8)} ${n.ino.uid} ${what}`);
  }
  return out.sort();
}

async function containerListing(c: ContainerFs): Promise<string[]> {
  const out: string[] = [];
  const dec = new TextDecoder();
  const walk = async (dir: string) => {
    for (const name of await c.readdir(`/${dir}`)) {
      const p = dir === "" ? name : `${dir}/${name}`;
      const st = await c.lstat(`/${p}`);
      const what =
        st.type === "file"
          ? dec.decode(await c.readFile(`/${p}`))
          : st.type === "symlink"
            ? `-> ${st.linkname}`
            : "";
      out.push(`${p} ${st.type} ${st.mode.toString(8)} ${st.uid} ${what}`);
      if (st.type === "dir") await walk(p);
    }
  };
  await walk("");
  return out.sort();
}

/** What the committed layer gives when applied on the image, read back through the tree. */
async function committedListing(c: ContainerFs): Promise<string[]> {
  const out: string[] = [];
  const dec = new TextDecoder();
  for (const n of c.tree().walk()) {
    const src = n.hardlinkTarget ?? n;
    const e = src.entry;
    let what = "";
    if (e.type === "file") {
      const ref = e.content!;
      what = ref.kind === "inline" ? dec.decode(ref.bytes) : dec.decode(await readSynthetic(ref, e.size));
    } else if (e.type === "symlink") what = `-> ${e.linkname}`;
    const type = e.type === "hardlink" ? "file" : e.type;
    out.push(`${n.path} ${type} ${e.mode.toString(8)} ${e.uid} ${what}`);
  }
  return out.sort();
}

const arbUserPath = fc.oneof(
  arbPath,
  arbPath.map((p) => `/${p}`),
  arbPath.map((p) => `${p}/..`),
);
const arbTarget = fc.oneof(
  arbPath,
  arbPath.map((p) => `/${p}`),
  arbPath.map((p) => `../${p}`),
);
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("write" as const), path: arbUserPath, text: fc.constantFrom("x", "yy", "") }),
  fc.record({ op: fc.constant("mkdir" as const), path: arbUserPath, recursive: fc.boolean() }),
  fc.record({ op: fc.constant("rm" as const), path: arbUserPath, recursive: fc.boolean() }),
  fc.record({ op: fc.constant("rename" as const), from: arbUserPath, to: arbUserPath }),
  fc.record({ op: fc.constant("chmod" as const), path: arbUserPath, mode: fc.constantFrom(0o600, 0o755) }),
  fc.record({ op: fc.constant("symlink" as const), target: arbTarget, path: arbUserPath }),
  fc.record({ op: fc.constant("link" as const), from: arbUserPath, to: arbUserPath }),
);

/** Image layers for container tests: no hardlinks (a copy-up breaks them, unlike the model). */
const arbImage = fc.array(
  arbChangeset.map((cs) => ({
    whiteouts: cs.whiteouts,
    entries: cs.entries
      .filter((e) => e.type !== "hardlink")
      .map((e) =>
        e.type === "file" ? { ...e, content: { kind: "synthetic" as const, seed: e.mode + e.size } } : e,
      ),
  })),
  { minLength: 1, maxLength: 3 },
);

describe("container layer against the model filesystem", () => {
  it("every operation succeeds or fails alike, and the container, its commit and the model agree", async () => {
    await fc.assert(
      fc.asyncProperty(arbImage, fc.array(arbOp, { maxLength: 16 }), async (layers, ops) => {
        const stack = stackLayers(layers);
        const model = modelFs(modelStack(layers).at(-1)!);
        const c = createContainerFs(stack.top, readSynthetic, { now: () => 0 });
        for (const o of ops) {
          let want = "ok";
          try {
            mApply(model, o);
          } catch (err) {
            if (!(err instanceof ModelError)) throw err;
            want = err.errno;
          }
          let got = "ok";
          try {
            await runOp(c, o);
          } catch (err) {
            if (!(err instanceof FsError)) throw err;
            got = err.errno;
          }
          expect(`${JSON.stringify(o)} ${got}`).toBe(`${JSON.stringify(o)} ${want}`);
        }
        const listing = await containerListing(c);
        expect(listing).toEqual(mListing(model));
        expect(await committedListing(c)).toEqual(listing);
        // A saved and restored container layer is the same layer.
        const again = createContainerFs(stack.top, readSynthetic, { state: structuredClone(c.save()) });
        expect(await containerListing(again)).toEqual(listing);
      }),
      { numRuns: 300 },
    );
  });
});
