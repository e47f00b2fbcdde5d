import { buildStages } from "../dockerfile/instructions.ts";
import { lintDockerfile } from "../dockerfile/lint.ts";
import { parseDockerfile } from "../dockerfile/parser.ts";
import { DockerfileError, type Range } from "../errors.ts";

/** A problem to underline in the editor: an error that stops a build, or a warning. */
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  /** 1-based lines and columns; the end column is one past the last character. */
  range: Range;
  /** The lint rule, with its documentation page, for warnings. */
  rule?: string;
  url?: string;
}

/** The editor shows where by underlining, so the message drops its "line L, column C: " prefix. */
function withoutWhere(message: string): string {
  return message.replace(/^line \d+, column \d+: /, "");
}

/** Everything wrong with a Dockerfile's text: the first syntax or semantic error, then lint findings. */
export function diagnoseDockerfile(text: string, buildArgs?: Record<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  let ast: ReturnType<typeof parseDockerfile>;
  try {
    ast = parseDockerfile(text);
  } catch (err) {
    if (err instanceof DockerfileError)
      return [{ severity: "error", message: withoutWhere(err.message), range: err.range }];
    throw err;
  }
  try {
    buildStages(ast);
  } catch (err) {
    if (!(err instanceof DockerfileError)) throw err;
    out.push({ severity: "error", message: withoutWhere(err.message), range: err.range });
  }
  for (const w of ast.warnings)
    out.push({ severity: "warning", message: w.message, range: w.range, rule: w.rule });
  for (const f of lintDockerfile(ast, { buildArgs })) {
    out.push({
      severity: f.severity,
      message: `${f.rule}: ${f.message}`,
      range: f.range,
      rule: f.rule,
      url: f.url,
    });
  }
  return out;
}
