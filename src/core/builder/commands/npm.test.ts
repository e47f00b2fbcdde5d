import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type NpmCatalog, type NpmRecordedRun, parseNpmCatalog } from "../../catalog/npm.ts";
import type { FileEntry } from "../../fs/types.ts";
import { openMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { BuildFailure, buildImage } from "../builder.ts";
import { builtinResolver } from "../builtins.ts";
import { contextFromFiles } from "../context.ts";
import type { LayerFs } from "../layer-fs.ts";
import { storeResolver } from "../resolver.ts";
import { mergedFs, readConfig, readText } from "../testing.ts";
import type { BuildEvent, BuildResult, ImageResolver } from "../types.ts";
import { contentPath } from "./npm/cache.ts";
import { summaryLine } from "./npm/messages.ts";

const catalogFile = (file: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../public/catalog/${file}`, import.meta.url)));

let npm: NpmCatalog;
let store: Store;
let builtins: ImageResolver;

beforeAll(() => {
  npm = parseNpmCatalog(catalogFile("npm.json.gz"));
  store = openMemoryStore();
  builtins = builtinResolver(async (file) => catalogFile(file));
});

const recorded = (example: string, command: string): NpmRecordedRun => {
  const r = npm.examples.find((e) => e.name === example)?.runs.find((x) => x.command === command);
  if (!r) throw new Error(`no recorded run ${example}: ${command}`);
  return r;
};

/** The time the catalog's runs were made (2026-11-30T04:27Z), so the cache's index lines have npm's length. */
const GATHERED = 1796012840;

function build(dockerfile: string, files: Record<string, string>, epoch = 0): Promise<BuildResult> {
  return buildImage({ dockerfile, context: contextFromFiles(files), store, builtins, epoch });
}

async function failure(dockerfile: string, files: Record<string, string> = {}): Promise<BuildFailure> {
  try {
    await build(dockerfile, files);
  } catch (e) {
    if (e instanceof BuildFailure) return e;
    throw e;
  }
  throw new Error("the build succeeded");
}

/** The entries of the image's last layer, by path. */
async function lastLayer(r: BuildResult): Promise<Map<string, FileEntry>> {
  const img = await storeResolver(store).resolve(r.id);
  const cs = img!.layers[img!.layers.length - 1]!.changeset;
  return new Map(cs.entries.map((e) => [e.path, e]));
}

function output(events: BuildEvent[], stream: "stdout" | "stderr"): string {
  return events
    .filter((e) => e.kind === "output" && e.stream === stream)
    .map((e) => (e as { text: string }).text)
    .join("");
}

/** A layer's node_modules as "path type mode size link" lines, as the real run's listing has them. */
function nodeModulesLines(layer: Map<string, FileEntry>, prefix: string): string[] {
  const out: string[] = [];
  for (const e of layer.values()) {
    if (!e.path.startsWith(prefix)) continue;
    const t = e.type === "dir" ? "d" : e.type === "symlink" ? "l" : "f";
    const link = e.type === "symlink" ? ` ${e.linkname}` : "";
    out.push(`${e.path.slice(prefix.length)} ${t} ${(e.mode & 0o7777).toString(8)} ${e.size}${link}`);
  }
  return out.sort();
}

function realLines(run: NpmRecordedRun): string[] {
  return run.nodeModules
    .map(
      (r) => `${r[0]} ${r[1]} ${(r[2] as number).toString(8)} ${r[3]}${r[4] !== undefined ? ` ${r[4]}` : ""}`,
    )
    .sort();
}

/** A merged tree's folder as "path type mode size link" lines, as the real run's listing has them. */
function treeLines(fs: LayerFs, root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.childrenOf(dir)) {
      const path = `${dir}/${name}`;
      const n = fs.nodeAt(path)!;
      const t = n.type === "dir" ? "d" : n.type === "symlink" ? "l" : "f";
      const link = n.type === "symlink" ? ` ${n.target}` : "";
      lines.push(
        `${path.slice(root.length + 1)} ${t} ${(n.mode & 0o7777).toString(8)} ${n.type === "file" ? n.size : 0}${link}`,
      );
      if (n.type === "dir") walk(path);
    }
  };
  walk(root);
  return lines.sort();
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("npm on the node:20-bookworm-slim stand-in", () => {
  const pkg4 = () => recorded("express4", "npm install").packageJsonBefore!;

  it("is the official image's layout and config: node, npm and npx in /usr/local, the node user, docker-entrypoint.sh", async () => {
    const r = await build(
      "FROM node:20-slim\nRUN node --version > /node-version && npm --version > /npm-version\n",
      {},
    );
    const cfg = await readConfig(store, r.id);
    expect(cfg.config.Entrypoint).toEqual(["docker-entrypoint.sh"]);
    expect(cfg.config.Cmd).toEqual(["node"]);
    expect(cfg.config.Env).toContain("NODE_VERSION=20.20.2");
    expect(cfg.config.Env).toContain("YARN_VERSION=1.22.22");
    const fs = await mergedFs(store, r.id);
    expect(fs.nodeAt("usr/local/bin/npm")).toMatchObject({
      type: "symlink",
      target: "../lib/node_modules/npm/bin/npm-cli.js",
    });
    expect(fs.nodeAt("usr/local/bin/npx")).toMatchObject({
      type: "symlink",
      target: "../lib/node_modules/npm/bin/npx-cli.js",
    });
    expect(fs.nodeAt("usr/local/bin/node")).toMatchObject({ type: "file", size: 98932688, mode: 0o755 });
    expect(fs.nodeAt("usr/local/include/node/openssl/archs/linux-aarch64")).toBeUndefined();
    expect(fs.nodeAt("usr/local/include/node/openssl/archs/linux-x86_64")?.type).toBe("dir");
    expect(await readText(fs, "etc/passwd")).toContain("\nnode:x:1000:1000::/home/node:/bin/bash\n");
    expect(fs.nodeAt("home/node")).toMatchObject({ uid: 1000, gid: 1000 });
    expect(await readText(fs, "usr/local/bin/docker-entrypoint.sh")).toMatch(
      /^#!\/bin\/sh\nset -e\n[\s\S]*exec "\$@"\n$/,
    );
    expect(await readText(fs, "npm-version")).toBe("10.8.2\n");
    expect(await readText(fs, "node-version")).toBe("v20.20.2\n");
    const f = await failure("FROM node:20-slim\nRUN node server.js\n");
    expect(f.message).toMatch(/exit code: 126/);
    expect(f.output).toContain("LayerLab cannot run this program");
  });

  it("npm install writes node_modules exactly as real npm 10.8.2 did: paths, modes, sizes, .bin links", async () => {
    const real = recorded("express4", "npm install");
    const r = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json .\nRUN npm install\n",
      {
        "package.json": pkg4(),
      },
    );
    const layer = await lastLayer(r);
    expect(nodeModulesLines(layer, "app/node_modules/")).toEqual(realLines(real));
    // Real text where the catalog has it.
    const fs = await mergedFs(store, r.id);
    expect(JSON.parse(await readText(fs, "app/node_modules/express/package.json")).version).toBe("4.22.3");
    expect(await readText(fs, "app/package-lock.json")).toBe(real.lockfile);
    expect(await readText(fs, "app/node_modules/.package-lock.json")).toBe(real.hiddenLockfile);
    // npm's own words, but the time.
    expect(output(r.events, "stdout").replace(/ in \d+m?s\n/, " in Xs\n")).toBe(
      real.stdout.replace(/ in \d+m?s\n/, " in Xs\n"),
    );
  });

  it("fills the npm cache with the real tarballs' and registry documents' sizes, and cleaning it in the same RUN keeps them out of the image", async () => {
    const real = recorded("express4", "npm install");
    const r = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json .\nRUN npm install\n",
      { "package.json": pkg4() },
      GATHERED,
    );
    const layer = await lastLayer(r);
    const content = (rows: [string, number][]) => rows.filter(([p]) => p.includes("content-v2/")).sort();
    const ours = content(
      [...layer.values()]
        .filter((e) => e.type === "file" && e.path.startsWith("root/.npm/"))
        .map((e) => [e.path.slice("root/.npm/".length), e.size]),
    );
    const theirs = content(real.cache.map((c) => [c[0] as string, c[3] as number]));
    expect(ours).toEqual(theirs);
    expect(sum(ours.map(([, s]) => s))).toBeGreaterThan(5_000_000);
    // One index-v5 entry per cached response, each the size npm's was (the same fields and digits).
    const idx = (rows: [string, number][]) => rows.filter(([p]) => p.includes("index-v5/"));
    const ourIdx = idx(
      [...layer.values()]
        .filter((e) => e.path.startsWith("root/.npm/") && e.type === "file")
        .map((e) => [e.path, e.size]),
    );
    const realIdx = idx(real.cache.map((c) => [c[0] as string, c[3] as number]));
    expect(ourIdx.length).toBe(realIdx.length);
    expect(sum(ourIdx.map(([, s]) => s))).toBe(sum(realIdx.map(([, s]) => s)));

    // npm ci fetches tarballs only (the lockfile says what to get); the same RUN can clean them.
    const files = { "package.json": pkg4(), "package-lock.json": real.lockfile! };
    const two = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nRUN npm cache clean --force\n",
      files,
      GATHERED,
    );
    const one = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci && npm cache clean --force\n",
      files,
      GATHERED,
    );
    const ci = recorded("express4", "npm ci");
    const sizes = (res: BuildResult) =>
      res.events.flatMap((e) => (e.kind === "step-done" && e.layerSize !== undefined ? [e.layerSize] : []));
    const twoSizes = sizes(two);
    const oneSizes = sizes(one);
    const ciCacheBytes = sum(ci.cache.map((c) => c[3] as number));
    // The cache stays in the `npm ci` layer when another RUN removes it.
    const ciLayer = twoSizes[twoSizes.length - 2]!;
    const oneLayer = oneSizes[oneSizes.length - 1]!;
    const img = await storeResolver(store).resolve(two.id);
    const ciEntries = img!.layers[img!.layers.length - 2]!.changeset.entries;
    const cacheEntries = ciEntries.filter((e) => e.path.startsWith("root/.npm"));
    expect(sum(cacheEntries.map((e) => e.size))).toBe(ciCacheBytes);
    // The difference is those bytes plus a tar header (and padding) per cache entry.
    expect(ciLayer - oneLayer).toBeGreaterThan(ciCacheBytes);
    expect(ciLayer - oneLayer).toBeLessThanOrEqual(ciCacheBytes + cacheEntries.length * 1024);
    const cleaned = await lastLayer(one);
    expect([...cleaned.keys()].some((p) => p.startsWith("root/.npm/_cacache/content-v2"))).toBe(false);
    expect(output(one.events, "stderr")).toContain(
      "npm warn using --force Recommended protections disabled.",
    );
  });

  it("npm ci --omit=dev installs what the real one did, and npm install <name> records it in package.json", async () => {
    const real = recorded("express4", "npm ci --omit=dev");
    const r = await build("FROM node:20-bookworm-slim\nWORKDIR /srv\nCOPY . .\nRUN npm ci --omit=dev\n", {
      "package.json": pkg4(),
      "package-lock.json": real.lockfile!,
    });
    expect(nodeModulesLines(await lastLayer(r), "srv/node_modules/")).toEqual(realLines(real));
    expect(output(r.events, "stdout").replace(/ in \d+m?s\n/, " in Xs\n")).toBe(
      real.stdout.replace(/ in \d+m?s\n/, " in Xs\n"),
    );

    const add = recorded("express5", "npm install left-pad");
    const first = recorded("express5", "npm install");
    expect(first.packageJson).toBe(add.packageJsonBefore);
    const r2 = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /web\nCOPY . .\nRUN npm install\nRUN npm install left-pad\n",
      {
        "package.json": first.packageJsonBefore!,
      },
    );
    const fs = await mergedFs(store, r2.id);
    expect(await readText(fs, "web/package.json")).toBe(add.packageJson);
    expect(await readText(fs, "web/package-lock.json")).toBe(add.lockfile);
    expect(await readText(fs, "web/node_modules/.package-lock.json")).toBe(add.hiddenLockfile);
    // The merged tree after both installs: typescript's 20+ MB and its bins, left-pad beside them.
    expect(treeLines(fs, "web/node_modules")).toEqual(realLines(add));
    expect(output(r2.events, "stdout")).toMatch(
      /\nadded 1 package in \d+m?s\n\n31 packages are looking for funding\n/,
    );
  });

  it("npm ls lists the project's dependencies, UNMET where --omit=dev left one out", async () => {
    const real = recorded("express4", "npm ci --omit=dev");
    const r = await build(
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev && { npm ls > ls.txt 2> err.txt; echo $? > rc; }\n",
      { "package.json": pkg4(), "package-lock.json": real.lockfile! },
    );
    const fs = await mergedFs(store, r.id);
    expect(await readText(fs, "app/ls.txt")).toBe(
      "app@1.0.0 /app\n├── express@4.22.3\n├── lodash@4.18.1\n└── UNMET DEPENDENCY nodemon@^3.1.0\n\n",
    );
    expect(await readText(fs, "app/err.txt")).toBe(
      "npm error code ELSPROBLEMS\nnpm error missing: nodemon@^3.1.0, required by app@1.0.0\n",
    );
    expect(await readText(fs, "app/rc")).toBe("1\n");
  });

  it("npm prune --omit=dev in a later RUN leaves what the real one left, as whiteouts over the bytes; uninstall as npm does", async () => {
    const ci = recorded("express4", "npm ci");
    const prune = recorded("express4", "npm prune --omit=dev");
    const uninstall = recorded("express4", "npm uninstall lodash");
    const files = { "package.json": pkg4(), "package-lock.json": ci.lockfile! };
    const steps =
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm prune --omit=dev\n";
    const r = await build(steps, files);
    const img = await storeResolver(store).resolve(r.id);
    const layer = img!.layers[img!.layers.length - 1]!.changeset;
    expect(layer.whiteouts.map((w) => w.path)).toContain("app/node_modules/nodemon");
    expect(layer.whiteouts.map((w) => w.path)).toContain("app/node_modules/.bin/nodemon");
    let fs = await mergedFs(store, r.id);
    expect(treeLines(fs, "app/node_modules")).toEqual(realLines(prune));
    const timeless = (t: string) => t.replace(/ in \d+m?s\n/g, " in Xs\n");
    const last = (res: BuildResult) => {
      const step = Math.max(...res.events.flatMap((e) => (e.kind === "output" ? [e.step] : [])));
      return res.events
        .filter((e) => e.kind === "output" && e.step === step && e.stream === "stdout")
        .map((e) => (e as { text: string }).text)
        .join("");
    };
    expect(timeless(last(r))).toBe(timeless(prune.stdout));

    const r2 = await build(`${steps}RUN npm uninstall lodash\n`, files);
    fs = await mergedFs(store, r2.id);
    expect(await readText(fs, "app/package.json")).toBe(uninstall.packageJson);
    expect(await readText(fs, "app/package-lock.json")).toBe(uninstall.lockfile);
    expect(treeLines(fs, "app/node_modules")).toEqual(realLines(uninstall));
    expect(timeless(last(r2))).toBe(timeless(uninstall.stdout));
  });

  it("as USER node: node_modules owned by node, the cache in /home/node/.npm", async () => {
    const r = await build(
      "FROM node:20-bookworm-slim\nUSER node\nWORKDIR /home/node/app\nCOPY --chown=node:node package.json .\nRUN npm install --omit=dev\n",
      { "package.json": pkg4() },
    );
    const layer = await lastLayer(r);
    expect(layer.get("home/node/app/node_modules/express/package.json")).toMatchObject({
      uid: 1000,
      gid: 1000,
    });
    expect(layer.has("home/node/app/node_modules/nodemon")).toBe(false);
    expect([...layer.keys()].some((p) => p.startsWith("home/node/.npm/_cacache/content-v2/"))).toBe(true);
    expect([...layer.keys()].some((p) => p.startsWith("root/"))).toBe(false);
  });

  it("fails the build at the line naming a package LayerLab's offline catalog lacks", async () => {
    const f = await failure("FROM node:20-bookworm-slim\nWORKDIR /app\nRUN npm install left-padz\n");
    expect(f.line).toBe(3);
    expect(f.message).toMatch(/exit code: 1/);
    expect(f.output).toContain("npm error code E404");
    expect(f.output).toContain("'left-padz@*' is not in this registry.");
    expect(f.output).toContain("LayerLab builds offline");
    expect(f.output).toContain("express");
    const g = await failure("FROM node:20-bookworm-slim\nWORKDIR /app\nRUN npm install express@3\n");
    expect(g.output).toContain("No matching version found for express@3.");
    expect(g.output).toContain("express 4.22.3, 5.3.0 only");
  });

  it("npm ci without a lockfile and cache clean without --force fail as npm does", async () => {
    const f = await failure("FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json .\nRUN npm ci\n", {
      "package.json": pkg4(),
    });
    expect(f.output).toContain("The `npm ci` command can only install with an existing package-lock.json");
    const bad = await failure("FROM node:20-bookworm-slim\nCOPY package.json .\nRUN npm install\n", {
      "package.json": "null\n",
    });
    expect(bad.output).toContain("npm error code EJSONPARSE");
    const g = await failure("FROM node:20-bookworm-slim\nRUN npm cache clean\n");
    expect(g.output).toContain("with --force.");
  });

  it("npm install -g puts the package in /usr/local/lib/node_modules with its bin on PATH", async () => {
    const r = await build("FROM node:20-bookworm-slim\nRUN npm install -g nodemon\n", {});
    const layer = await lastLayer(r);
    expect(layer.get("usr/local/bin/nodemon")).toMatchObject({
      type: "symlink",
      linkname: "../lib/node_modules/nodemon/bin/nodemon.js",
    });
    expect(layer.get("usr/local/lib/node_modules/nodemon/bin/nodemon.js")?.mode).toBe(0o755);
    expect(layer.has("usr/local/lib/node_modules/nodemon/node_modules/chokidar/package.json")).toBe(true);
  });
});

describe("npm elsewhere", () => {
  it("is not found on debian:bookworm-slim, as in a container", async () => {
    const f = await failure("FROM debian:bookworm-slim\nRUN npm install\n");
    expect(f.message).toMatch(/exit code: 127/);
    expect(f.output).toContain("npm: command not found");
  });
});

describe("npm's formats", () => {
  it("prints npm's summary line", () => {
    expect(summaryLine(100, 0, 0, 2600)).toBe("added 100 packages in 3s");
    expect(summaryLine(1, 2, 0, 487)).toBe("added 1 package, and removed 2 packages in 487ms");
    expect(summaryLine(0, 0, 0, 100)).toBe("up to date in 100ms");
  });

  it("puts cached content where cacache does", () => {
    const real = recorded("express4", "npm ci");
    const express = npm.packages.express!.versions["4.22.3"]!;
    const path = `_cacache/${contentPath(express.lock.integrity)}`;
    expect(real.cache.find((c) => c[0] === path)?.[3]).toBe(express.tarballSize);
  });
});
