import { describe, expect, it } from "vitest";
import { parseNpmArgs, splitSpec } from "./args.ts";

const env = (vars: Record<string, string> = {}) => new Map(Object.entries(vars));

describe("parseNpmArgs", () => {
  it("reads the verb, its words and npm's short and long options", () => {
    const a = parseNpmArgs(["install", "-D", "--save-exact", "left-pad", "express@^4"], env());
    expect(a).toMatchObject({
      verb: "install",
      words: ["left-pad", "express@^4"],
      saveDev: true,
      saveExact: true,
    });
    expect(parseNpmArgs(["i", "-g", "-f", "-q"], env())).toMatchObject({
      global: true,
      force: true,
      silent: true,
    });
  });

  it("omits dev dependencies under NODE_ENV=production unless --include=dev says otherwise", () => {
    expect([...parseNpmArgs(["ci"], env({ NODE_ENV: "production" })).omit]).toEqual(["dev"]);
    expect([...parseNpmArgs(["ci", "--include=dev"], env({ NODE_ENV: "production" })).omit]).toEqual([]);
    expect([...parseNpmArgs(["ci", "--omit", "optional"], env()).omit]).toEqual(["optional"]);
  });

  it("takes the deprecated --production and --only=prod with npm's warnings", () => {
    const prod = parseNpmArgs(["install", "--production"], env());
    expect([...prod.omit]).toEqual(["dev"]);
    expect(prod.warnings).toEqual(["npm warn config production Use `--omit=dev` instead.\n"]);
    expect([...parseNpmArgs(["install", "--only=prod"], env()).omit]).toEqual(["dev"]);
  });

  it("skips the values of options that take one, and ignores unknown options", () => {
    const a = parseNpmArgs(["--prefix", "/x", "install", "--cache=/c", "--frobnicate", "pkg"], env());
    expect(a).toMatchObject({ verb: "install", words: ["pkg"] });
    expect(parseNpmArgs(["--loglevel", "error", "ls"], env())).toMatchObject({ verb: "ls", silent: true });
    expect(parseNpmArgs(["-v"], env())).toMatchObject({ verb: undefined, version: true });
  });
});

describe("splitSpec", () => {
  it.each([
    ["express", "express", undefined],
    ["express@^4.21.2", "express", "^4.21.2"],
    ["express@latest", "express", "latest"],
    ["@types/node", "@types/node", undefined],
    ["@types/node@20", "@types/node", "20"],
    ["pkg@", "pkg", ""],
  ])("%s is %s at %s", (spec, name, range) => {
    expect(splitSpec(spec)).toEqual({ name, range });
  });
});
