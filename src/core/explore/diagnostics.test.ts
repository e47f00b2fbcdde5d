import { describe, expect, it } from "vitest";
import { editorDiagnostics as diagnoseDockerfile } from "./diagnostics.ts";

describe("Dockerfile diagnostics for the editor", () => {
  it("the product's example is clean", () => {
    expect(
      diagnoseDockerfile(
        "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n",
      ),
    ).toEqual([]);
  });
  it("an unknown instruction is an error at its line with a suggestion", () => {
    const d = diagnoseDockerfile("FROM scratch\nCOPPY a /b\n");
    expect(d[0]).toMatchObject({ severity: "error" });
    expect(d[0]!.range.start.line).toBe(2);
    expect(d[0]!.message).toMatch(/^unknown instruction: COPPY \(did you mean COPY\?\)$/i);
  });
  it("an empty continuation line is reported once", () => {
    const d = diagnoseDockerfile("FROM scratch\nRUN echo a \\\n\n  b\n");
    expect(d.filter((x) => x.source === "NoEmptyContinuation")).toHaveLength(1);
  });
  it("lint findings are warnings with their rule", () => {
    const d = diagnoseDockerfile("FROM scratch AS Build\nMAINTAINER me\nCMD echo hi\n");
    const rules = d.map((x) => x.source);
    expect(rules).toEqual(
      expect.arrayContaining(["StageNameCasing", "MaintainerDeprecated", "JSONArgsRecommended"]),
    );
    expect(d.every((x) => x.severity === "warning")).toBe(true);
    const cmd = d.find((x) => x.source === "JSONArgsRecommended")!;
    expect(cmd.range.start.line).toBe(3);
  });
});
