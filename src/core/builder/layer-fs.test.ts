import { describe, expect, it } from "vitest";
import { FsError, LayerLabError } from "../errors.ts";
import type { FileEntry } from "../fs/types.ts";
import { changesetTarEntries } from "../image/changeset-tar.ts";
import { BashFs } from "./bash-fs.ts";
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

  describe("a directory removed and made again in one step is opaque, as overlayfs records it", () => {
    const lower = () => {
      const fs = new LayerFs(async () => new Uint8Array(0));
      fs.applyChangeset({
        entries: [
          dir("opt"),
          dir("opt/data"),
          file("opt/data/a"),
          dir("opt/data/sub"),
          file("opt/data/sub/b"),
        ],
        whiteouts: [],
      });
      fs.beginStep();
      return { fs, sh: new BashFs(fs) };
    };

    it("writes the directory, its marker and its new contents, and no whiteout for the old children", async () => {
      const { fs, sh } = lower();
      await sh.rm("/opt/data", { recursive: true, force: true });
      await sh.mkdir("/opt/data");
      await sh.mkdir("/opt/data/sub");
      await sh.writeFile("/opt/data/c", "new\n");
      const cs = fs.diffStep();
      expect(cs.whiteouts).toEqual([{ path: "opt/data", opaque: true }]);
      expect(cs.entries.map((e) => e.path)).toEqual(["opt", "opt/data", "opt/data/c", "opt/data/sub"]);
      const names: string[] = [];
      for await (const e of changesetTarEntries(cs, fs.readContent, 0)) names.push(e.name);
      expect(names).toEqual(["opt/", "opt/data/", "opt/data/.wh..wh..opq", "opt/data/c", "opt/data/sub/"]);
    });

    it("marks an emptied and remade directory with nothing in it, and only the top-most one", async () => {
      const { fs, sh } = lower();
      await sh.rm("/opt", { recursive: true });
      await sh.mkdir("/opt");
      await sh.mkdir("/opt/data");
      expect(fs.diffStep().whiteouts).toEqual([{ path: "opt", opaque: true }]);
    });

    it("writes again what was moved out and back under the opaque directory", async () => {
      const { fs, sh } = lower();
      await sh.mv("/opt/data/a", "/opt/a");
      await sh.rm("/opt/data", { recursive: true });
      await sh.mkdir("/opt/data");
      await sh.mv("/opt/a", "/opt/data/a");
      const cs = fs.diffStep();
      expect(cs.whiteouts).toEqual([{ path: "opt/data", opaque: true }]);
      expect(cs.entries.map((e) => e.path)).toEqual(["opt", "opt/data", "opt/data/a"]);
    });

    it("keeps per-file whiteouts when the directory itself stays (rm -rf dir/*)", async () => {
      const { fs, sh } = lower();
      await sh.rm("/opt/data/a");
      await sh.rm("/opt/data/sub", { recursive: true });
      expect(fs.diffStep().whiteouts).toEqual([
        { path: "opt/data/a", opaque: false },
        { path: "opt/data/sub", opaque: false },
      ]);
    });

    it("is not opaque when the directory was made in the same step (nothing below to hide)", async () => {
      const { fs, sh } = lower();
      await sh.mkdir("/new");
      await sh.writeFile("/new/x", "x");
      await sh.rm("/new", { recursive: true });
      await sh.mkdir("/new");
      const cs = fs.diffStep();
      expect(cs.whiteouts).toEqual([]);
      expect(cs.entries.map((e) => e.path)).toEqual(["new"]);
    });
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
