/**
 * The core's one symlink resolver, shared by the build's filesystem (`builder/layer-fs.ts`), the
 * container layer (`container.ts`) and COPY's sources (`builder/copy.ts`). Each gives it a lookup
 * over its own tree; the walk is Linux's:
 * - absolute link targets restart at the root, relative ones at the link's directory;
 * - `..` goes to the parent of where the walk really is (after any link), and stops at the root,
 *   so no path or link target ever leaves the tree;
 * - every component before the last must be a directory (ENOENT when missing, ENOTDIR when not a
 *   directory), `.` and `..` included (`file/.` is ENOTDIR, `missing/..` ENOENT);
 * - the last component is followed only when asked (stat, not lstat), or when the path ends in `/`,
 *   which also makes an existing non-directory there ENOTDIR;
 * - a walk that meets more than 40 links fails with ELOOP (Linux's MAXSYMLINKS).
 */
import { FsError } from "../errors.ts";
import { joinPath, parentPath } from "./paths.ts";

/** The most symlinks one path walk follows, as Linux (MAXSYMLINKS). */
export const MAX_SYMLINK_HOPS = 40;

/** How the resolver sees a tree: what is at a real (already resolved) clean relative path. */
export interface PathLookup<N> {
  /** The object at a clean relative path ("" is the root), without following it. */
  get(path: string): N | undefined;
  isDir(node: N): boolean;
  /** A symlink's target as written; undefined when the node is not a symlink. */
  linkTarget(node: N): string | undefined;
}

/** How to resolve: whether the last component is followed, and the operation errors name. */
export interface ResolveOptions {
  /** Follow a symlink in the last component (stat) or return the link itself (lstat). */
  followLast: boolean;
  /** Named in the error messages, Node's way (`ENOENT: ..., open '/x'`). */
  syscall?: string;
}

/** Where a path leads: the real clean path, and the node there (undefined when only its parent exists). */
export interface Resolved<N> {
  path: string;
  node: N | undefined;
}

/**
 * Resolves `input` (absolute, or relative to the root; unclean is fine) in `tree`. Returns the
 * real path and its node, or an undefined node when the last component does not exist but its
 * directory does (so a caller can create it there). Throws FsError ENOENT, ENOTDIR or ELOOP,
 * naming `input` as given, made absolute.
 */
export function resolvePath<N>(tree: PathLookup<N>, input: string, options: ResolveOptions): Resolved<N> {
  const fail = (errno: "ENOENT" | "ENOTDIR" | "ELOOP"): never => {
    throw new FsError(errno, `/${input.replace(/^\/+/, "")}`, undefined, options.syscall);
  };
  // The components still to walk, the next one last (link targets are pushed onto it).
  const todo: string[] = [];
  const segs = input.split("/");
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i] !== "") todo.push(segs[i] as string);
  const trailing = todo.length > 0 && input.charCodeAt(input.length - 1) === 47;
  const followLast = options.followLast || trailing;
  let cur = "";
  let node = tree.get("");
  let hops = 0;
  while (todo.length > 0) {
    // Whatever comes next (a name, `.` or `..`) needs the walk to stand in a directory.
    if (node === undefined) fail("ENOENT");
    if (!tree.isDir(node as N)) fail("ENOTDIR");
    const seg = todo.pop() as string;
    if (seg === ".") continue;
    if (seg === "..") {
      cur = parentPath(cur);
      node = tree.get(cur);
      continue;
    }
    const next = joinPath(cur, seg);
    const found = tree.get(next);
    const target = found === undefined ? undefined : tree.linkTarget(found);
    if (target !== undefined && (todo.length > 0 || followLast)) {
      if (++hops > MAX_SYMLINK_HOPS) fail("ELOOP");
      if (target.charCodeAt(0) === 47) {
        cur = "";
        node = tree.get("");
      }
      const parts = target.split("/");
      for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "") todo.push(parts[i] as string);
      continue;
    }
    cur = next;
    node = found;
  }
  if (trailing && node !== undefined && !tree.isDir(node)) fail("ENOTDIR");
  return { path: cur, node };
}
