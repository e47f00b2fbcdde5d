import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

const fixture = (name: string) => `src/core/dockerfile/testdata/${name}`;
const dir = mkdtempSync(join(tmpdir(), "layerlab-parse-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("layerlab parse", () => {
  it("--dump prints BuildKit's s-expressions", async () => {
    const r = await cli(
      "parse",
      "--dump",
      write("a.Dockerfile", "FROM alpine AS build\nCOPY --from=x a b\nCMD []\n"),
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe('(from "alpine" "AS" "build")\n(copy ["--from=x"] "a" "b")\n(cmd)\n');
  });

  it("--dump with several files heads each with ==> FILE <==", async () => {
    const a = write("one", "FROM a\n");
    const b = write("two", "FROM b\nRUN x\n");
    const r = await cli("parse", "--dump", a, b);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`==> ${a} <==\n(from "a")\n==> ${b} <==\n(from "b")\n(run "x")\n`);
  });

  it("without --dump summarises stages and instructions", async () => {
    const r = await cli("parse", fixture("node-multistage.Dockerfile"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("node-multistage.Dockerfile: 3 stages, 18 instructions, escape \\");
    expect(r.out).toContain("stage 1 build: FROM deps");
    expect(r.out).toMatch(/global ARGs:\n {2}3 +ARG +NODE_VERSION=20.11\n/);
    expect(r.out).toMatch(/ {2}9-10 +RUN +--mount=type=cache,target=\/root\/.npm npm ci --omit=dev\n/);
  });

  it("an error prints the file, line and column and exits 1", async () => {
    const f = write("bad.Dockerfile", "FROM a\n  COPPY x y\n");
    const r = await cli("parse", f);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${f}:2:3: error: unknown instruction: COPPY (did you mean COPY?)\n`);
  });

  it("a parse error under --dump also exits 1 with its location", async () => {
    const f = write("heredoc.Dockerfile", "FROM a\nRUN <<EOF\necho\n");
    const r = await cli("parse", "--dump", f);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:1: error: unterminated heredoc`),
    );
  });

  it("--lint prints findings with rule names", async () => {
    const r = await cli(
      "parse",
      "--lint",
      write("l.Dockerfile", "FROM a as Build\nMAINTAINER me\nCMD run\n"),
    );
    expect(r.code).toBe(0);
    expect(
      r.out
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^.*?:(\d+:\d+): /, "$1 ")),
    ).toEqual([
      "1:1 warning StageNameCasing: Stage name 'Build' should be lowercase",
      "1:1 warning FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
      "2:1 warning MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
      "3:1 warning JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
    ]);
  });

  it("a missing file is reported and exits 1; no file is a usage error", async () => {
    const r = await cli("parse", join(dir, "nope"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nope: cannot read/);
    expect((await cli("parse")).code).toBe(2);
  });
});
