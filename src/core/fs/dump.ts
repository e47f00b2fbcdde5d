import type { MergedTree } from "./overlay.ts";
import type { FileEntry } from "./types.ts";

/** One row of a canonical tree dump. */
export interface DumpRow {
  path: string;
  entry: FileEntry;
  /** The supplying layer (a number, or a label such as "C" for a container layer). */
  layer: number | string;
}

/** Escapes whitespace, backslash and control characters so a dump line splits on spaces. */
function escapeField(text: string): string {
  return text.replace(/[\x00-\x20\\\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** One canonical line: `path type mode uid:gid size link layer` (`-` for no link). */
export function dumpLine(row: DumpRow): string {
  const e = row.entry;
  const link = e.linkname === undefined ? "-" : escapeField(e.linkname);
  const mode = (e.mode & 0o7777).toString(8).padStart(4, "0");
  return `${escapeField(row.path)} ${e.type} ${mode} ${e.uid}:${e.gid} ${e.size} ${link} ${row.layer}`;
}

/** Rows sorted by path (code-unit order) and rendered one per line, for golden comparisons. */
export function dumpRows(rows: Iterable<DumpRow>): string {
  const list = [...rows];
  list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return list.map((r) => `${dumpLine(r)}\n`).join("");
}

/**
 * The canonical text dump of a merged tree: one sorted line per entry (the root not included),
 * `path type mode uid:gid size link layer`, so two trees compare with one string comparison.
 */
export function dumpTree(tree: MergedTree): string {
  const rows: DumpRow[] = [];
  for (const n of tree.walk()) rows.push({ path: n.path, entry: n.entry, layer: n.layer });
  return dumpRows(rows);
}
