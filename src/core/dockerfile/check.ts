/**
 * The one verdict on a Dockerfile that the editor, `layerlab parse` and the builder share: parse,
 * typed stages, variable scoping with the checks BuildKit makes after expansion, and lint (whose
 * findings stop a build only under `# check=error=true`, as BuildKit's do). A builder dispatches
 * the stages this returns; it never re-reads the AST.
 */
import { DockerfileError } from "../errors.ts";
import { buildStages, type StagedDockerfile } from "./instructions.ts";
import { type LintFinding, lintDockerfile } from "./lint.ts";
import { type DockerfileAst, parseDockerfile } from "./parser.ts";
import { type ResolvedDockerfile, type ResolveOptions, resolveDockerfile } from "./resolve.ts";

/** A Dockerfile that passed every check, ready to dispatch. */
export interface CheckedDockerfile {
  ast: DockerfileAst;
  staged: StagedDockerfile;
  resolved: ResolvedDockerfile;
  /** Lint findings (warnings; errors are thrown). */
  findings: LintFinding[];
}

/** The DockerfileError a build fails with when `# check=error=true` turned findings into errors. */
export function lintFailure(findings: readonly LintFinding[]): DockerfileError | undefined {
  const errors = findings.filter((f) => f.severity === "error");
  const first = errors[0];
  if (!first) return undefined;
  const rules = [...new Set(errors.map((f) => f.rule))].join(", ");
  return new DockerfileError(`lint violation found for rules: ${rules} (${first.message})`, first.range, {
    code: "DOCKERFILE_SEMANTIC",
  });
}

/**
 * Parses (unless given an AST), groups into stages, resolves variables and lints. Throws the
 * first DockerfileError: syntax, then instruction, then scoping/expansion, then lint errors.
 */
export function checkDockerfile(
  source: string | Uint8Array | DockerfileAst,
  opts: ResolveOptions = {},
): CheckedDockerfile {
  const ast = typeof source === "string" || source instanceof Uint8Array ? parseDockerfile(source) : source;
  const staged = buildStages(ast);
  const resolved = resolveDockerfile(staged, opts);
  const findings = lintDockerfile(ast, {
    ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}),
    ...(opts.imageEnv ? { imageEnv: opts.imageEnv } : {}),
  });
  const failure = lintFailure(findings);
  if (failure) throw failure;
  return { ast, staged, resolved, findings };
}
