/**
 * The parts of dpkg the package simulation needs: its status file and its path filters
 * (`path-exclude` / `path-include`, which slim images use to drop docs, man pages and locales).
 */
import type { CatalogRow, DpkgPathFilter } from "./types.ts";

/** A package dpkg's status file lists as installed. */
export interface InstalledPackage {
  version: string;
  /** Virtual package names it provides (versions dropped). */
  provides: string[];
}

/** Packages with `Status: install ok installed` in a /var/lib/dpkg/status text. */
export function parseDpkgStatus(text: string): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let key = "";
    for (const line of stanza.split("\n")) {
      if (/^[ \t]/.test(line)) {
        if (key) fields.set(key, `${fields.get(key) ?? ""}\n${line}`);
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      key = line.slice(0, colon);
      fields.set(key, line.slice(colon + 1).trim());
    }
    const name = fields.get("Package");
    if (!name || fields.get("Status") !== "install ok installed") continue;
    out.set(name, {
      version: fields.get("Version") ?? "",
      provides: dependencyNames(fields.get("Provides") ?? ""),
    });
  }
  return out;
}

/** Package names in a Depends-like field, alternatives flattened, versions and arch qualifiers dropped. */
export function dependencyNames(field: string): string[] {
  return parseDependencyField(field).flat();
}

/** A Depends-like field as groups of alternatives: "a (>= 1) | b, c" → [["a", "b"], ["c"]]. */
export function parseDependencyField(field: string): string[][] {
  const groups: string[][] = [];
  for (const group of field.split(",")) {
    const alts: string[] = [];
    for (const alt of group.split("|")) {
      const name = alt.trim().split(/[\s(:[]/, 1)[0] ?? "";
      if (name) alts.push(name);
    }
    if (alts.length > 0) groups.push(alts);
  }
  return groups;
}

/** fnmatch(3) without flags, as dpkg uses it: `*` and `?` also match `/`, `[...]` classes, `\` escapes. */
export function dpkgGlobToRegExp(glob: string): RegExp {
  let src = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") src += "[\\s\\S]*";
    else if (c === "?") src += "[\\s\\S]";
    else if (c === "\\" && i + 1 < glob.length) src += escapeRegExp(glob[++i]!);
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        src += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      src += `[${negate ? "^" : ""}${body.replace(/\\/g, "\\\\").replace(/]/g, "\\]")}]`;
      i = end;
    } else src += escapeRegExp(c);
  }
  return new RegExp(`^${src}$`);
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/**
 * Decides for each row whether dpkg would unpack it under `filters`: the last matching filter wins;
 * an excluded directory or symlink is still unpacked when an include filter's literal prefix
 * (up to its first wildcard) agrees with the path, as dpkg's filter_should_skip() does.
 */
export function compileDpkgPathFilters(
  filters: readonly DpkgPathFilter[],
): (path: string, type: string) => boolean {
  if (filters.length === 0) return () => true;
  const compiled = filters.map((f) => ({
    include: f.kind === "include",
    re: dpkgGlobToRegExp(f.glob),
    prefix: f.glob.slice(0, f.glob.search(/[*?[\\]/) < 0 ? f.glob.length : f.glob.search(/[*?[\\]/)),
  }));
  return (path, type) => {
    const abs = `/${path}`;
    let keep = true;
    for (const f of compiled) if (f.re.test(abs)) keep = f.include;
    if (keep || (type !== "d" && type !== "l" && type !== "dir" && type !== "symlink")) return keep;
    for (const f of compiled) {
      if (!f.include) continue;
      const n = Math.min(f.prefix.length, abs.length);
      if (f.prefix.length === 0 || abs.slice(0, n) === f.prefix.slice(0, n)) return true;
    }
    return false;
  };
}

/** The rows dpkg would unpack under `filters`. */
export function filterRows(rows: readonly CatalogRow[], filters: readonly DpkgPathFilter[]): CatalogRow[] {
  if (filters.length === 0) return [...rows];
  const keep = compileDpkgPathFilters(filters);
  return rows.filter((r) => keep(r[0], r[1]));
}

/**
 * /var/lib/dpkg/status after dpkg records newly installed packages: their stanzas merged in, the
 * file kept in package-name order as dpkg writes it, each stanza followed by a blank line.
 */
export function addToDpkgStatus(status: string, stanzas: readonly string[]): string {
  const byName = new Map<string, string>();
  const nameOf = (stanza: string): string => /^Package: (\S+)/m.exec(stanza)?.[1] ?? "";
  for (const s of status.split(/\n\n+/)) if (s.trim()) byName.set(nameOf(s), s.replace(/\n+$/, ""));
  for (const s of stanzas) byName.set(nameOf(s), s.replace(/\n+$/, ""));
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => `${byName.get(n)}\n\n`).join("");
}
