/**
 * `npm ls`: the project's direct dependencies as installed in node_modules, with npm's
 * ELSPROBLEMS for any that are missing.
 */
import type { CommandContext } from "just-bash";
import type { RootManifest } from "../../../catalog/npm.ts";
import { cleanPath as toRel } from "../../../fs/paths.ts";
import type { NpmFiles } from "./files.ts";
import { npmError, type Result } from "./messages.ts";

/** `npm ls` (depth 0). */
export async function listPackages(files: NpmFiles, ctx: CommandContext): Promise<Result> {
  const { readText } = files;
  const cwd = toRel(ctx.cwd);
  const at = (p: string) => (cwd === "" ? p : `${cwd}/${p}`);
  let manifest: RootManifest = {};
  try {
    manifest = JSON.parse((await readText(at("package.json"))) ?? "{}") as RootManifest;
  } catch {
    manifest = {};
  }
  const deps = { ...manifest.devDependencies, ...manifest.optionalDependencies, ...manifest.dependencies };
  const names = Object.keys(deps).sort((x, y) => x.localeCompare(y, "en"));
  const title = `${manifest.name ?? ""}${manifest.version ? `@${manifest.version}` : ""} ${ctx.cwd}`.trim();
  const lines: string[] = [];
  const missing: string[] = [];
  for (const n of names) {
    let version: string | undefined;
    try {
      version = (
        JSON.parse((await readText(at(`node_modules/${n}/package.json`))) ?? "{}") as { version?: string }
      ).version;
    } catch {
      version = undefined;
    }
    if (version) lines.push(`${n}@${version}`);
    else if (!manifest.optionalDependencies?.[n]) {
      lines.push(`UNMET DEPENDENCY ${n}@${deps[n]}`);
      missing.push(`missing: ${n}@${deps[n]}, required by ${manifest.name ?? ""}@${manifest.version ?? ""}`);
    }
  }
  let out = `${title}\n`;
  if (lines.length === 0) out += "└── (empty)\n";
  lines.forEach((l, i) => {
    out += `${i === lines.length - 1 ? "└──" : "├──"} ${l}\n`;
  });
  if (missing.length > 0)
    return { stdout: `${out}\n`, stderr: npmError(`code ELSPROBLEMS\n${missing.join("\n")}`), exitCode: 1 };
  return { stdout: `${out}\n`, stderr: "", exitCode: 0 };
}
