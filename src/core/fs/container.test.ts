import { describe, expect, it } from "vitest";
import { FsError } from "../errors.ts";
import { type ContentReader, createContainerFs } from "./container.ts";
import { dumpTree } from "./dump.ts";
import { changeset, dirEntry, fileEntry, hardlinkEntry, symlinkEntry } from "./fixtures.ts";
import { applyChangeset, stackLayers } from "./overlay.ts";
import type { ContentRef } from "./types.ts";

const enc = new TextEncoder();
/** Image contents: a synthetic seed n reads as the text "content n". */
const read: ContentReader = async (ref: ContentRef) => {
  if (ref.kind !== "synthetic") throw new Error(`unexpected ref ${ref.kind}`);
  return enc.encode(`content ${ref.seed}`);
};
const seeded = (path: string, seed: number, extra = {}) =>
  fileEntry(path, `content ${seed}`.length, { content: { kind: "synthetic", seed }, ...extra });

const image = stackLayers([
  changeset([
    dirEntry("etc"),
    seeded("etc/passwd", 1),
    seeded("etc/hosts", 2),
    dirEntry("var"),
    dirEntry("var/cache"),
    seeded("var/cache/a", 3),
    seeded("var/cache/b", 4),
    symlinkEntry("etc/link", "/var/cache"),
    symlinkEntry("up", "../../../etc"),
    symlinkEntry("loop1", "loop2"),
    symlinkEntry("loop2", "loop1"),
    dirEntry("bin"),
    seeded("bin/busybox", 5, { mode: 0o755 }),
    hardlinkEntry("bin/sh", "bin/busybox"),
  ]),
  changeset([seeded("etc/hosts", 6)]),
]).top;

async function errno(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FsError) return err.errno;
    throw err;
  }
  return "no error";
}

function fresh() {
  let t = 1_700_000_000_000;
  return createContainerFs(image, read, { now: () => (t += 1000) });
}

