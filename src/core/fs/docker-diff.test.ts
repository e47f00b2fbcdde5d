import { describe, expect, it } from "vitest";
import { createContainerFs } from "./container.ts";
import { dockerChanges, formatDockerDiff } from "./docker-diff.ts";
import { changeset, dirEntry, fileEntry } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";

const image = stackLayers([
  changeset([
    dirEntry("a"),
    dirEntry("a/b"),
    dirEntry("a/b/c"),
    fileEntry("a/b/c/f", 3),
    fileEntry("a.txt", 1),
    dirEntry("etc"),
    fileEntry("etc/hosts", 2),
  ]),
]).top;
const read = async () => new Uint8Array(0);

// Expected lines written from moby's pkg/archive/changes.go rules: a depth-first walk of the upper
// directory with names in byte order; A/D list their parent as C first unless it is / or already
// listed; a copied-up directory with its mode and mtime unchanged is not listed.
describe("docker diff", () => {
  it("lists an add deep down with its parent, not the untouched copied-up ancestors", async () => {
    const fs = createContainerFs(image, read, { now: () => 5_000_000 });
    await fs.writeFile("/a/b/c/new", "x");
    // /a and /a/b were only copied up (same mtime): not changes; /a/b/c got a new entry: C.
    expect(formatDockerDiff(dockerChanges(fs))).toBe("C /a/b/c\nA /a/b/c/new\n");
  });

  it("walks depth first (so /a/... comes before /a.txt), and D for deletes", async () => {
    const fs = createContainerFs(image, read, { now: () => 5_000_000 });
    await fs.writeFile("/a.txt", "changed");
    await fs.rm("/a/b", { recursive: true });
    await fs.rm("/etc/hosts");
    expect(formatDockerDiff(dockerChanges(fs))).toBe("C /a\nD /a/b\nC /a.txt\nC /etc\nD /etc/hosts\n");
  });

  it("a directory made again over a whiteout is opaque: Docker prints D for it, A for what is new inside", async () => {
    const fs = createContainerFs(image, read, { now: () => 5_000_000 });
    await fs.rm("/etc", { recursive: true });
    await fs.mkdir("/etc");
    await fs.writeFile("/etc/motd", "hi");
    await fs.writeFile("/top", "t");
    expect(dockerChanges(fs)).toEqual([
      { kind: "D", path: "/etc" },
      { kind: "A", path: "/etc/motd" },
      { kind: "A", path: "/top" },
    ]);
  });

  it("a file rewritten through writeFile leaves its directory unlisted too", async () => {
    const fs = createContainerFs(image, read, { now: () => 5_000_000 });
    await fs.writeFile("/a/b/c/f", "new");
    await fs.writeFile("/etc/hosts", "more");
    expect(formatDockerDiff(dockerChanges(fs))).toBe("C /a/b/c/f\nC /etc/hosts\n");
  });

  it("a file put in place (overwritten, appended to, chmod-ed by the shell) leaves its directory unlisted", async () => {
    // What the shell's mirror does: put() the file's new entry. On overlayfs the directory is only
    // copied up (same mtime), so Docker lists the file alone (buildah's overlay driver agrees:
    // src/testdata/run, cases overwrite/append/chmod).
    const fs = createContainerFs(image, read, { now: () => 5_000_000 });
    fs.put({ ...fileEntry("a/b/c/f", 9), mode: 0o600 });
    fs.put(fileEntry("a.txt", 4));
    expect(formatDockerDiff(dockerChanges(fs))).toBe("C /a/b/c/f\nC /a.txt\n");
    // A new name, or another kind of file at a name, changes the directory's entries: C.
    fs.put(fileEntry("etc/new", 1));
    fs.put({ ...fileEntry("a/b/c/f", 0), type: "symlink", linkname: "x" });
    expect(formatDockerDiff(dockerChanges(fs))).toBe("C /a/b/c\nC /a/b/c/f\nC /a.txt\nC /etc\nA /etc/new\n");
  });
});
