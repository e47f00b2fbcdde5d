import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildTreeSnapshot,
  findNode,
  KIND_BY_CODE,
  layoutTreeRows,
  nodePath,
  type TreeInput,
} from "./tree.ts";

const entries: TreeInput[] = [
  { path: "etc/os-release", type: "file", size: 400, kind: "unchanged", layer: 0 },
  { path: "var/cache/apt/pkgcache.bin", type: "file", size: 30_000_000, kind: "added", layer: 1 },
  { path: "var/cache/apt/srcpkgcache.bin", type: "file", size: 29_000_000, kind: "added", layer: 1 },
  { path: "usr/bin/python3.11", type: "file", size: 6_800_000, kind: "added", layer: 1 },
  { path: "usr/bin/python3", type: "symlink", size: 0, kind: "added", layer: 1, linkname: "python3.11" },
  { path: "usr/lib/x.pyc", type: "file", size: 10, kind: "modified", layer: 1 },
  { path: "app/README", type: "file", size: 0, kind: "removed", layer: 2 },
  { path: "usr", type: "dir", size: 0, kind: "unchanged", layer: 0 },
];

function rowsText(snapRows: ReturnType<typeof layoutTreeRows>, snap: ReturnType<typeof buildTreeSnapshot>) {
  return Array.from(snapRows.ids, (id, i) => `${"  ".repeat(snapRows.depth[i]!)}${snap.names[id]}`);
}

describe("tree snapshot", () => {
  const snap = buildTreeSnapshot(entries);
  it("implies parent directories and aggregates sizes and kinds", () => {
    const usr = snap.names.indexOf("usr");
    expect(snap.size[usr]).toBe(6_800_010);
    expect(snap.size[0]).toBe(400 + 30_000_000 + 29_000_000 + 6_800_000 + 10);
    const kinds = KIND_BY_CODE.filter((_, i) => snap.kinds[usr]! & (1 << i));
    expect(kinds).toEqual(["unchanged", "added", "modified"]);
    expect(nodePath(snap, snap.names.indexOf("pkgcache.bin"))).toBe("var/cache/apt/pkgcache.bin");
    // usr holds 2 added entries and 1 modified one; the root holds every change once.
    expect(Array.from(snap.changes.subarray(usr * 3, usr * 3 + 3))).toEqual([2, 1, 0]);
    expect(Array.from(snap.changes.subarray(0, 3))).toEqual([4, 1, 1]);
  });
  it("a removed directory counts the bytes it hides", () => {
    const s = buildTreeSnapshot([
      { path: "var/lib/apt/lists", type: "dir", size: 19_867_257, kind: "removed", layer: 3 },
      { path: "var/lib", type: "dir", size: 0, kind: "unchanged", layer: 3 },
    ]);
    expect(s.size[s.names.indexOf("lists")]).toBe(19_867_257);
    expect(s.size[s.names.indexOf("var")]).toBe(19_867_257);
  });
  it("finds a node by its path: every node's own path, and nothing for a path it lacks", () => {
    for (let id = 0; id < snap.names.length; id++) expect(findNode(snap, nodePath(snap, id))).toBe(id);
    expect(findNode(snap, "usr/bin/python4")).toBeUndefined();
    expect(findNode(snap, "usr/bin/python3/x")).toBeUndefined();
    expect(findNode(snap, "Usr")).toBeUndefined();
  });
  it("finds every path of any tree, names in any case and order", () => {
    const name = fc.constantFrom("a", "B", "b", "a.b", "Z", "é", "_", "10", "9");
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.array(name, { minLength: 1, maxLength: 4 }), { maxLength: 30 }),
        (paths) => {
          const s = buildTreeSnapshot(
            paths.map((p) => ({ path: p.join("/"), type: "file", size: 1, kind: "added", layer: 0 })),
          );
          for (let id = 0; id < s.names.length; id++) expect(findNode(s, nodePath(s, id))).toBe(id);
          expect(findNode(s, "no/such")).toBeUndefined();
        },
      ),
    );
  });
  it("lists top-level directories sorted by name when collapsed", () => {
    const rows = layoutTreeRows(snap, { expanded: new Set(), sort: "name" });
    expect(rowsText(rows, snap)).toEqual(["app", "etc", "usr", "var"]);
  });
  it("sorting by size puts the apt cache first", () => {
    const varId = snap.names.indexOf("var");
    const cache = snap.names.indexOf("cache");
    const apt = snap.names.indexOf("apt");
    const rows = layoutTreeRows(snap, { expanded: new Set([varId, cache, apt]), sort: "size" });
    expect(rowsText(rows, snap).slice(0, 5)).toEqual([
      "var",
      "  cache",
      "    apt",
      "      pkgcache.bin",
      "      srcpkgcache.bin",
    ]);
  });
  it("a glob filter keeps matches and the directories leading to them, expanded", () => {
    const rows = layoutTreeRows(snap, { expanded: new Set(), sort: "name", filter: "*.pyc" });
    expect(rowsText(rows, snap)).toEqual(["usr", "  lib", "    x.pyc"]);
    expect(rows.matches).toBe(1);
    const python = layoutTreeRows(snap, { expanded: new Set(), sort: "name", filter: "python3*" });
    expect(rowsText(python, snap)).toEqual(["usr", "  bin", "    python3", "    python3.11"]);
    // The directories leading to the matches are shown but not counted as matches.
    expect(python.matches).toBe(2);
    expect(layoutTreeRows(snap, { expanded: new Set(), sort: "name" }).matches).toBeUndefined();
  });
  it("a kind filter shows only removed entries", () => {
    const rows = layoutTreeRows(snap, { expanded: new Set(), sort: "name", kinds: new Set(["removed"]) });
    expect(rowsText(rows, snap)).toEqual(["app", "  README"]);
  });
  it("handles 200,000 entries", () => {
    const big: TreeInput[] = [];
    for (let i = 0; i < 200_000; i++) {
      big.push({ path: `d${i % 100}/s${i % 7}/f${i}`, type: "file", size: i, kind: "added", layer: 0 });
    }
    const s = buildTreeSnapshot(big);
    expect(s.names.length).toBe(200_000 + 100 + 700 + 1);
    const rows = layoutTreeRows(s, { expanded: new Set(), sort: "size" });
    expect(rows.ids.length).toBe(100);
  });
});
