import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildIdealTree,
  compareVersions,
  hiddenLockfileText,
  isValidRange,
  lockfileText,
  type NpmCatalog,
  omitted,
  parseNpmCatalog,
  type RootManifest,
  satisfies,
} from "./npm.ts";

let npm: NpmCatalog;

beforeAll(() => {
  npm = parseNpmCatalog(
    new Uint8Array(readFileSync(new URL("../../../public/catalog/npm.json.gz", import.meta.url))),
  );
});

const run = (example: string, command: string) => {
  const r = npm.examples.find((e) => e.name === example)?.runs.find((x) => x.command === command);
  if (!r) throw new Error(`no recorded run ${example} ${command}`);
  return r;
};

describe("npm's tree and lockfile over the real catalog", () => {
  for (const [example, command] of [
    ["express4", "npm install"],
    ["express5", "npm install"],
    ["express5", "npm install left-pad"],
  ] as const) {
    it(`writes exactly the package-lock.json real npm 10.8.2 wrote for ${example}: ${command}`, () => {
      const r = run(example, command);
      const pkg = JSON.parse(r.packageJson!) as RootManifest;
      const { root, missing } = buildIdealTree(npm, pkg);
      expect(missing).toEqual([]);
      expect(lockfileText(root, pkg, npm)).toBe(r.lockfile);
      expect(hiddenLockfileText(root, pkg, npm, (n) => !n.skipped)).toBe(r.hiddenLockfile);
    });
  }
});

describe("semver ranges as npm reads them", () => {
  it.each([
    ["4.22.3", "^4.21.2", true],
    ["5.3.0", "^4.21.2", false],
    ["0.5.2", "^0.5.0", true],
    ["0.6.0", "^0.5.0", false],
    ["0.0.3", "^0.0.2", false],
    ["2.1.35", "~2.1.34", true],
    ["2.2.0", "~2.1.34", false],
    ["1.3.8", "1.3.8", true],
    ["1.3.9", "1.3.x", true],
    ["4.4.3", "^4", true],
    ["2.6.9", ">= 2.0.0 < 3", true],
    ["3.0.0", ">=2.0.0 <3", false],
    ["1.2.3", "1.0.0 - 1.2", true],
    ["1.3.0", "1.0.0 - 1.2", false],
    ["2.0.0", "^1.0.0 || ^2.0.0", true],
    ["1.0.0-rc.1", "^1.0.0", false],
    ["1.18.0", "*", true],
  ])("%s satisfies %s: %s", (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it("orders versions and rejects ranges that are not ranges", () => {
    expect(["1.10.0", "1.2.0", "1.2.0-beta.2", "1.2.0-beta.10"].sort(compareVersions)).toEqual([
      "1.2.0-beta.2",
      "1.2.0-beta.10",
      "1.2.0",
      "1.10.0",
    ]);
    expect(isValidRange("^4.21.2")).toBe(true);
    expect(isValidRange("github:expressjs/express")).toBe(false);
  });

  it("leaves dev packages out with --omit=dev, and fsevents (darwin only) out everywhere", () => {
    const pkg = JSON.parse(run("express4", "npm install").packageJson!) as RootManifest;
    const { root } = buildIdealTree(npm, pkg);
    const all = [...root.children.values()];
    const kept = all.filter((n) => !omitted(n, new Set(["dev"])));
    expect(all.find((n) => n.name === "fsevents")?.skipped).toBe(true);
    expect(kept.some((n) => n.name === "nodemon")).toBe(false);
    expect(kept.some((n) => n.name === "express")).toBe(true);
  });
});
