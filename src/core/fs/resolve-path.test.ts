import { describe, expect, it } from "vitest";
import { FsError } from "../errors.ts";
import { MAX_SYMLINK_HOPS, type PathLookup, resolvePath } from "./resolve-path.ts";

/** A tree as a map of clean path → "dir", "file" or "-> target". */
function tree(entries: Record<string, string>): PathLookup<string> {
  const all = new Map(Object.entries({ "": "dir", ...entries }));
  return {
    get: (p) => all.get(p),
    isDir: (n) => n === "dir",
    linkTarget: (n) => (n.startsWith("-> ") ? n.slice(3) : undefined),
  };
}

const t = tree({
  etc: "dir",
  "etc/passwd": "file",
  "etc/alt": "-> /usr/lib",
  "etc/rel": "-> ../usr/lib/x",
  "etc/up": "-> ../../../../etc/passwd",
  "etc/dot": "-> .",
  usr: "dir",
  "usr/lib": "dir",
  "usr/lib/x": "file",
  "usr/lib/up": "-> ..",
  "usr/lib/top": "-> ../../../../..",
  bin: "-> usr/bin",
  lib: "-> usr/lib",
  dangling: "-> /etc/nothing",
  "dangling-deep": "-> /nowhere/file",
  "dangling-dir": "-> /missing/",
  loop1: "-> loop2",
  loop2: "-> /loop1",
  self: "-> self",
});

function stat(path: string, tr = t) {
  return resolvePath(tr, path, { followLast: true });
}
function lstat(path: string, tr = t) {
  return resolvePath(tr, path, { followLast: false });
}
function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof FsError) return err.errno;
    throw err;
  }
  return "no error";
}

describe("resolvePath (one resolver for the build, the container layer and COPY)", () => {
  it("restarts absolute targets at the root and takes relative ones from the link's directory", () => {
    expect(stat("/etc/alt")).toEqual({ path: "usr/lib", node: "dir" });
    expect(stat("etc/rel")).toEqual({ path: "usr/lib/x", node: "file" });
    expect(stat("/lib/x")).toEqual({ path: "usr/lib/x", node: "file" });
  });

  it("follows links in the middle of a path, the last one only when asked", () => {
    expect(stat("/etc/alt/x")).toEqual({ path: "usr/lib/x", node: "file" });
    expect(lstat("/lib/x")).toEqual({ path: "usr/lib/x", node: "file" });
    expect(lstat("/etc/alt")).toEqual({ path: "etc/alt", node: "-> /usr/lib" });
    expect(stat("/etc/dot/dot/passwd")).toEqual({ path: "etc/passwd", node: "file" });
  });

  it("never leaves the root: `..` in paths and targets stops there", () => {
    expect(stat("/../../etc/passwd")).toEqual({ path: "etc/passwd", node: "file" });
    expect(stat("/etc/up")).toEqual({ path: "etc/passwd", node: "file" });
    expect(stat("/usr/lib/up/lib/up")).toEqual({ path: "usr", node: "dir" });
    expect(stat("/usr/lib/top")).toEqual({ path: "", node: "dir" });
    expect(stat("/usr/lib/top/etc/passwd")).toEqual({ path: "etc/passwd", node: "file" });
  });

  it("takes `..` after a link from where the link led, as Linux does", () => {
    // /lib/.. is /usr (the parent of /usr/lib), not the root.
    expect(stat("/lib/..")).toEqual({ path: "usr", node: "dir" });
    expect(stat("/lib/../lib/x")).toEqual({ path: "usr/lib/x", node: "file" });
  });

  it("gives ELOOP for loops, and follows exactly 40 links", () => {
    expect(errnoOf(() => stat("/loop1"))).toBe("ELOOP");
    expect(errnoOf(() => stat("/self"))).toBe("ELOOP");
    expect(errnoOf(() => stat("/self/x"))).toBe("ELOOP");
    expect(lstat("/self")).toEqual({ path: "self", node: "-> self" });
    const chain = (n: number) => {
      const entries: Record<string, string> = { end: "file" };
      for (let i = 0; i < n; i++) entries[`l${i}`] = i === n - 1 ? "-> end" : `-> l${i + 1}`;
      return tree(entries);
    };
    expect(stat("/l0", chain(MAX_SYMLINK_HOPS))).toEqual({ path: "end", node: "file" });
    expect(errnoOf(() => stat("/l0", chain(MAX_SYMLINK_HOPS + 1)))).toBe("ELOOP");
  });

  it("returns a dangling last link's destination without a node, and refuses one in the middle", () => {
    expect(stat("/dangling")).toEqual({ path: "etc/nothing", node: undefined });
    expect(lstat("/dangling")).toEqual({ path: "dangling", node: "-> /etc/nothing" });
    expect(errnoOf(() => stat("/dangling/x"))).toBe("ENOENT");
    // Its destination's directory must exist too, as for open(O_CREAT) through the link.
    expect(errnoOf(() => stat("/dangling-deep"))).toBe("ENOENT");
    expect(stat("/etc/new")).toEqual({ path: "etc/new", node: undefined });
    expect(errnoOf(() => stat("/missing/new"))).toBe("ENOENT");
  });

  it("needs a directory before every further component, `.` and `..` included", () => {
    expect(errnoOf(() => stat("/etc/passwd/x"))).toBe("ENOTDIR");
    expect(errnoOf(() => stat("/etc/passwd/."))).toBe("ENOTDIR");
    expect(errnoOf(() => stat("/etc/passwd/.."))).toBe("ENOTDIR");
    expect(errnoOf(() => stat("/missing/.."))).toBe("ENOENT");
    expect(stat("/etc/./passwd")).toEqual({ path: "etc/passwd", node: "file" });
  });

  it("follows a trailing-slash link even for lstat, and wants a directory there", () => {
    expect(lstat("/lib/")).toEqual({ path: "usr/lib", node: "dir" });
    expect(lstat("/etc//")).toEqual({ path: "etc", node: "dir" });
    expect(errnoOf(() => lstat("/etc/passwd/"))).toBe("ENOTDIR");
    // A missing last component may still be created there (mkdir new/).
    expect(lstat("/etc/new/")).toEqual({ path: "etc/new", node: undefined });
    expect(stat("/dangling-dir/")).toEqual({ path: "missing", node: undefined });
    expect(lstat("/")).toEqual({ path: "", node: "dir" });
    expect(lstat("")).toEqual({ path: "", node: "dir" });
  });

  it("fails with an FsError naming the path as given and, when asked, the operation", () => {
    let err: unknown;
    try {
      resolvePath(t, "etc/passwd/x", { followLast: true, syscall: "open" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect(err).toMatchObject({ code: "ENOTDIR", errno: "ENOTDIR", path: "/etc/passwd/x", syscall: "open" });
    expect((err as Error).message).toBe("ENOTDIR: not a directory, open '/etc/passwd/x'");
  });
});