describe("container filesystem", () => {
  it("reads the image through the container, with the layer each entry came from", async () => {
    const fs = fresh();
    expect(await fs.readTextFile("/etc/hosts")).toBe("content 6");
    expect(await fs.stat("/etc/hosts")).toMatchObject({ source: "image", layer: 1, type: "file" });
    expect(await fs.readdir("/etc")).toEqual(["hosts", "link", "passwd"]);
    expect(await fs.readTextFile("/bin/sh")).toBe("content 5");
    expect((await fs.stat("/bin/sh")).mode).toBe(0o755);
    expect(fs.isClean()).toBe(true);
  });

  it("copies a file up on first write and remembers the layer it came from", async () => {
    const fs = fresh();
    await fs.writeFile("/etc/hosts", "127.0.0.1 localhost\n");
    const st = await fs.stat("etc/hosts");
    expect(st).toMatchObject({ source: "container", copiedUpFrom: 1, size: 20, mode: 0o644 });
    expect(await fs.readTextFile("/etc/hosts")).toBe("127.0.0.1 localhost\n");
    // The image is untouched, and the parent directory was copied up with it.
    expect(image.get("etc/hosts")?.entry.size).toBe(9);
    expect((await fs.stat("/etc")).source).toBe("container");
    expect(fs.changeset().entries.map((e) => e.path)).toEqual(["etc", "etc/hosts"]);
    await fs.chmod("/etc/passwd", 0o600);
    expect(await fs.stat("/etc/passwd")).toMatchObject({ mode: 0o600, copiedUpFrom: 0 });
    // chmod copies up attributes only: the content still comes from the image.
    expect(await fs.readTextFile("/etc/passwd")).toBe("content 1");
  });

  it("deletes with whiteouts and re-creates deleted directories as opaque", async () => {
    const fs = fresh();
    await fs.rm("/var/cache", { recursive: true });
    expect(await errno(fs.stat("/var/cache/a"))).toBe("ENOENT");
    expect(fs.changeset().whiteouts).toEqual([{ path: "var/cache", opaque: false }]);
    await fs.mkdir("/var/cache");
    expect(await fs.readdir("/var/cache")).toEqual([]);
    expect((await fs.stat("/var/cache")).opaque).toBe(true);
    await fs.writeFile("/var/cache/new", "x");
    const cs = fs.changeset();
    expect(cs.whiteouts).toEqual([{ path: "var/cache", opaque: true }]);
    // The committed layer applied on the image gives exactly what the container sees.
    const applied = applyChangeset(image, cs).tree;
    expect(dumpTree(applied)).toBe(dumpTree(fs.tree()));
    expect(applied.readdir("var/cache").map((n) => n.name)).toEqual(["new"]);
  });

  it("deleting what only the container made leaves no whiteout", async () => {
    const fs = fresh();
    await fs.writeFile("/tmpfile", "x");
    await fs.rm("/tmpfile");
    expect(fs.changeset().whiteouts).toEqual([]);
    expect(fs.changeset().entries).toEqual([]);
  });

  it("raises POSIX-like errors", async () => {
    const fs = fresh();
    expect(await errno(fs.readFile("/nope"))).toBe("ENOENT");
    expect(await errno(fs.readFile("/etc"))).toBe("EISDIR");
    expect(await errno(fs.readdir("/etc/passwd"))).toBe("ENOTDIR");
    expect(await errno(fs.writeFile("/etc/passwd/x", "y"))).toBe("ENOTDIR");
    expect(await errno(fs.mkdir("/etc"))).toBe("EEXIST");
    expect(await errno(fs.mkdir("/a/b/c"))).toBe("ENOENT");
    expect(await errno(fs.rm("/var"))).toBe("ENOTEMPTY");
    expect(await errno(fs.rmdir("/var"))).toBe("ENOTEMPTY");
    expect(await errno(fs.symlink("x", "/etc/hosts"))).toBe("EEXIST");
    expect(await errno(fs.readFile("/loop1"))).toBe("ELOOP");
    expect(await errno(fs.rename("/var", "/var/cache/inside"))).toBe("EINVAL");
    expect(await errno(fs.rename("/etc/hosts", "/var"))).toBe("EISDIR");
    expect(await errno(fs.link("/etc", "/etc2"))).toBe("EPERM");
    expect(await errno(fs.readlink("/etc/hosts"))).toBe("EINVAL");
    expect(await errno(fs.rm("/nope", { force: true }))).toBe("no error");
  });

  it("gives a trailing slash Linux's meaning: a directory there, a link followed only to look", async () => {
    const fs = fresh();
    expect(await errno(fs.stat("/etc/hosts/"))).toBe("ENOTDIR");
    expect(await errno(fs.readFile("/etc/hosts/."))).toBe("ENOTDIR");
    expect(await fs.lstat("/etc/link/")).toMatchObject({ path: "var/cache", type: "dir" });
    expect(await fs.readdir("/etc/link/")).toEqual(["a", "b"]);
    // Removing `link/` never removes what the link points at.
    expect(await errno(fs.rm("/etc/link/", { recursive: true }))).toBe("ENOTDIR");
    expect(await errno(fs.unlink("/etc/link/"))).toBe("ENOTDIR");
    expect(await fs.readdir("/var/cache")).toEqual(["a", "b"]);
    await fs.mkdir("/made/");
    expect((await fs.stat("/made")).type).toBe("dir");
    await fs.rm("/made/");
    expect(await fs.exists("/made")).toBe(false);
    expect(fs.isClean()).toBe(true);
  });

  it("resolves symlinks within the root: absolute and .. targets clamp at /", async () => {
    const fs = fresh();
    expect(await fs.readdir("/etc/link")).toEqual(["a", "b"]);
    expect(await fs.readTextFile("/up/passwd")).toBe("content 1");
    expect(await fs.readTextFile("/../../etc/../etc/passwd")).toBe("content 1");
    await fs.symlink("/../../../../etc/passwd", "/escape");
    expect(await fs.readTextFile("/escape")).toBe("content 1");
    expect(await fs.readlink("/escape")).toBe("/../../../../etc/passwd");
    expect((await fs.lstat("/escape")).isSymbolicLink).toBe(true);
    // Writing through a symlink writes its target, in the container layer only.
    await fs.writeFile("/etc/link/a", "changed");
    expect(await fs.readTextFile("/var/cache/a")).toBe("changed");
    expect((await fs.lstat("/etc/link")).isSymbolicLink).toBe(true);
  });

  it("makes directories recursively, renames subtrees, hardlinks share writes", async () => {
    const fs = fresh();
    await fs.mkdir("/opt/app/data", { recursive: true, mode: 0o700 });
    expect((await fs.stat("/opt/app/data")).mode).toBe(0o700);
    await fs.mkdir("/opt/app", { recursive: true });
    await fs.rename("/var/cache", "/opt/app/cache");
    expect(await fs.readdir("/opt/app/cache")).toEqual(["a", "b"]);
    expect(await fs.readTextFile("/opt/app/cache/b")).toBe("content 4");
    expect((await fs.stat("/opt/app/cache/b")).copiedUpFrom).toBe(0);
    expect(await fs.exists("/var/cache")).toBe(false);
    await fs.link("/etc/passwd", "/etc/passwd2");
    await fs.writeFile("/etc/passwd2", "root:x:0:0");
    expect(await fs.readTextFile("/etc/passwd")).toBe("root:x:0:0");
    const cs = fs.changeset();
    expect(cs.entries.find((e) => e.path === "etc/passwd2")).toMatchObject({
      type: "hardlink",
      linkname: "etc/passwd",
    });
    await fs.chown("/etc/passwd", 1000, 1000);
    expect((await fs.stat("/etc/passwd2")).uid).toBe(1000);
    await fs.utimes("/etc/hosts", 0, 42);
    expect((await fs.stat("/etc/hosts")).mtime).toBe(42);
    await fs.appendFile("/etc/hosts", "+");
    expect(await fs.readTextFile("/etc/hosts")).toBe("content 6+");
  });

  it("commits to a changeset with digests and a history entry; reset discards", async () => {
    const fs = fresh();
    await fs.writeFile("/hello", "hi");
    await fs.unlink("/etc/passwd");
    const { changeset: cs, history } = await fs.commit({ createdBy: "/bin/sh -c echo hi > /hello" });
    expect(history.created_by).toBe("/bin/sh -c echo hi > /hello");
    expect(history.created).toMatch(/^2023-/);
    expect(cs.entries.find((e) => e.path === "hello")?.digest).toBe(
      "sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
    );
    expect(cs.whiteouts).toEqual([{ path: "etc/passwd", opaque: false }]);
    expect(fs.diff().changes.map((r) => `${r.path} ${r.kind}`)).toEqual([
      "etc/passwd removed",
      "hello added",
    ]);
    fs.reset();
    expect(fs.isClean()).toBe(true);
    expect(await fs.readTextFile("/etc/passwd")).toBe("content 1");
  });

  it("gives each container of one image its own layer", async () => {
    const a = fresh();
    const b = fresh();
    await a.writeFile("/only-a", "a");
    await b.rm("/etc", { recursive: true });
    expect(await b.exists("/only-a")).toBe(false);
    expect(await a.readdir("/etc")).toEqual(["hosts", "link", "passwd"]);
    expect(await b.readdir("/")).toEqual(["bin", "loop1", "loop2", "up", "var"]);
  });
});
