import { describe, expect, it } from "vitest";
import { FsError, LayerLabError } from "../errors.ts";
import type { FileEntry } from "../fs/types.ts";
import { LayerFs } from "./layer-fs.ts";

const enc = new TextEncoder();
const file = (path: string, text = path): FileEntry => ({
  path,
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: text.length,
  mtime: 0,
  content: { kind: "inline", bytes: enc.encode(text) },
});
const dir = (path: string): FileEntry => ({
  path,
  type: "dir",
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 0,
});

describe("LayerFs", () => {
  it("stacks image layers: whiteouts hide a path, opaque markers hide what lower layers had in a directory", () => {
    const fs = new LayerFs(async () => new Uint8Array(0));
    fs.applyChangeset({
      entries: [dir("a"), file("a/x"), file("a/y"), dir("b"), file("b/z"), file("c")],
      whiteouts: [],
    });
    fs.applyChangeset({
      entries: [dir("a"), file("a/new")],
      whiteouts: [
        { path: "a", opaque: true },
        { path: "c", opaque: false },
      ],
    });
    expect(fs.childrenOf("a")).toEqual(["new"]);
    expect(fs.nodeAt("c")).toBeUndefined();
    expect(fs.childrenOf("b")).toEqual(["z"]);
  });

  it("diffs a step as containers/storage's naive differ: one whiteout per deleted top-most path, parents carried", () => {
    const fs = new LayerFs(async () => new Uint8Array(0));
    fs.applyChangeset({
      entries: [dir("a"), dir("a/sub"), file("a/sub/deep"), file("a/keep"), file("top")],
      whiteouts: [],
    });
    fs.beginStep();
    fs.removeTree("a/sub");
    fs.putNode("a/added", {
      type: "file",
      mode: 0o600,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 1,
      data: enc.encode("1"),
      ino: fs.newIno(),
    });
    const cs = fs.diffStep();
    expect(cs.whiteouts).toEqual([{ path: "a/sub", opaque: false }]);
    expect(cs.entries.map((e) => e.path)).toEqual(["a", "a/added"]);
  });

  it("a snapshot does not change when the filesystem goes on", () => {
    const fs = new LayerFs(async () => new Uint8Array(0));
    fs.applyChangeset({ entries: [dir("d"), file("d/one")], whiteouts: [] });
    const snap = fs.snapshot();
    fs.removeTree("d/one");
    const again = new LayerFs(async () => new Uint8Array(0), 0, snap);
    expect(again.childrenOf("d")).toEqual(["one"]);
    expect(fs.childrenOf("d")).toEqual([]);
  });

  it("resolves symlinks in parents and refuses loops", () => {
    const fs = new LayerFs(async () => new Uint8Array(0));
    fs.applyChangeset({
      entries: [
        dir("real"),
        file("real/f"),
        { path: "link", type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0, linkname: "/real" },
        { path: "loop", type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0, linkname: "loop" },
      ],
      whiteouts: [],
    });
    expect(fs.resolve("link/f", true).path).toBe("real/f");
    expect(() => fs.resolve("loop/x", true)).toThrow(/ELOOP/);
  });

  it("fails with the core's FsError, its code the errno just-bash decides on, Node's message", () => {
    const fs = new LayerFs(async () => new Uint8Array(0));
    fs.applyChangeset({ entries: [file("f")], whiteouts: [] });
    let err: unknown;
    try {
      fs.resolve("f/x", true, "open");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect(err).toBeInstanceOf(LayerLabError);
    expect(err).toMatchObject({ code: "ENOTDIR", errno: "ENOTDIR", path: "/f/x" });
    expect((err as Error).message).toBe("ENOTDIR: not a directory, open '/f/x'");
  });
});
