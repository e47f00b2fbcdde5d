/**
 * Small builders of layer entries, for tests and for hand-made teaching layers: every field a
 * tar header would carry, with root ownership and a zero mtime unless told otherwise.
 */
import type { Digest } from "../digest.ts";
import type { Changeset, FileEntry, Whiteout } from "./types.ts";

/** A fake but well-formed digest naming content `n` (tests compare content by digest). */
export function fakeDigest(n: number): Digest {
  return `sha256:${n.toString(16).padStart(64, "0")}`;
}

/** A regular file of `size` bytes whose content is named by `content` (default: the size). */
export function fileEntry(
  path: string,
  size = 1,
  extra: Partial<FileEntry> & { content?: FileEntry["content"] } = {},
): FileEntry {
  return {
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
    digest: fakeDigest(size),
    ...extra,
  };
}

/** A directory. */
export function dirEntry(path: string, extra: Partial<FileEntry> = {}): FileEntry {
  return { path, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, ...extra };
}

/** A symbolic link to `target` (as written, absolute or relative). */
export function symlinkEntry(path: string, target: string, extra: Partial<FileEntry> = {}): FileEntry {
  return {
    path,
    type: "symlink",
    mode: 0o777,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: target,
    ...extra,
  };
}

/** A hardlink to the clean relative path `target`. */
export function hardlinkEntry(path: string, target: string, extra: Partial<FileEntry> = {}): FileEntry {
  return {
    path,
    type: "hardlink",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: target,
    ...extra,
  };
}

/** A changeset from entries and whiteout paths (`opaque` lists opaque directories). */
export function changeset(entries: FileEntry[], whiteouts: string[] = [], opaque: string[] = []): Changeset {
  const w: Whiteout[] = [
    ...opaque.map((path) => ({ path, opaque: true })),
    ...whiteouts.map((path) => ({ path, opaque: false })),
  ];
  return { entries, whiteouts: w };
}
