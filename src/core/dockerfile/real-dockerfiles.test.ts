// biome-ignore-all lint/style/noRestrictedImports: this test (Node only) reads its fixtures from disk.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dumpAst, printDockerfile } from "./dump.ts";
import { buildStages } from "./instructions.ts";
import { lintDockerfile } from "./lint.ts";
import { parseDockerfile } from "./parser.ts";
import { expandInstruction, resolveDockerfile } from "./resolve.ts";

const read = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");

describe("a multi-stage Node.js build", () => {
  const ast = parseDockerfile(read("node-multistage.Dockerfile"));
  it("dumps as BuildKit does", () => {
    expect(dumpAst(ast)).toBe(
      [
        '(arg "NODE_VERSION=20.11")',
        '(arg "ALPINE=3.19")',
        '(from "node:${NODE_VERSION}-alpine${ALPINE}" "AS" "deps")',
        '(workdir "/app")',
        '(copy "package.json" "package-lock.json" "./")',
        '(run ["--mount=type=cache,target=/root/.npm"] "npm ci --omit=dev")',
        '(from "deps" "AS" "build")',
        '(copy ["--link"] "." ".")',
        '(run "npm run build     && rm -rf src")',
        '(from "node:${NODE_VERSION}-alpine${ALPINE}")',
        '(env "NODE_ENV" "production" "=" "PORT" "8080" "=")',
        '(workdir "/srv")',
        '(copy ["--from=deps" "--chown=node:node"] "/app/node_modules" "./node_modules")',
        '(copy ["--from=build" "--chown=node:node"] "/app/dist" "./dist")',
        '(user "node")',
        '(expose "$PORT")',
        '(healthcheck ["--interval=30s" "--timeout=3s"] "CMD" "node" "dist/health.js")',
        '(cmd "node" "dist/server.js")',
        "",
      ].join("\n"),
    );
    expect(ast.directives).toMatchObject([{ name: "syntax", value: "docker/dockerfile:1.7" }]);
  });
  it("has three stages; the second builds on the first; FROM expands global ARGs", () => {
    const staged = buildStages(ast);
    expect(staged.stages.map((s) => s.id)).toEqual(["deps", "build", "stage-2"]);
    const r = resolveDockerfile(staged, { buildArgs: { ALPINE: "3.20" } });
    expect(r.stages.map((s) => [s.baseName, s.baseStage])).toEqual([
      ["node:20.11-alpine3.20", undefined],
      ["deps", 0],
      ["node:20.11-alpine3.20", undefined],
    ]);
    const expose = r.stages[2]!.steps.find((s) => s.instruction.kind === "expose")!;
    expect(expandInstruction(expose.instruction, expose.env).list).toEqual(["8080"]);
  });
  it("lints clean", () => {
    expect(lintDockerfile(ast)).toEqual([]);
  });
});

describe("a long apt-get RUN chain with comments between continuation lines, and heredocs", () => {
  const ast = parseDockerfile(read("debian-apt-chain.Dockerfile"));
  it("joins the chain, drops the comments, and reads the heredocs", () => {
    expect(dumpAst(ast)).toBe(
      [
        '(from "debian:bookworm-slim")',
        '(label "org.opencontainers.image.title" "\\"tools\\"" "=" "org.opencontainers.image.source" "\\"https://example.com/tools\\"" "=")',
        '(run "set -eux;     apt-get update;     apt-get install -y --no-install-recommends         ca-certificates         curl         git         make;     rm -rf /var/lib/apt/lists/*")',
        '(run "<<EOF")',
        '(copy "<<-\'CONF\'" "/etc/app.conf")',
        '(entrypoint "exec /usr/bin/app --config /etc/app.conf")',
        "",
      ].join("\n"),
    );
    expect(ast.instructions[2]!.range).toEqual({
      start: { line: 7, column: 1 },
      end: { line: 16, column: 32 },
    });
    expect(ast.instructions[3]!.heredocs).toEqual([
      {
        name: "EOF",
        fileDescriptor: 0,
        expand: true,
        chomp: false,
        content: 'set -e\necho "built at $(date)" > /etc/build-info\n',
      },
    ]);
    expect(ast.instructions[3]!.range).toMatchObject({ start: { line: 18 }, end: { line: 21 } });
  });
  it("COPY <<-'CONF' strips tabs and is not expanded", () => {
    const stage = buildStages(ast).stages[0]!;
    expect(stage.instructions[3]).toMatchObject({
      kind: "copy",
      heredocSources: [{ name: "CONF", data: "listen = 0.0.0.0:80\nroot = $HOME\n", expand: false }],
      dest: "/etc/app.conf",
    });
  });
  it("lints the shell-form ENTRYPOINT", () => {
    expect(lintDockerfile(ast).map((f) => `${f.range.start.line}:${f.rule}`)).toEqual([
      "28:JSONArgsRecommended",
    ]);
  });
});

describe("# escape=` with Windows paths", () => {
  const ast = parseDockerfile(read("windows-escape.Dockerfile"));
  it("keeps backslashes literal and continues lines with a backtick", () => {
    expect(ast.escapeToken).toBe("`");
    expect(dumpAst(ast)).toBe(
      [
        '(from "mcr.microsoft.com/windows/servercore:ltsc2022")',
        '(shell "powershell" "-Command" "$ErrorActionPreference = \'Stop\';")',
        '(workdir "C:\\\\app")',
        '(copy "app\\\\" "C:\\\\app\\\\")',
        '(run "New-Item -ItemType Directory -Path C:\\\\data ;     Set-Content -Path C:\\\\data\\\\ready.txt -Value \\"ok\\"")',
        '(env "APP_HOME" "C:\\\\app" "=" "LOG_DIR" "C:\\\\logs" "=")',
        '(cmd "C:\\\\app\\\\server.exe")',
        "",
      ].join("\n"),
    );
  });
  it("expands with the backtick lexer, so backslashes survive in ENV", () => {
    const r = resolveDockerfile(buildStages(ast));
    expect(r.stages[0]!.finalEnv.get("APP_HOME")).toBe("C:\\app");
  });
});

describe("printDockerfile round trip", () => {
  it.each(["node-multistage.Dockerfile", "debian-apt-chain.Dockerfile", "windows-escape.Dockerfile"])(
    "%s reprints to text with the same AST",
    (name) => {
      const ast = parseDockerfile(read(name));
      const again = parseDockerfile(printDockerfile(ast));
      expect(dumpAst(again)).toBe(dumpAst(ast));
      expect(again.instructions.map((n) => n.heredocs)).toEqual(ast.instructions.map((n) => n.heredocs));
    },
  );
});
