import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildIdealTree,
  compareVersions,
  hiddenLockfileText,
  isTag,
  isValidRange,
  isValidSpec,
  lockfileText,
  meetsSpec,
  type NpmCatalog,
  omitted,
  parseNpmCatalog,
  pickVersion,
  type RootManifest,
  resolveFrom,
  satisfies,
  treeNodes,
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
    // The forms npm documents, read by npm's own semver.
    ["1.9.0", "^1.2.3", true],
    ["2.0.0", "^1.2.3", false],
    ["1.2.2", "^1.2.3", false],
    ["1.2.9", "~1.2", true],
    ["1.3.0", "~1.2", false],
    ["1.99.0", "1.x", true],
    ["2.0.0", "1.x", false],
    ["1.5.0", ">=1 <2", true],
    ["2.0.0", ">=1 <2", false],
    ["0.9.9", ">=1 <2", false],
    ["0.0.1", "*", true],
    ["3.1.4", "", true],
    // Prereleases: only a range naming a prerelease of the same major.minor.patch admits one.
    ["1.0.0-rc.1", "*", false],
    ["1.0.0-rc.1", ">=1.0.0-rc.0", true],
    ["1.0.0-rc.1", "^1.0.0-rc.0", true],
    ["1.0.1-rc.1", "^1.0.0-rc.0", false],
    ["1.0.0", "^1.0.0-rc.0", true],
    ["2.0.0-beta.1", "1.x || >=2.0.0-beta.0", true],
    // A tag is not a range: nothing satisfies "latest" as a range.
    ["1.0.0", "latest", false],
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
    expect(isValidRange("latest")).toBe(false);
    expect(isValidSpec("latest")).toBe(true);
    expect(isValidSpec("github:expressjs/express")).toBe(false);
    expect(isValidSpec("./local-dir")).toBe(false);
  });

  it("tells tags from ranges as npm-package-arg does", () => {
    for (const tag of ["latest", "next", "beta", "legacy-4"]) expect(isTag(tag), tag).toBe(true);
    for (const range of ["^1.2.3", "~1.2", "1.x", ">=1 <2", "*", "", "1.2.3", "1.0.0 - 1.2"])
      expect(isTag(range), range).toBe(false);
    expect(isTag("a b")).toBe(false);
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

describe("picking a version for a spec", () => {
  const lock = { version: "", resolved: "", integrity: "sha512-x" };
  const version = (v: string) => ({ lock: { ...lock, version: v }, tarballSize: 1, files: [], texts: {} });
  const catalog = {
    packages: {
      pkg: {
        versions: Object.fromEntries(
          ["1.0.0", "1.2.3", "1.4.0", "2.0.0", "2.1.0-beta.1", "3.0.0-rc.1"].map((v) => [v, version(v)]),
        ),
        latest: "1.4.0",
        distTags: { next: "2.1.0-beta.1" },
      },
      untagged: { versions: { "1.0.0": version("1.0.0") }, latest: "1.0.0" },
    },
  } as unknown as NpmCatalog;

  it.each([
    ["^1.2.3", "1.4.0"], // dist-tags.latest satisfies: npm prefers it
    ["~1.2", "1.2.3"],
    ["1.x", "1.4.0"],
    [">=1 <2", "1.4.0"],
    ["^2", "2.0.0"], // latest does not satisfy: the highest that does, never a prerelease
    ["*", "1.4.0"],
    ["", "1.4.0"],
    [">=2.1.0-beta.0", "2.1.0-beta.1"],
    ["latest", "1.4.0"], // tags resolve through dist-tags
    ["next", "2.1.0-beta.1"],
    ["1.0.0", "1.0.0"],
    ["^4", undefined],
    ["nope", undefined], // a tag the registry does not have
  ])("%s picks %s", (spec, want) => {
    expect(pickVersion(catalog, "pkg", spec)).toBe(want);
  });

  it("counts a tag's edge as met only by the version the tag points at", () => {
    expect(meetsSpec(catalog, "pkg", "2.1.0-beta.1", "next")).toBe(true);
    expect(meetsSpec(catalog, "pkg", "1.4.0", "next")).toBe(false);
    expect(meetsSpec(catalog, "pkg", "1.4.0", "latest")).toBe(true);
    expect(meetsSpec(catalog, "untagged", "1.0.0", "next")).toBe(false);
    expect(meetsSpec(catalog, "pkg", "1.2.3", "^1")).toBe(true);
  });
});

describe("a lockfile as the starting tree", () => {
  it("keeps a lockfile that satisfies package.json as it is, and replaces what no longer does", () => {
    const r = run("express4", "npm install");
    const pkg = JSON.parse(r.packageJson!) as RootManifest;
    const locked = JSON.parse(r.lockfile!).packages;
    const same = buildIdealTree(npm, pkg, locked);
    expect(same.fromLock).toBe(true);
    expect(same.resolved).toEqual([]);
    expect(lockfileText(same.root, pkg, npm)).toBe(r.lockfile);

    // express ^4 -> ^5 with the old lockfile: express 4's own dependencies go, 5's take the top level.
    const next: RootManifest = { ...pkg, dependencies: { ...pkg.dependencies, express: "^5.1.0" } };
    const moved = buildIdealTree(npm, next, locked);
    expect(moved.fromLock).toBe(false);
    expect(moved.resolved).toContain("express");
    expect(moved.root.children.get("express")?.version).toBe("5.3.0");
    expect(moved.root.children.get("accepts")?.version).toBe("2.0.0");
    // express 4's array-flatten is gone; nothing is left nested under express.
    expect(moved.root.children.has("array-flatten")).toBe(false);
    expect(moved.root.children.get("express")?.children.size).toBe(0);
    // Every dependency of every package resolves to a version that satisfies it.
    for (const n of [moved.root, ...treeNodes(moved.root)]) {
      const lock = n.location === "" ? next : npm.packages[n.name]!.versions[n.version]!.lock;
      for (const [name, range] of Object.entries({ ...next.devDependencies, ...lock.dependencies })) {
        if (n.location !== "" && !lock.dependencies?.[name]) continue;
        expect(satisfies(resolveFrom(n, name)!.version, range), `${n.location} -> ${name}@${range}`).toBe(
          true,
        );
      }
    }
  });
});
