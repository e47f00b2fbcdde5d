import type { Digest } from "../digest.ts";

/** What kind of filesystem object an entry is. */
export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

/**
 * Where a regular file's bytes live. Layers read from archives point into their uncompressed tar
 * (stored as a blob whose digest is the layer's diffId); built and edited files may hold their
 * own blob; teaching base images synthesize large contents from a seed so they cost no storage.
 */
export type ContentRef =
  | { kind: "tar"; blob: Digest; offset: number }
  | { kind: "blob"; blob: Digest }
  | { kind: "inline"; bytes: Uint8Array }
  | { kind: "synthetic"; seed: number };

/** One entry of a layer: a path and its attributes, as a tar header describes it. */
export interface FileEntry {
  /** Clean relative path: no leading `/` or `./`, no trailing `/`, no `.` or `..` segments. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Content length for regular files; 0 otherwise. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Target of a symlink (as written) or of a hardlink (a clean relative path). */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records. */
  xattrs?: Record<string, string>;
  /** sha256 of the content of a regular file, when known. */
  digest?: Digest;
  content?: ContentRef;
}

/**
 * A deletion recorded in a layer: `.wh.<name>` hides `path` (and all below it) in lower layers;
 * an opaque marker `.wh..wh..opq` in directory `path` hides everything lower layers had inside it.
 */
export interface Whiteout {
  path: string;
  opaque: boolean;
}

/** The changes one layer makes: its entries (tar order, later duplicates win) and its whiteouts. */
export interface Changeset {
  entries: FileEntry[];
  whiteouts: Whiteout[];
}

/** Reads the bytes a content reference names (`size` is the entry's size). */
export type ContentReader = (ref: ContentRef, size: number) => Promise<Uint8Array>;
