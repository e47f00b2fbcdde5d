import { describe, expect, it } from "vitest";
import { dumpTree } from "./dump.ts";
import { dirEntry, fileEntry, hardlinkEntry, symlinkEntry } from "./fixtures.ts";
import { applyChangeset, emptyTree, mergeLayers, stackLayers } from "./overlay.ts";
import type { Changeset, FileEntry } from "./types.ts";

const file = fileEntry;
const dir = dirEntry;
const symlink = symlinkEntry;
const hardlink = hardlinkEntry;
function layer(entries: FileEntry[], whiteouts: Changeset["whiteouts"] = []): Changeset {
  return { entries, whiteouts };
}

describe("stacking layers (OCI image-spec rules)", () => {
  it("the spec's opaque example: a/.wh..wh..opq applies first, whatever its position in the tar", () => {
    const base = layer([dir("a"), dir("a/b"), dir("a/b/c"), file("a/b/c/bar")]);
    const upper = layer(
      [dir("a"), dir("a/b"), dir("a/b/c"), file("a/b/c/foo")],
      [{ path: "a", opaque: true }],
    );
    const tree = mergeLayers([base, upper]);
    expect(dumpTree(tree)).toBe(
      [
        "a dir 0755 0:0 0 - 1",
        "a/b dir 0755 0:0 0 - 1",
        "a/b/c dir 0755 0:0 0 - 1",
        "a/b/c/foo file 0644 0:0 1 - 1",
        "",
      ].join("\n"),
    );
  });

  it("a whiteout hides the path and everything below it, but never a sibling of its own layer", () => {
    const stack = stackLayers([
      layer([dir("etc"), file("etc/a"), dir("etc/d"), file("etc/d/x", 5)]),
      layer(
        [file("etc/a", 2), file("etc/new")],
        [
          { path: "etc/d", opaque: false },
          { path: "etc/a", opaque: false },
        ],
      ),
    ]);
    const top = stack.top;
    expect(top.get("etc/d")).toBeUndefined();
    expect(top.get("etc/d/x")).toBeUndefined();
    // etc/a is whited out and re-added by the same layer: the new one stays.
    expect(top.get("etc/a")?.entry.size).toBe(2);
    expect(top.get("etc/a")?.lower?.layer).toBe(0);
    expect(stack.layers[1]!.hidden.map((h) => `${h.cause}:${h.path}`).sort()).toEqual([
      "whiteout:etc/a",
      "whiteout:etc/d",
    ]);
    // The lower tree is untouched (structural sharing, not mutation).
    expect(stack.treeAt(0).get("etc/d/x")?.entry.size).toBe(5);
  });

  it("dir over dir changes attributes only; a file replaces a directory and the reverse", () => {
    const tree = mergeLayers([
      layer([dir("d"), file("d/keep"), dir("e"), file("e/gone"), file("f")]),
      layer([dir("d", { mode: 0o700, uid: 7 }), file("e"), dir("f")]),
    ]);
    expect(tree.get("d")?.entry.mode).toBe(0o700);
    expect(tree.get("d")?.layer).toBe(1);
    expect(tree.get("d/keep")?.layer).toBe(0);
    expect(tree.get("e")?.entry.type).toBe("file");
    expect(tree.get("e/gone")).toBeUndefined();
    expect(tree.get("f")?.isDir).toBe(true);
    expect(tree.readdir("f")).toEqual([]);
  });

  it("symlinks are kept as links and never followed while applying", () => {
    const tree = mergeLayers([layer([dir("real"), symlink("link", "real")]), layer([file("link/inside")])]);
    // The entry under the symlink's name replaces the link by an implicit directory, never writes into real/.
    expect(tree.get("real")?.childCount).toBe(0);
    expect(tree.get("link")?.implicit).toBe(true);
    expect(tree.get("link/inside")?.layer).toBe(1);
  });

  it("a whiteout through a symlinked parent hides nothing", () => {
    const tree = mergeLayers([
      layer([dir("real"), file("real/x"), symlink("link", "real")]),
      layer([], [{ path: "link/x", opaque: false }]),
    ]);
    expect(tree.get("real/x")).toBeDefined();
  });

  it("hardlinks resolve within the merged tree, lower layers included", () => {
    const stack = stackLayers([
      layer([file("bin/busybox", 900)]),
      layer([hardlink("bin/sh", "bin/busybox"), hardlink("bin/ls", "bin/sh")]),
    ]);
    const top = stack.top;
    expect(top.get("bin/sh")?.hardlinkTarget?.path).toBe("bin/busybox");
    expect(top.get("bin/ls")?.hardlinkTarget?.layer).toBe(0);
    const bad = stackLayers([layer([hardlink("x", "missing")])]);
    expect(bad.layers[0]!.problems[0]?.message).toMatch(/not in the merged tree/);
  });

  it("creates implicit parents and later duplicates of a path win", () => {
    const tree = mergeLayers([layer([file("a/b/c", 1), file("a/b/c", 9), dir("a", { mode: 0o711 })])]);
    expect(tree.get("a")?.implicit).toBe(false);
    expect(tree.get("a")?.entry.mode).toBe(0o711);
    expect(tree.get("a/b")?.implicit).toBe(true);
    expect(tree.get("a/b/c")?.entry.size).toBe(9);
  });

  it("keeps every layer's tree while computing the next incrementally", () => {
    const l0 = layer([dir("x"), file("x/1")]);
    const applied = applyChangeset(emptyTree(), l0);
    const next = applyChangeset(applied.tree, layer([file("x/2")]));
    expect(applied.tree.readdir("x").map((n) => n.name)).toEqual(["1"]);
    expect(next.tree.readdir("x").map((n) => n.name)).toEqual(["1", "2"]);
    // Untouched subtrees are shared, not copied.
    const s = stackLayers([layer([dir("big"), file("big/f")]), layer([file("other")])]);
    expect(s.treeAt(1).get("big")).toBe(s.treeAt(0).get("big"));
    expect(s.push(layer([file("z")])).top.get("z")?.layer).toBe(2);
  });

  it("reports directory listings as FsErrors", () => {
    const tree = mergeLayers([layer([file("f")])]);
    expect(() => tree.readdir("f")).toThrow(/ENOTDIR/);
    expect(() => tree.readdir("nope")).toThrow(/ENOENT/);
    expect(tree.readdir("").map((n) => n.path)).toEqual(["f"]);
  });

  it("aggregates sizes and counts of subtrees", () => {
    const tree = mergeLayers([layer([dir("d"), file("d/a", 3), dir("d/e"), file("d/e/b", 4)])]);
    expect(tree.get("d")?.totalSize()).toBe(7);
    expect(tree.get("d")?.descendantCount()).toBe(3);
    expect(tree.count()).toBe(4);
  });

  it("reports per-path problems as data and keeps going", () => {
    const stack = stackLayers([
      layer([file("../etc/passwd"), file("a/.wh.b"), file(""), file("ok"), symlink("s", "ok")]),
      layer([file("s/x")], [{ path: "/abs", opaque: false }]),
    ]);
    expect(stack.layers[0]!.problems.map((p) => p.message)).toEqual([
      "entry with an unclean path ignored",
      "a whiteout name left as a plain entry; ignored",
      "a file cannot replace the root directory; ignored",
    ]);
    expect(stack.layers[1]!.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "/abs: whiteout with an unclean path ignored",
      "s: a symlink stood where s/x needs a directory; replaced by one",
    ]);
    expect(stack.top.get("ok")?.layer).toBe(0);
  });

  it("dumps a tree as sorted canonical lines, escaping spaces and control characters", () => {
    const tree = mergeLayers([
      layer([
        dir("a b"),
        file("a b/c\td", 3, { uid: 5, gid: 6, mode: 0o4755 }),
        symlink("a-link", "/a b"),
        dir("a"),
      ]),
    ]);
    expect(dumpTree(tree)).toBe(
      [
        "a dir 0755 0:0 0 - 0",
        "a\\x20b dir 0755 0:0 0 - 0",
        "a\\x20b/c\\x09d file 4755 5:6 3 - 0",
        "a-link symlink 0777 0:0 0 /a\\x20b 0",
        "",
      ].join("\n"),
    );
  });
});
