/**
 * The simulated npm's view of the layer filesystem: existence, text reads and writes (keeping an
 * existing file's mode and owner, as npm rewrites package.json), folders, all as the RUN's user.
 */
import type { FileEntry } from "../../../fs/types.ts";
import type { BashFs } from "../../bash-fs.ts";
import { writeEntries } from "../apt.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The file operations npm's commands share, bound to one RUN's shell filesystem. */
export interface NpmFiles {
  bfs: BashFs;
  fs: BashFs["fs"];
  /** Whether a path exists (following symlinks); false for anything unreadable. */
  exists(p: string): boolean;
  /** A regular file's text, or undefined. */
  readText(p: string): Promise<string | undefined>;
  /** A regular file entry owned by the RUN's user. */
  file(path: string, bytes: Uint8Array, mode?: number): FileEntry;
  /** Writes a text file, keeping an existing one's mode and owner. */
  writeText(path: string, text: string): void;
  /** Creates a folder and its parents, 0755. */
  mkdirs(path: string): void;
}

/** npm's file operations over `bfs`. */
export function npmFiles(bfs: BashFs): NpmFiles {
  const fs = bfs.fs;
  const exists = (p: string): boolean => {
    try {
      return fs.resolve(p, true).node !== undefined;
    } catch {
      return false;
    }
  };
  const readText = async (p: string): Promise<string | undefined> => {
    try {
      const n = fs.resolve(p, true).node;
      return n?.type === "file" ? dec.decode(await fs.contentOf(n)) : undefined;
    } catch {
      return undefined;
    }
  };
  const file = (path: string, bytes: Uint8Array, mode = 0o644): FileEntry => ({
    path,
    type: "file",
    mode,
    uid: bfs.owner.uid,
    gid: bfs.owner.gid,
    size: bytes.byteLength,
    mtime: fs.epoch,
    content: { kind: "inline", bytes },
  });
  const writeText = (path: string, text: string): void => {
    const old = fs.nodeAt(path);
    writeEntries(bfs, [
      { ...file(path, enc.encode(text), old?.mode ?? 0o644), ...(old ? { uid: old.uid, gid: old.gid } : {}) },
    ]);
  };
  const mkdirs = (path: string): void => {
    bfs.mkdirSync(`/${path}`, true, 0o755, bfs.owner);
  };
  return { bfs, fs, exists, readText, file, writeText, mkdirs };
}
