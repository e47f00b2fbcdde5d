/**
 * The npm cache as npm leaves it (~/.npm/_cacache, or $npm_config_cache): content files named by
 * each tarball's sha512 with the real tarball sizes, cacache's index-v5 bucket lines as
 * make-fetch-happen writes them, and `npm cache clean --force`.
 */
import { sha1, sha256 } from "hash-wasm";
import type { CommandContext } from "just-bash";
import type { NpmCatalog, TreeNode } from "../../../catalog/npm.ts";
import { seedFor } from "../../../catalog/synthesize.ts";
import { cleanPath as toRel } from "../../../fs/paths.ts";
import type { FileEntry } from "../../../fs/types.ts";
import { writeEntries } from "../apt.ts";
import type { NpmArgs } from "./args.ts";
import type { NpmFiles } from "./files.ts";
import { npmError, type Result } from "./messages.ts";

/** The HTTP date npm's cache records (the response's Date header). */
function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

/** cacache's content path for an sha512 integrity: content-v2/sha512/ab/cd/ef... */
export function contentPath(integrity: string): string {
  const b64 = integrity.replace(/^sha512-/, "");
  const bin = atob(b64);
  let hex = "";
  for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, "0");
  return `content-v2/sha512/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex.slice(4)}`;
}

/** A cacache index-v5 bucket line for a cached response, as make-fetch-happen writes it. */
export async function indexLine(
  key: string,
  url: string,
  integrity: string,
  size: number,
  seconds: number,
  json: boolean,
): Promise<{ bucket: string; line: string }> {
  const time = seconds * 1000;
  const entry = {
    key,
    integrity,
    time,
    size,
    metadata: {
      time,
      url,
      reqHeaders: json ? { accept: "application/json" } : {},
      resHeaders: {
        "content-type": json ? "application/json" : "application/octet-stream",
        date: httpDate(seconds),
      },
      options: { compress: true },
    },
  };
  const text = JSON.stringify(entry);
  const h = await sha256(key);
  return {
    bucket: `index-v5/${h.slice(0, 2)}/${h.slice(2, 4)}/${h.slice(4)}`,
    line: `\n${await sha1(text)}\t${text}`,
  };
}

/** Where npm keeps its cache: $npm_config_cache, else ~/.npm (relative to the root). */
export function npmCacheDir(env: Map<string, string>): string {
  const configured = env.get("npm_config_cache");
  return configured ? toRel(configured) : `${toRel(env.get("HOME") ?? "/root")}/.npm`;
}

/** Adds the fetched tarballs (and registry documents) to the npm cache, as npm leaves them. */
export async function writeCache(
  files: NpmFiles,
  catalog: NpmCatalog,
  cacheDir: string,
  tarballs: TreeNode[],
  packuments: string[],
): Promise<void> {
  const { bfs, fs, readText, writeText, mkdirs } = files;
  const cache = `${cacheDir}/_cacache`;
  const buckets = new Map<string, string>();
  const entries: FileEntry[] = [];
  const written = new Set<string>();
  const add = async (url: string, integrity: string, size: number, json: boolean, seedKey: string) => {
    const content = `${cache}/${contentPath(integrity)}`;
    if (!fs.nodeAt(content) && !written.has(content)) {
      written.add(content);
      entries.push({
        path: content,
        type: "file",
        mode: 0o644,
        uid: bfs.owner.uid,
        gid: bfs.owner.gid,
        size,
        mtime: fs.epoch,
        content: { kind: "synthetic", seed: seedFor("npm:cache", seedKey) },
      });
    }
    const key = `make-fetch-happen:request-cache:${url}`;
    const { bucket, line } = await indexLine(key, url, integrity, size, fs.epoch, json);
    const path = `${cache}/${bucket}`;
    const before = buckets.get(path) ?? (await readText(path)) ?? "";
    buckets.set(path, before + line);
  };
  for (const name of packuments) {
    const p = catalog.packages[name];
    if (!p?.packumentIntegrity || p.packumentSize === undefined) continue;
    await add(`${catalog.registry}/${name}`, p.packumentIntegrity, p.packumentSize, true, name);
  }
  // Each node fetches its tarball, so a version at two places has two index lines and one content file.
  for (const n of tarballs) {
    const v = catalog.packages[n.name]?.versions[n.version];
    if (!v) continue;
    await add(v.lock.resolved, v.lock.integrity, v.tarballSize, false, `${n.name}@${n.version}`);
  }
  mkdirs(`${cache}/tmp`);
  for (const e of entries) mkdirs(e.path.slice(0, e.path.lastIndexOf("/")));
  writeEntries(bfs, entries);
  for (const [path, text] of buckets) {
    mkdirs(path.slice(0, path.lastIndexOf("/")));
    writeText(path, text);
  }
}

/** `npm cache clean --force` (without --force, npm's refusal). */
export async function cacheClean(files: NpmFiles, a: NpmArgs, ctx: CommandContext): Promise<Result> {
  const { fs } = files;
  if (!a.force) {
    return {
      stdout: "",
      stderr: npmError(
        "As of npm@5, the npm cache self-heals from corruption issues\n  by treating integrity mismatches as cache misses.  As a result,\n  data extracted from the cache is guaranteed to be valid.  If you\n  want to make sure everything is consistent, use `npm cache verify`\n  instead.  Deleting the cache can only make npm go slower, and is\n  not likely to correct any problems you may be encountering!\n\n  On the other hand, if you're debugging an issue with the installer,\n  or race conditions that depend on the timing of writing to an empty\n  cache, you can use `npm install --cache /tmp/empty-cache` to use a\n  temporary cache instead of nuking the actual one.\n\n  If you're sure you want to delete the entire cache, rerun this command\n  with --force.",
      ),
      exitCode: 1,
    };
  }
  const cacheDir = npmCacheDir(ctx.env);
  fs.removeTree(`${cacheDir}/_cacache`);
  return { stdout: "", stderr: "npm warn using --force Recommended protections disabled.\n", exitCode: 0 };
}
