import { describe, expect, it } from "vitest";
import { diffLayer } from "./diff.ts";
import { changeset, dirEntry, fakeDigest, fileEntry, symlinkEntry } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";

const base = changeset([
  dirEntry("etc"),
  fileEntry("etc/a", 10, { digest: fakeDigest(100) }),
  fileEntry("etc/b", 20),
  symlinkEntry("etc/l", "a"),
  dirEntry("var"),
  dirEntry("var/cache"),
  fileEntry("var/cache/x", 300),
  fileEntry("var/cache/y", 400),
  dirEntry("data"),
  fileEntry("data/one", 1),
  fileEntry("data/two", 2),
  dirEntry("swap"),
  fileEntry("swap/inner", 50),
]);

describe("per-layer diff", () => {
  const stack = stackLayers([
    base,
    changeset(
      [
        dirEntry("etc", { mtime: 99 }), // carried along with a new mtime only: unchanged
        fileEntry("etc/a", 12, { digest: fakeDigest(101) }), // content changed
        fileEntry("etc/b", 20, { mode: 0o600 }), // attribute-only change
        symlinkEntry("etc/l", "b"), // link target changed
        fileEntry("etc/new", 5), // added
        dirEntry("data"),
        fileEntry("data/two", 2), // rewritten identically inside an opaque directory
        fileEntry("swap", 7), // a file replaces a directory
      ],
      ["var/cache"],
      ["data"],
    ),
  ]);
  const diff = diffLayer(stack, 1);
  const summary = diff.rows.map((r) => `${r.path} ${r.kind} ${r.size}${r.changed ? ` [${r.changed}]` : ""}`);

  it("classifies each row as added, modified, removed or unchanged", () => {
    expect(summary).toEqual([
      "data unchanged 0",
      "data/one removed 1",
      "data/two unchanged 2",
      "etc unchanged 0",
      "etc/a modified 12 [content]",
      "etc/b modified 20 [mode]",
      "etc/l modified 0 [link]",
      "etc/new added 5",
      "swap modified 7 [type]",
      "var/cache removed 700",
    ]);
    expect(diff.rows.find((r) => r.path === "swap")?.hiddenSize).toBe(50);
    expect(diff.rows.find((r) => r.path === "data/one")?.cause).toBe("opaque");
    expect(diff.rows.find((r) => r.path === "var/cache")?.cause).toBe("whiteout");
  });

  it("lists as changes only what the layer really changed: no parent carried along unchanged", () => {
    expect(diff.changes.map((r) => r.path)).toEqual([
      "data/one",
      "etc/a",
      "etc/b",
      "etc/l",
      "etc/new",
      "swap",
      "var/cache",
    ]);
  });

  it("aggregates children's kinds and sizes in directory rows", () => {
    const etc = diff.tree.children.find((n) => n.name === "etc")!;
    expect(etc.row?.kind).toBe("unchanged");
    expect(etc.aggregate).toMatchObject({
      added: 1,
      modified: 3,
      removed: 0,
      unchanged: 1,
      addedBytes: 5,
      modifiedBytes: 32,
    });
    const v = diff.tree.children.find((n) => n.name === "var")!;
    // var itself was not written by the layer: a context node holding the removal.
    expect(v.row).toBeUndefined();
    expect(v.aggregate).toMatchObject({ removed: 1, removedBytes: 700 });
    expect(diff.tree.aggregate.removedBytes).toBe(700 + 1 + 50);
    expect(diff.tree.children.map((n) => n.name)).toEqual(["data", "etc", "swap", "var"]);
  });

  it("the first layer is all additions", () => {
    const first = diffLayer(stack, 0);
    expect(new Set(first.rows.map((r) => r.kind))).toEqual(new Set(["added"]));
    expect(first.rows).toHaveLength(base.entries.length);
  });

  it("a whited-out directory re-created in the same layer lists what it no longer holds", () => {
    const s = stackLayers([
      base,
      changeset([dirEntry("var/cache"), fileEntry("var/cache/x", 300)], ["var/cache"]),
    ]);
    expect(diffLayer(s, 1).rows.map((r) => `${r.path} ${r.kind} ${r.size}`)).toEqual([
      "var/cache unchanged 0",
      "var/cache/x unchanged 300",
      "var/cache/y removed 400",
    ]);
  });
});
