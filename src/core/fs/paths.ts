/**
 * The core's one set of path helpers. Every path inside a tree (the overlay's, the container
 * layer's, the build's) is clean and relative ("etc/passwd"), the root is ""; users' paths
 * ("/etc/passwd", "../x" from a working directory) become that form through `cleanPath`. Symlinks
 * are resolved by `resolve-path.ts`, not here: cleaning is purely lexical.
 */

/** True when `path` is already clean: relative, no empty, `.` or `..` segment, no trailing `/`. */
export function isCleanPath(path: string): boolean {
  if (path === "") return true;
  if (path.charCodeAt(0) === 47 || path.charCodeAt(path.length - 1) === 47 || path.includes("//"))
    return false;
  // A `.` or `..` segment needs a dot at a segment start; most paths have none.
  if (!(path.charCodeAt(0) === 46 || path.includes("/."))) return true;
  for (const seg of path.split("/")) if (seg === "." || seg === "..") return false;
  return true;
}

/**
 * Cleans a user-given path lexically against the root: leading `/`, `.` and empty segments go,
 * `..` removes the previous segment and clamps at the root (so it can never escape). A relative
 * path is taken from `cwd` (an absolute or clean path; the root by default), as a shell does.
 */
export function cleanPath(path: string, cwd = ""): string {
  const full = path.charCodeAt(0) === 47 || cwd === "" || cwd === "/" ? path : `${cwd}/${path}`;
  // Most paths a shell hands over are clean already (`/data/f123`): no split, no join. A path
  // with no empty, `.` or `..` segment and no trailing slash is its own clean form.
  if (
    full.charCodeAt(0) === 47 &&
    full.charCodeAt(full.length - 1) !== 47 &&
    !full.includes("//") &&
    !full.includes("/.")
  ) {
    return full.slice(1);
  }
  const out: string[] = [];
  for (const seg of full.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}

/** The segments of a clean path ([] for the root). */
export function splitPath(path: string): string[] {
  return path === "" ? [] : path.split("/");
}

/** The parent of a clean path ("" for top-level names and for the root itself). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The last segment of a clean path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins a clean directory path and a name. */
export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}
