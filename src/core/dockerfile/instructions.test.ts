// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.ts";
import { buildStages, editDistance, parseGoDuration } from "./instructions.ts";
import { parseDockerfile } from "./parser.ts";

const stages = (src: string) => buildStages(parseDockerfile(src));

function errorOf(src: string): DockerfileError {
  try {
    stages(src);
  } catch (e) {
    if (e instanceof DockerfileError) return e;
    throw e;
  }
  throw new Error("expected a DockerfileError");
}

describe("stages", () => {
  it("groups a multi-stage build, with global ARGs before the first FROM", () => {
    const df = stages(
      [
        "ARG GO=1.22",
        "FROM golang:${GO} AS Build",
        "WORKDIR /src",
        "COPY --from=deps --chown=1000:1000 go.mod go.sum ./",
        "RUN --mount=type=cache,target=/root/.cache go build -o /out/app ./...",
        "FROM scratch",
        "COPY --from=build /out/app /app",
        'ENTRYPOINT ["/app"]',
        "",
      ].join("\n"),
    );
    expect(df.metaArgs.map((a) => a.args)).toEqual([[{ key: "GO", value: "1.22" }]]);
    expect(df.stages.map((s) => [s.index, s.name, s.id, s.from.baseName])).toEqual([
      [0, "build", "build", "golang:${GO}"],
      [1, undefined, "stage-1", "scratch"],
    ]);
    const [workdir, copy, run] = df.stages[0]!.instructions;
    expect(workdir).toMatchObject({ kind: "workdir", path: "/src" });
    expect(copy).toMatchObject({
      kind: "copy",
      from: "deps",
      chown: "1000:1000",
      sources: ["go.mod", "go.sum"],
      dest: "./",
      link: false,
    });
    expect(run).toMatchObject({
      kind: "run",
      prependShell: true,
      cmdLine: ["go build -o /out/app ./..."],
      mounts: ["type=cache,target=/root/.cache"],
    });
    expect(df.stages[1]!.instructions[1]).toMatchObject({
      kind: "entrypoint",
      prependShell: false,
      cmdLine: ["/app"],
    });
    expect(df.stages[0]!.range).toEqual({ start: { line: 2, column: 1 }, end: { line: 5, column: 70 } });
  });

  it("keeps words raw for deferred expansion", () => {
    const df = stages('FROM a\nENV A=1 B="$A x"\nCOPY $SRC /d/\nRUN echo $HOME\n');
    expect(df.stages[0]!.instructions[0]).toMatchObject({
      kind: "env",
      pairs: [
        { key: "A", value: "1", legacyForm: false },
        { key: "B", value: '"$A x"', legacyForm: false },
      ],
    });
    expect(df.stages[0]!.instructions[1]).toMatchObject({ sources: ["$SRC"], dest: "/d/" });
    expect(df.stages[0]!.instructions[2]).toMatchObject({ cmdLine: ["echo $HOME"] });
  });

  it("only ARG may come before FROM; a file without FROM has no stages", () => {
    expect(errorOf("RUN x\nFROM a\n").message).toMatch(/no build stage in current context/);
    expect(errorOf("ARG a=1\n").message).toMatch(/no stages to build/);
  });

  it("heredoc sources of COPY, chomped for <<-", () => {
    const df = stages("FROM a\nCOPY <<-EOF <<'RAW' /dest/\n\thello $X\nEOF\n$Y\nRAW\n");
    expect(df.stages[0]!.instructions[0]).toMatchObject({
      kind: "copy",
      sources: [],
      heredocSources: [
        { name: "EOF", data: "hello $X\n", expand: true },
        { name: "RAW", data: "$Y\n", expand: false },
      ],
      dest: "/dest/",
    });
  });

  it("HEALTHCHECK CMD shell form becomes CMD-SHELL; durations parse as Go does", () => {
    const df = stages("FROM a\nHEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://x/ || exit 1\n");
    expect(df.stages[0]!.instructions[0]).toMatchObject({
      kind: "healthcheck",
      test: ["CMD-SHELL", "curl -f http://x/ || exit 1"],
      intervalNs: 90e9,
      retries: 3,
    });
    expect(parseGoDuration("1.5h")).toBe(5400e9);
    expect(parseGoDuration("300ms")).toBe(300e6);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("5")).toBeUndefined();
  });
});

describe("errors with line, column and suggestion", () => {
  it("unknown instruction suggests the closest keyword", () => {
    const e = errorOf("FROM a\n  COPPY x /y\n");
    expect(e.message).toBe("line 2, column 3: unknown instruction: COPPY (did you mean COPY?)");
    expect(e.suggestion).toBe("COPY");
    expect(e.range.start).toEqual({ line: 2, column: 3 });
  });
  it("unknown flag points at the flag and suggests one", () => {
    const e = errorOf("FROM a\nCOPY --chwon=1 a b\n");
    expect(e.message).toMatch(/unknown flag: --chwon/);
    expect(e.suggestion).toBe("--chown");
    expect(e.range.start).toEqual({ line: 2, column: 6 });
  });
  it.each([
    ["COPY --link=maybe a b", /expecting boolean value for flag --link, not: maybe/],
    ["COPY --link= a b", /missing a value on flag: --link/],
    ["COPY --from a b", /missing a value on flag: --from/],
    ["COPY --from=x --from=y a b", /duplicate flag specified: --from/],
    ["ENV --x=1 a=b", /unknown flag: --x/],
    ["COPY onlyone", /requires at least two arguments/],
    ["FROM a b", /FROM requires either one or three arguments/],
    ["FROM a AS 1bad", /invalid name for build stage/],
    ["ONBUILD FROM x", /FROM isn't allowed as an ONBUILD trigger/],
    ["ONBUILD ONBUILD RUN x", /Chaining ONBUILD/],
    ["SHELL /bin/bash -c", /SHELL requires the arguments to be in JSON form/],
    ["HEALTHCHECK NONE x", /HEALTHCHECK NONE takes no arguments/],
    ["HEALTHCHECK --interval=10us CMD x", /cannot be less than 1ms/],
    ["HEALTHCHECK CMD", /Missing command after HEALTHCHECK CMD/],
    ["WORKDIR", /WORKDIR requires exactly one argument/],
    ["ARG =x", /ARG names can not be blank/],
    ["RUN --network=bogus x", /unsupported network mode/],
  ])("%s", (line, re) => {
    const e = errorOf(`FROM a\n${line}\n`);
    expect(e.message).toMatch(re);
    expect(e.range.start.line).toBe(2);
  });
  it("a bad flag on a continuation line is placed on that line", () => {
    const e = errorOf("FROM a\nCOPY --link \\\n    --chmod=644 \\\n  --bogus=1 a b\n");
    expect(e.range).toEqual({ start: { line: 4, column: 3 }, end: { line: 4, column: 10 } });
  });
  it("FROM x as-typo suggests AS", () => {
    expect(errorOf("FROM a AZ b\n").suggestion).toBe("AS");
  });
  it("booleans accept bare, =true and =false in any case", () => {
    const df = stages("FROM a\nCOPY --link --parents=FALSE a b\nADD --keep-git-dir=True x y\n");
    expect(df.stages[0]!.instructions[0]).toMatchObject({ link: true, parents: false });
    expect(df.stages[0]!.instructions[1]).toMatchObject({ keepGitDir: true, unpack: undefined });
  });
  it("edit distance counts a transposition as one", () => {
    expect(editDistance("form", "from")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});
