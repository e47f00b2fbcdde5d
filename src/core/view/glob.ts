/**
 * Path filters as people type them in a file tree: a plain word matches as a substring of the
 * path; a pattern with `*`, `?` or `[...]` is a glob (`*` and `?` stay within one path segment,
 * `**` crosses segments). A glob without `/` matches a file's name in any directory (`*.pyc`).
 * LayerLab's own on purpose: filepath.Match-style segments plus `**` and the substring
 * rule, a definition no glob library has exactly (minimatch and picomatch follow shells), and one
 * compiled RegExp per filter keeps filtering a 50,000-path tree cheap.
 */
export function compilePathFilter(text: string): (path: string) => boolean {
  const q = text.trim();
  if (q === "") return () => true;
  if (!/[*?[]/.test(q)) {
    const needle = q.replace(/^\/+/, "").toLowerCase();
    return (path) => path.toLowerCase().includes(needle);
  }
  const pattern = q.replace(/^\/+/, "");
  const re = new RegExp(`^${globToRegExpSource(pattern)}$`);
  if (pattern.includes("/")) return (path) => re.test(path);
  return (path) => re.test(path.slice(path.lastIndexOf("/") + 1));
}

/** The regular expression source of a glob pattern (no anchors). */
export function globToRegExpSource(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          out += "(?:.*/)?";
        } else out += ".*";
      } else out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith("!") || body.startsWith("^")) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[++i]!);
    } else out += escapeRegExp(c);
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
