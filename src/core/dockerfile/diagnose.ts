/**
 * Everything an editor underlines, in one call that never throws on bad input: the parse error (or
 * the first instruction/stage/variable error) plus the parser warnings and lint findings.
 */
import { DockerfileError, type Range } from "../errors.ts";
import { buildStages, type StagedDockerfile } from "./instructions.ts";
import { type LintOptions, lintDockerfile } from "./lint.ts";
import { type DockerfileAst, parseDockerfile } from "./parser.ts";
import { resolveDockerfile } from "./resolve.ts";

/** One diagnostic: an error stops the build, a warning is a lint finding. */
export interface Diagnostic {
  severity: "error" | "warning";
  /** The lint rule, or "syntax" / "semantic" for errors. */
  source: string;
  message: string;
  range: Range;
  suggestion?: string;
  url?: string;
}

export interface Diagnosis {
  ast: DockerfileAst | undefined;
  stages: StagedDockerfile | undefined;
  diagnostics: Diagnostic[];
}

function fromError(e: DockerfileError): Diagnostic {
  const d: Diagnostic = {
    severity: "error",
    source: e.code === "DOCKERFILE_SYNTAX" ? "syntax" : "semantic",
    message: e.message.replace(/^line \d+, column \d+: /, "").replace(/ \(did you mean .*\?\)$/, ""),
    range: e.range,
  };
  if (e.suggestion) d.suggestion = e.suggestion;
  return d;
}

/** Parses, groups into stages, resolves variables and lints; errors become diagnostics. */
export function diagnoseDockerfile(text: string, opts: LintOptions = {}): Diagnosis {
  const diagnostics: Diagnostic[] = [];
  let ast: DockerfileAst | undefined;
  let stages: StagedDockerfile | undefined;
  try {
    ast = parseDockerfile(text);
    for (const f of lintDockerfile(ast, opts)) {
      diagnostics.push({
        severity: f.severity,
        source: f.rule,
        message: f.message,
        range: f.range,
        url: f.url,
      });
    }
    stages = buildStages(ast);
    resolveDockerfile(stages, opts.buildArgs ? { buildArgs: opts.buildArgs } : {});
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    diagnostics.push(fromError(e));
  }
  diagnostics.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.column - b.range.start.column,
  );
  return { ast, stages, diagnostics };
}
