/**
 * `docker diff` of a container layer, as Docker's overlay2 driver computes it (moby
 * `pkg/archive/changes.go` `changes` with `overlayDeletedFile`): a walk of the container's upper
 * directory, depth first with each directory's names in byte order, where
 *
 * - a whiteout, and an opaque directory (deleted and made again), is `D`;
 * - anything else is `C` when some image layer has that path and `A` when none has;
 * - a directory the image has with the same mode and mtime is not a change (it was only copied up
 *   because something below it changed);
 * - before an `A` or `D`, its parent directory is listed as `C` unless it is `/` or already listed.
 */
import type { ContainerFs } from "./container.ts";
import type { FileEntry } from "./types.ts";

/** One line of `docker diff`. */
export interface DockerChange {
  kind: "A" | "C" | "D";
  /** Absolute path. */
  path: string;
}

/**
 * The first lines of `docker diff` and how many there are in all: what a view shows of a layer
 * that may hold 10,000 changes, without sending them all.
 */
export interface DockerDiffPage {
  changes: DockerChange[];
  total: number;
}

/** The changes of a container layer in Docker's order. */
export function dockerChanges(fs: ContainerFs): DockerChange[] {
  const data = fs.save();
  const upper = new Map<string, { entry: FileEntry; opaque: boolean } | null>();
  for (const up of data.entries) upper.set(up.entry.path, { entry: up.entry, opaque: up.opaque === true });
  for (const w of data.whiteouts) upper.set(w, null);
  const kids = new Map<string, string[]>();
  for (const p of upper.keys()) {
    if (p === "") continue;
    const i = p.lastIndexOf("/");
    const dir = i < 0 ? "" : p.slice(0, i);
    let list = kids.get(dir);
    if (!list) {
      list = [];
      kids.set(dir, list);
    }
    list.push(i < 0 ? p : p.slice(i + 1));
  }
  const out: DockerChange[] = [];
  const changedDirs = new Set<string>();
  const visit = (path: string): void => {
    const up = upper.get(path);
    const abs = `/${path}`;
    let kind: DockerChange["kind"] | undefined;
    const isDir = up?.entry.type === "dir";
    if (up === null || up?.opaque) kind = "D";
    else if (up) {
      const low = fs.image.get(path);
      if (!low) kind = "A";
      else {
        const lower = (low.hardlinkTarget ?? low).entry;
        const same =
          lower.type === "dir" &&
          isDir &&
          (lower.mode & 0o7777) === (up.entry.mode & 0o7777) &&
          lower.mtime === up.entry.mtime;
        kind = same ? undefined : "C";
      }
    }
    if (kind) {
      if (isDir) changedDirs.add(abs);
      if (kind === "A" || kind === "D") {
        const parent = path.includes("/") ? `/${path.slice(0, path.lastIndexOf("/"))}` : "/";
        if (parent !== "/" && !changedDirs.has(parent)) {
          out.push({ kind: "C", path: parent });
          changedDirs.add(parent);
        }
      }
      out.push({ kind, path: abs });
    }
    if (isDir) {
      const names = kids.get(path);
      if (names) for (const n of names.sort(byteOrder)) visit(path === "" ? n : `${path}/${n}`);
    }
  };
  const top = kids.get("");
  if (top) for (const n of top.sort(byteOrder)) visit(n);
  return out;
}

/** `docker diff` as Docker prints it: one `K /path` line each. */
export function formatDockerDiff(changes: readonly DockerChange[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join("");
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
