/**
 * The build context: the files COPY and ADD read, as a map in memory (files edited in the browser,
 * a dropped folder) or a directory the CLI walks. `.dockerignore` filters it the way Docker's
 * patternmatcher does, and sources use Go's filepath.Match wildcards.
 * Both matchers are LayerLab's own on purpose: a build must pick the same files as BuildKit, and
 * the npm ignore libraries implement .gitignore's rules (unanchored names, no `filepath.Clean` of
 * patterns), which differ from moby/patternmatcher's.
 */
import { LayerLabError } from "../errors.ts";
import { cleanPath } from "../fs/paths.ts";

/** One path of a build context. */
export interface ContextEntry {
  /** Clean relative path ("app/main.py"). */
  path: string;
  type: "file" | "dir" | "symlink";
  /** Permission bits. */
  mode: number;
  size: number;
  /** Symlink target. */
  target?: string;
}

/** Where COPY and ADD find their sources. */
export interface BuildContext {
  /** Every path of the context (directories included), sorted. */
  list(): Promise<ContextEntry[]>;
  /** The bytes of a regular file. */
  read(path: string): Promise<Uint8Array>;
}

/** A context file given in memory: its text or bytes, optionally with a mode or as a symlink. */
export type ContextFileInit =
  | string
  | Uint8Array
  | { content?: string | Uint8Array; mode?: number; symlink?: string };

const encoder = new TextEncoder();

/** A build context from a map of paths to contents; parent directories are implied (0755). */
export function contextFromFiles(files: Record<string, ContextFileInit>): BuildContext {
  const entries = new Map<string, ContextEntry>();
  const data = new Map<string, Uint8Array>();
  for (const [raw, init] of Object.entries(files)) {
    const path = cleanContextPath(raw);
    if (path === "") continue;
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!entries.has(dir)) entries.set(dir, { path: dir, type: "dir", mode: 0o755, size: 0 });
    }
    if (raw.endsWith("/")) {
      entries.set(path, {
        path,
        type: "dir",
        mode: typeof init === "object" && !(init instanceof Uint8Array) ? (init.mode ?? 0o755) : 0o755,
        size: 0,
      });
      continue;
    }
    if (typeof init === "object" && !(init instanceof Uint8Array) && init.symlink !== undefined) {
      entries.set(path, { path, type: "symlink", mode: 0o777, size: 0, target: init.symlink });
      continue;
    }
    const content = typeof init === "string" || init instanceof Uint8Array ? init : (init.content ?? "");
    const bytes = typeof content === "string" ? encoder.encode(content) : content;
    const mode = typeof init === "object" && !(init instanceof Uint8Array) ? (init.mode ?? 0o644) : 0o644;
    entries.set(path, { path, type: "file", mode, size: bytes.byteLength });
    data.set(path, bytes);
  }
  const sorted = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    async list() {
      return sorted;
    },
    async read(path) {
      const bytes = data.get(path);
      if (!bytes) throw new LayerLabError("NOT_FOUND", `${path}: not a file in the build context`);
      return bytes;
    },
  };
}

/** Cleans a context path: no leading `/`, no `.`/`..` escaping the root (they are dropped). */
export const cleanContextPath = cleanPath;

// ---- filepath.Match -----------------------------------------------------------------------------

