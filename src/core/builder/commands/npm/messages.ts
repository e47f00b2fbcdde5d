/**
 * What the simulated npm prints: its summary line ("added 3 packages in 2s"), its `npm error`
 * lines, and the offline messages that say what LayerLab's catalog holds.
 */
import { compareVersions, type NpmCatalog, type NpmMissing } from "../../../catalog/npm.ts";

/** What a command returns to the shell. */
export type Result = { stdout: string; stderr: string; exitCode: number };

/** A duration as npm prints it (the `ms` package's short form). */
function npmDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 1000)}s`;
}

/** npm's summary line: "added 3 packages, and removed 1 package in 2s" or "up to date in 1s". */
export function summaryLine(added: number, removed: number, changed: number, ms: number): string {
  const parts: string[] = [];
  const n = (k: number, verb: string) => `${verb} ${k} package${k === 1 ? "" : "s"}`;
  if (added) parts.push(n(added, "added"));
  if (removed) parts.push(n(removed, "removed"));
  if (changed) parts.push(n(changed, "changed"));
  let msg = "up to date";
  if (parts.length > 0) {
    const last = parts.pop()!;
    msg = parts.length > 0 ? `${parts.join(", ")}, and ${last}` : last;
  }
  return `${msg} in ${npmDuration(ms)}`;
}

/** npm's error lines: every line of `text` under "npm error ". */
export function npmError(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `npm error ${l}` : "npm error"))
    .join("\n")
    .concat("\n");
}

/** What the catalog holds, for the offline messages. */
function catalogNote(catalog: NpmCatalog): string {
  const names = Object.keys(catalog.packages).length;
  return `LayerLab builds offline: its npm catalog holds ${names} packages from ${catalog.registry} with their real file lists and sizes (${catalog.suggested.join(", ")} and their dependencies).`;
}

/** npm's failure for a package spec the catalog cannot satisfy (exit 1, as npm's E404/ETARGET). */
export function notInCatalog(name: string, range: string | undefined, catalog: NpmCatalog) {
  const have = Object.keys(catalog.packages[name]?.versions ?? {}).sort(compareVersions);
  return {
    stdout: "",
    stderr: missingMessage({ name, range: range ?? "*", from: "", have }, catalog),
    exitCode: 1,
  };
}

/** npm's E404 (a name the catalog lacks) or ETARGET (no version of it meets the spec). */
export function missingMessage(m: NpmMissing, catalog: NpmCatalog): string {
  if (m.have.length === 0) {
    return npmError(
      `code E404\n404 Not Found - GET ${catalog.registry}/${m.name} - not in LayerLab's offline catalog\n404\n404  '${m.name}@${m.range}' is not in this registry.\n404\n404 ${catalogNote(catalog)}`,
    );
  }
  return npmError(
    `code ETARGET\nnotarget No matching version found for ${m.name}@${m.range}.\nnotarget In most cases you or one of your dependencies are requesting\nnotarget a package version that doesn't exist.\nnotarget LayerLab builds offline and its catalog has ${m.name} ${m.have.join(", ")} only.`,
  );
}
