// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell words, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.ts";
import { emptyEnv, envFromMap, expandWord, expandWords, lexWord } from "./shell.ts";

const env = envFromMap({ FILE: "/a/b/c.tar.gz", V: "a-b-c", NL: "x\ny", E: "", S: "a b" });

describe("pattern operators", () => {
  it.each([
    ["${FILE#*/}", "a/b/c.tar.gz"],
    ["${FILE##*/}", "c.tar.gz"],
    ["${FILE%.*}", "/a/b/c.tar"],
    ["${FILE%%.*}", "/a/b/c"],
    ["${FILE#/a}", "/b/c.tar.gz"],
    ["${FILE#x}", "/a/b/c.tar.gz"],
    ["${FILE%\\*}", "/a/b/c.tar.gz"],
    ["${V/-/_}", "a_b-c"],
    ["${V//-/_}", "a_b_c"],
    ["${V//?/y}", "yyyyy"],
    ["${V/b*/}", "a-"],
    ["${UNSET/a/b}", ""],
    ["${NL#*}", "x\ny"],
    ["${NL##*}", "\ny"],
  ])("%s → %s", (word, want) => {
    expect(expandWord(word, env)).toBe(want);
  });
  it("replace-all expands $0 in the replacement as Go's regexp does", () => {
    expect(expandWord("${V//-/\\$0\\$0}", env)).toBe("a\\-\\-b\\-\\-c");
    expect(expandWord("${V/-/\\$0}", env)).toBe("a\\$0b-c");
  });
  it("a replacement without its closing slash is an error", () => {
    expect(() => expandWord("${V//}", env)).toThrow(/missing '\/'/);
  });
  it("an invalid escape in a pattern is an error", () => {
    expect(() => expandWord("${V#\\a}", env)).toThrow(DockerfileError);
  });
  it("`:#` and `:%` are not modifiers", () => {
    expect(() => expandWord("${V:#a}", env)).toThrow(/unsupported modifier/);
    expect(() => expandWord("${V:%a}", env)).toThrow(/unsupported modifier/);
  });
});

describe("options", () => {
  it("the backtick escape token", () => {
    expect(expandWord("C:\\dir `$V", env, { escapeToken: "`" })).toBe("C:\\dir $V");
    expect(expandWords("a` b c", env, { escapeToken: "`" })).toEqual(["a b", "c"]);
  });
  it("skipUnsetEnv leaves unset references as written", () => {
    expect(expandWord("$NOPE ${NOPE} ${NOPE:-x} $V", env, { skipUnsetEnv: true })).toBe(
      "$NOPE ${NOPE} ${NOPE:-x} a-b-c",
    );
  });
  it("rawQuotes and rawEscapes keep what they say", () => {
    expect(expandWord("'a' \"b\" \\c", env, { rawQuotes: true, rawEscapes: true })).toBe("'a' \"b\" \\c");
  });
  it("skipProcessQuotes makes quotes ordinary (heredoc bodies)", () => {
    expect(expandWord("'$V' \"$V\"", env, { skipProcessQuotes: true })).toBe("'a-b-c' \"a-b-c\"");
  });
  it("reports matched and unmatched names; guarded references are not unmatched", () => {
    const r = lexWord("$V $NOPE ${GUARD:-x} ${E:+y}", env);
    expect([...r.matched]).toEqual(["V", "E"]);
    expect([...r.unmatched]).toEqual(["NOPE"]);
  });
  it("word splitting keeps the text before a nested expansion (upstream drops it)", () => {
    expect(expandWords("x${NOPE:-y} z", emptyEnv)).toEqual(["xy", "z"]);
    expect(expandWords('$S"$S"', env)).toEqual(["a", "ba b"]);
  });
  it("deep nesting is a DockerfileError, not a stack overflow", () => {
    const deep = (n: number) => `${"${a:-".repeat(n)}x${"}".repeat(n)}`;
    expect(expandWord(deep(300), emptyEnv)).toBe("x");
    expect(() => expandWord(deep(20000), emptyEnv)).toThrow(/nested more than 400 deep/);
  });
  it("errors carry the given range", () => {
    const at = { start: { line: 7, column: 3 }, end: { line: 7, column: 9 } };
    try {
      expandWord("${X:?gone}", emptyEnv, { at });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileError);
      expect((e as DockerfileError).range).toEqual(at);
      expect((e as DockerfileError).message).toMatch(/X: gone/);
    }
  });
});