const matchCache = new Map<string, RegExp>();

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Converts one Go filepath.Match pattern into a RegExp; throws on a malformed pattern. */
function globToRegExp(pattern: string, doubleStar: boolean): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (doubleStar && pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      i++;
      if (i >= pattern.length) throw new LayerLabError("BUILD", `syntax error in pattern '${pattern}'`);
      re += escapeRe(pattern[i] as string);
    } else if (c === "[") {
      let j = i + 1;
      let cls = "";
      if (pattern[j] === "^") {
        cls += "^";
        j++;
      }
      let closed = false;
      let first = true;
      for (; j < pattern.length; j++) {
        const d = pattern[j] as string;
        if (d === "]" && !first) {
          closed = true;
          break;
        }
        first = false;
        if (d === "\\") {
          j++;
          cls += escapeRe(pattern[j] ?? "");
        } else if (d === "/") throw new LayerLabError("BUILD", `syntax error in pattern '${pattern}'`);
        else cls += d === "-" ? "-" : escapeRe(d);
      }
      if (!closed) throw new LayerLabError("BUILD", `syntax error in pattern '${pattern}'`);
      re += `(?!/)[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, "s");
}

/** Go's filepath.Match: `*`, `?`, `[...]` never cross a `/`. */
export function matchPath(pattern: string, name: string): boolean {
  let re = matchCache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern, false);
    matchCache.set(pattern, re);
  }
  return re.test(name);
}

/** True when a source path contains filepath.Match wildcards. */
export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

// ---- .dockerignore ------------------------------------------------------------------------------

interface IgnorePattern {
  re: RegExp;
  exclusion: boolean;
}

/** A parsed `.dockerignore`: `!` exceptions, `**`, later patterns win, parents match children. */
export class DockerIgnore {
  private readonly patterns: IgnorePattern[] = [];

  constructor(text: string) {
    for (const rawLine of text.split(/\r?\n/)) {
      let line = rawLine.trim();
      if (line === "" || line.startsWith("#")) continue;
      let exclusion = false;
      if (line.startsWith("!")) {
        exclusion = true;
        line = line.slice(1).trim();
      }
      const cleaned = cleanContextPath(line);
      if (cleaned === "") continue;
      this.patterns.push({ re: globToRegExp(cleaned, true), exclusion });
    }
  }

  /** True when there are no patterns. */
  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether a context path is left out of the build. */
  ignores(path: string): boolean {
    let ignored = false;
    const parents: string[] = [];
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
    for (const p of this.patterns) {
      let match = p.re.test(path);
      if (!match) match = parents.some((d) => p.re.test(d));
      if (match) ignored = !p.exclusion;
    }
    return ignored;
  }
}

/** The context as the builder sees it: `.dockerignore` applied, lookups by path. */
export class ContextView {
  readonly byPath = new Map<string, ContextEntry>();
  readonly kids = new Map<string, string[]>();

  private constructor(
    readonly source: BuildContext,
    entries: ContextEntry[],
  ) {
    this.kids.set("", []);
    for (const e of entries) {
      this.byPath.set(e.path, e);
      const i = e.path.lastIndexOf("/");
      const dir = i < 0 ? "" : e.path.slice(0, i);
      let list = this.kids.get(dir);
      if (!list) {
        list = [];
        this.kids.set(dir, list);
      }
      list.push(e.path.slice(i + 1));
    }
    for (const list of this.kids.values()) list.sort();
  }

  /** Lists the context and applies its `.dockerignore`, if any. */
  static async open(source: BuildContext): Promise<ContextView> {
    const all = await source.list();
    const ignoreEntry = all.find((e) => e.path === ".dockerignore" && e.type === "file");
    if (!ignoreEntry) return new ContextView(source, all);
    const ignore = new DockerIgnore(new TextDecoder().decode(await source.read(".dockerignore")));
    if (ignore.empty) return new ContextView(source, all);
    const kept = all.filter((e) => !ignore.ignores(e.path));
    // A directory kept only through a `!` exception of something inside it still has to exist.
    const have = new Set(kept.map((e) => e.path));
    const dirs: ContextEntry[] = [];
    for (const e of kept) {
      const parts = e.path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join("/");
        if (!have.has(d)) {
          have.add(d);
          const orig = all.find((x) => x.path === d);
          dirs.push(orig ?? { path: d, type: "dir", mode: 0o755, size: 0 });
        }
      }
    }
    return new ContextView(
      source,
      [...kept, ...dirs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    );
  }
}
