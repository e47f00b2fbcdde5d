// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { diagnoseDockerfile } from "./diagnose.ts";

describe("diagnoseDockerfile (what the editor underlines)", () => {
  it("reports a parse error as an error diagnostic at its range, without throwing", () => {
    const d = diagnoseDockerfile("FROM a\nRUN <<EOF\nnever closed\n");
    expect(d.ast).toBeUndefined();
    expect(d.diagnostics).toMatchObject([
      { severity: "error", source: "syntax", range: { start: { line: 2 } } },
    ]);
    expect(d.diagnostics[0]!.message).toMatch(/^unterminated heredoc/);
  });
  it("reports an instruction error with its suggestion, and the lint findings before it", () => {
    const d = diagnoseDockerfile("FROM a\nMAINTAINER me\nCOPPY a b\n");
    expect(d.diagnostics.map((x) => [x.range.start.line, x.severity, x.source, x.suggestion])).toEqual([
      [2, "warning", "MaintainerDeprecated", undefined],
      [3, "error", "semantic", "COPY"],
    ]);
    expect(d.diagnostics[1]!.message).toBe("unknown instruction: COPPY");
  });
  it("reports unresolvable variables", () => {
    const d = diagnoseDockerfile("ARG B\nFROM ${B}\n");
    expect(d.diagnostics.at(-1)).toMatchObject({
      severity: "error",
      message: expect.stringMatching(/should not be blank/),
    });
    expect(d.stages?.stages).toHaveLength(1);
  });
  it("a clean file has no diagnostics", () => {
    expect(diagnoseDockerfile('FROM alpine\nCMD ["sh"]\n').diagnostics).toEqual([]);
  });
});
