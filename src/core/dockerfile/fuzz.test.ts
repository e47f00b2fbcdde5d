// biome-ignore-all lint/style/noRestrictedImports: this test (Node only) reads seed Dockerfiles from disk.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text.
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conformanceDir } from "../../testdata/conformance.ts";
import { DockerfileError } from "../errors.ts";
import { diagnoseDockerfile } from "./diagnose.ts";
import { dumpAst, printDockerfile } from "./dump.ts";
import { buildStages } from "./instructions.ts";
import { lintDockerfile } from "./lint.ts";
import { type DockerfileAst, parseDockerfile } from "./parser.ts";
import { expandInstruction, resolveDockerfile } from "./resolve.ts";
import { envFromMap, expandWord, expandWords } from "./shell.ts";

/** Runs `fn`; anything thrown must be a DockerfileError. Returns the result or undefined. */
function onlyDockerfileErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DockerfileError) return undefined;
    throw e;
  }
}

/** The whole front end over one text: parse, stages, resolve, lint. */
function runAll(text: string): DockerfileAst | undefined {
  const ast = onlyDockerfileErrors(() => parseDockerfile(text));
  if (!ast) return undefined;
  lintDockerfile(ast);
  const staged = onlyDockerfileErrors(() => buildStages(ast));
  const resolved = staged && onlyDockerfileErrors(() => resolveDockerfile(staged, { buildArgs: { A: "1" } }));
  for (const stage of resolved?.stages ?? []) {
    for (const step of stage.steps)
      onlyDockerfileErrors(() => expandInstruction(step.instruction, step.env, ast.escapeToken));
  }
  diagnoseDockerfile(text);
  return ast;
}

const seeds = [
  ...["node-multistage", "debian-apt-chain", "windows-escape"].map((n) =>
    readFileSync(new URL(`./testdata/${n}.Dockerfile`, import.meta.url), "utf8"),
  ),
  'FROM a AS b\nARG X=${Y:-z}\nENV A=$X B=\'q\' C="${A#*}"\nCOPY --from=b <<EOF /x\nhi $A\nEOF\nRUN ["a"]\n',
  "ONBUILD RUN <<-E 3<<'F' cat\n\tx\n\tE\ny\nF\nHEALTHCHECK --retries=1 CMD [\"x\"]\nEXPOSE ${P:+1}\n",
];

/** Pieces that matter to the grammar, for mutation. */
const PIECES = [
  "\\",
  "`",
  "\\\n",
  "\n",
  "\r\n",
  "#",
  "# escape=`\n",
  '"',
  "'",
  "$",
  "${",
  "}",
  "${A:-",
  "${A#",
  "${A/",
  ":?",
  "<<",
  "<<-",
  "<<'E'",
  "[",
  "]",
  '["',
  ",",
  "=",
  " ",
  "\t",
  "--",
  "--from=",
  "--mount=",
  "FROM ",
  "RUN ",
  "COPY ",
  "ONBUILD ",
  "ENV ",
  "ARG ",
  "AS ",
  "\u00a0",
  "\u0085",
  "é",
  "😀",
  "\ufeff",
  "\0",
  "ADD ",
  "CMD ",
  "SHELL ",
  "HEALTHCHECK ",
  "EXPOSE ",
  "--interval=",
  "__proto__",
  "constructor",
];

const mutation = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 4 }),
  insert: fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 })),
});

function mutate(text: string, ms: { at: number; del: number; insert: string }[]): string {
  let t = text;
  for (const m of ms) {
    const i = t.length === 0 ? 0 : m.at % (t.length + 1);
    t = t.slice(0, i) + m.insert + t.slice(i + m.del);
  }
  return t;
}

/**
 * Print → parse keeps the AST. Skipped where one physical line cannot carry the logical line: an
 * empty keyword (a lone escape at the end of the file) or a line ending in the escape token, which
 * would read back as a continuation.
 */
function assertRoundTrip(ast: DockerfileAst): void {
  const esc = ast.escapeToken;
  if (ast.instructions.some((n) => n.keyword === "" || n.original.replace(/[ \t]+$/, "").endsWith(esc)))
    return;
  const again = parseDockerfile(printDockerfile(ast));
  expect(dumpAst(again)).toBe(dumpAst(ast));
}

const conformance = conformanceDir();

describe("fuzz: the front end only ever throws DockerfileError", () => {
  it("keys that exist on every object are not instructions or units", () => {
    expect(parseDockerfile("__proto__ x\nconstructor y\n").instructions.map((n) => n.args)).toEqual([
      [""],
      [""],
    ]);
    expect(() => buildStages(parseDockerfile("FROM a\nHEALTHCHECK --interval=1constructor CMD x\n"))).toThrow(
      DockerfileError,
    );
  });

  it("random text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
        runAll(s);
      }),
      { numRuns: 400 },
    );
  });

  it("random lines built from grammar pieces", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES, "x", "a=b", "/p"), { maxLength: 60 }), (parts) => {
        const ast = runAll(parts.join(""));
        if (ast) assertRoundTrip(ast);
      }),
      { numRuns: 400 },
    );
  });

  it("mutated real Dockerfiles; where they still parse, print → parse gives the same dump", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, ms) => {
          const ast = runAll(mutate(seed, ms));
          if (ast) assertRoundTrip(ast);
        },
      ),
      { numRuns: 500 },
    );
  });

  // Skipped without BuildKit's data (see src/testdata/conformance.ts).
  it.skipIf(!conformance)("every conformance Dockerfile round-trips through printDockerfile", () => {
    const dir = `${conformance}/parser/testfiles`;
    for (const name of readdirSync(dir)) {
      assertRoundTrip(parseDockerfile(readFileSync(`${dir}/${name}/Dockerfile`, "utf8")));
    }
  });
});

describe("fuzz: the shell lexer", () => {
  const env = envFromMap({ A: "a b  c", E: "", P: "/usr/local/bin", S: "*?\\" });
  const word = fc.array(
    fc.constantFrom(
      "$",
      "{",
      "}",
      "A",
      "E",
      "P",
      "S",
      "X",
      ":",
      "-",
      "+",
      "?",
      "#",
      "%",
      "/",
      "*",
      "\\",
      "'",
      '"',
      " ",
      "x",
      "\n",
      "é",
    ),
    { maxLength: 40 },
  );
  it("never throws anything but DockerfileError, in either escape mode", () => {
    fc.assert(
      fc.property(word, fc.constantFrom("\\", "`"), (parts, esc) => {
        const s = parts.join("");
        onlyDockerfileErrors(() => expandWord(s, env, { escapeToken: esc }));
        onlyDockerfileErrors(() => expandWords(s, env, { escapeToken: esc, rawQuotes: true }));
        onlyDockerfileErrors(() => expandWords(s, env, { skipUnsetEnv: true, rawEscapes: true }));
      }),
      { numRuns: 1000 },
    );
  });
  it("text without $, quotes, escapes or spaces is left as it is", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        const plain = s.replace(
          /[$'"\\\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/g,
          "",
        );
        expect(expandWord(plain, env)).toBe(plain);
        expect(expandWords(plain, env)).toEqual(plain === "" ? [] : [plain]);
      }),
    );
  });
  it("pattern removal stays linear on pathological globs", () => {
    const big = envFromMap({ V: "a".repeat(20000) });
    expect(expandWord("${V##*a*a*a*a*a*a*a*a*a*b}", big)).toBe("a".repeat(20000));
    expect(expandWord("${V//a*a*a*a*a*a*b/x}", big)).toBe("a".repeat(20000));
    expect(expandWord("${V%%a*a}", big)).toBe("");
  });
});
