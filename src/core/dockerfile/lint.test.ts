// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { lintDockerfile } from "./lint.ts";
import { parseDockerfile } from "./parser.ts";

const lint = (src: string, opts?: Parameters<typeof lintDockerfile>[1]) =>
  lintDockerfile(parseDockerfile(src), opts);
const rules = (src: string) => lint(src).map((f) => `${f.range.start.line}:${f.rule}`);

describe("lint rules (BuildKit names)", () => {
  it("JSONArgsRecommended for shell-form CMD and ENTRYPOINT, not after SHELL", () => {
    const f = lint('FROM a\nCMD node app.js\nENTRYPOINT ["x"]\n');
    expect(f).toMatchObject([
      {
        rule: "JSONArgsRecommended",
        message: "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
        range: { start: { line: 2, column: 1 } },
        severity: "warning",
        url: "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
      },
    ]);
    expect(rules('FROM a\nSHELL ["/bin/bash","-c"]\nCMD x\n')).toEqual([]);
  });
  it("StageNameCasing, FromAsCasing, DuplicateStageName, ReservedStageName", () => {
    expect(rules("FROM a AS Build\nFROM b as x\nfrom c AS y\nFROM d AS build\nFROM e AS scratch\n")).toEqual([
      "1:StageNameCasing",
      "2:FromAsCasing",
      "3:ConsistentInstructionCasing",
      "3:FromAsCasing",
      "4:DuplicateStageName",
      "5:ReservedStageName",
    ]);
  });
  it("MaintainerDeprecated and LegacyKeyValueFormat", () => {
    expect(rules("FROM a\nMAINTAINER me\nENV A b\nLABEL x=y\n")).toEqual([
      "2:MaintainerDeprecated",
      "3:LegacyKeyValueFormat",
    ]);
  });
  it("UndefinedVar with a suggestion; declared ARGs, ENV and guarded references are fine", () => {
    const f = lint("FROM a\nENV PATH=$PAHT:/x\nARG V\nCOPY app-$V.jar ${OPT:-x} /app/\nWORKDIR /$NOPE\n");
    expect(f.map((x) => x.message)).toEqual([
      "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
      "Usage of undefined variable '$NOPE'",
    ]);
    expect(lint("FROM a\nWORKDIR /$X\n", { buildArgs: { X: "1" } })).toEqual([]);
  });
  it("WorkdirRelativePath only before an absolute WORKDIR", () => {
    expect(rules("FROM a\nWORKDIR app\nWORKDIR /srv\nWORKDIR sub\n")).toEqual(["2:WorkdirRelativePath"]);
    expect(
      rules("FROM a AS x\nWORKDIR /srv\nFROM x\nWORKDIR sub\nFROM a AS y\nFROM y\nWORKDIR rel\n"),
    ).toEqual(["7:WorkdirRelativePath"]);
  });
  it("MultipleInstructionsDisallowed, NoEmptyContinuation, UndefinedArgInFrom", () => {
    expect(rules('FROM a\nCMD ["a"]\nCMD ["b"]\nRUN x \\\n\n y\nFROM $BASE\n')).toEqual([
      "2:MultipleInstructionsDisallowed",
      "4:NoEmptyContinuation",
      "7:UndefinedArgInFrom",
    ]);
  });
  it("SecretsUsedInArgOrEnv and ExposeProtoCasing", () => {
    expect(
      rules(
        "FROM a\nARG GITHUB_TOKEN\nENV PUBLIC_KEY=x DB_PASSWORD=y\nARG KEYBOARD=us\nEXPOSE 80/TCP 53/udp\n",
      ),
    ).toEqual(["2:SecretsUsedInArgOrEnv", "3:SecretsUsedInArgOrEnv", "5:ExposeProtoCasing"]);
  });
  it("# check=skip=... and error=true", () => {
    const f = lint("# check=skip=JSONArgsRecommended;error=true\nFROM a\nCMD x\nMAINTAINER m\n");
    expect(f.map((x) => [x.rule, x.severity])).toEqual([["MaintainerDeprecated", "error"]]);
  });
  it("an instruction that fails to type-check is skipped, not thrown", () => {
    expect(rules("FROM a\nCOPPY x y\nCMD x\n")).toEqual(["3:JSONArgsRecommended"]);
  });
});
