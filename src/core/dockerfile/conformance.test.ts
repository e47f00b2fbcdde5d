// biome-ignore-all lint/style/noRestrictedImports: this test (Node only) reads BuildKit's data files in place.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { conformanceDir } from "../../testdata/conformance.ts";
import { DockerfileError } from "../errors.ts";
import { SKIPPED_CONFORMANCE_CASES } from "./conformance-skips.ts";
import { dumpAst } from "./dump.ts";
import { parseDockerfile } from "./parser.ts";
import { envFromMap, envFromPairs, expandWord, expandWords } from "./shell.ts";

// Without the data (a fresh clone before `npm run conformance:get`) every suite here is skipped.
const dir = conformanceDir();

/** envVarTest: `PLATFORM | SOURCE | EXPECTED`, run against the environment SOURCE.md describes. */
function envVarCases() {
  if (!dir) return [];
  const text = readFileSync(`${dir}/shell/envVarTest`, "utf8");
  const cases: { line: number; platform: string; source: string; expected: string }[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.startsWith("#")) return;
    const line = raw.trim();
    if (line === "") return;
    const fields = line.split("|");
    if (fields.length !== 3) throw new Error(`envVarTest line ${i + 1}: expected 3 fields`);
    const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
    cases.push({ line: i + 1, platform, source, expected });
  });
  return cases;
}

/** wordsTest: ENV lines accumulate; `INPUT | EXPECTED` lines compare the word list. */
function wordsCases() {
  if (!dir) return [];
  const text = readFileSync(`${dir}/shell/wordsTest`, "utf8");
  const env: string[] = [];
  const cases: { line: number; input: string; expected: string[] | "error"; env: string[] }[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, i) => {
    if (raw.startsWith("#")) return;
    if (raw.startsWith("ENV ")) {
      env.push(raw.slice(3).replace(/^ +/, ""));
      return;
    }
    const fields = raw.split("|");
    if (fields.length !== 2) throw new Error(`wordsTest line ${i + 1}: expected one |`);
    const input = fields[0]!.trim();
    const want = fields[1]!.replace(/^ +/, "");
    cases.push({ line: i + 1, input, expected: want === "error" ? "error" : want.split(","), env: [...env] });
  });
  return cases;
}

const env = envFromMap({ PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" });

describe.skipIf(!dir)("BuildKit shell/envVarTest (ProcessWord)", () => {
  const cases = envVarCases();
  it("has every line of the data file", () => {
    expect(cases.length).toBe(230);
    expect(cases.filter((c) => c.platform !== "W").length).toBe(228);
  });
  for (const c of cases) {
    if (c.platform === "W") {
      expect(SKIPPED_CONFORMANCE_CASES.some((s) => s.case === `W|${c.source}`)).toBe(true);
      continue;
    }
    it(`line ${c.line}: ${c.source}`, () => {
      if (c.expected === "error") expect(() => expandWord(c.source, env)).toThrow();
      else expect(expandWord(c.source, env)).toBe(c.expected);
    });
  }
});

describe.skipIf(!dir)("BuildKit shell/wordsTest (ProcessWords)", () => {
  const cases = wordsCases();
  it("has every case of the data file", () => {
    expect(cases.length).toBe(24);
  });
  for (const c of cases) {
    it(`line ${c.line}: ${c.input}`, () => {
      const e = envFromPairs(c.env);
      if (c.expected === "error") expect(() => expandWords(c.input, e)).toThrow();
      else expect(expandWords(c.input, e)).toEqual(c.expected);
    });
  }
});

describe.skipIf(!dir)("BuildKit parser/testfiles: parse, dump, compare byte for byte", () => {
  const root = `${dir}/parser/testfiles`;
  const names = dir ? readdirSync(root).sort() : [];
  it("finds all 33 cases", () => expect(names.length).toBe(33));
  for (const name of names) {
    it(name, () => {
      const input = readFileSync(`${root}/${name}/Dockerfile`);
      const expected = readFileSync(`${root}/${name}/result`, "utf8");
      expect(dumpAst(parseDockerfile(new Uint8Array(input)))).toBe(expected);
    });
  }
});

describe.skipIf(!dir)("BuildKit parser/testfiles-negative: parsing fails with a DockerfileError", () => {
  const root = `${dir}/parser/testfiles-negative`;
  const names = dir ? readdirSync(root).sort() : [];
  it("finds all 4 cases", () => expect(names.length).toBe(4));
  for (const name of names) {
    it(name, () => {
      const input = readFileSync(`${root}/${name}/Dockerfile`);
      expect(() => parseDockerfile(new Uint8Array(input))).toThrow(DockerfileError);
    });
  }
});

describe.skipIf(!dir)("BuildKit parser/testfile-line: line numbers", () => {
  it("spans lines 5-31 with instructions at (5,5), (11,12), (17,31)", () => {
    const ast = parseDockerfile(new Uint8Array(readFileSync(`${dir}/parser/testfile-line/Dockerfile`)));
    expect(ast.range.start.line).toBe(5);
    expect(ast.range.end.line).toBe(31);
    expect(ast.instructions.map((n) => [n.range.start.line, n.range.end.line])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});
