/**
 * The Dockerfile front end: parse (text → AST), dump (BuildKit's s-expressions), instructions
 * (typed, grouped into stages), resolve (ARG/ENV scoping and expansion), shell (word expansion) and
 * lint (findings as data).
 */
export type { Diagnosis, Diagnostic } from "./diagnose.ts";
export { diagnoseDockerfile } from "./diagnose.ts";
export { dumpAst, dumpInstruction, printDockerfile } from "./dump.ts";
export type * from "./instructions.ts";
export { buildStages, parseInstruction, parseOnbuildTrigger, suggest } from "./instructions.ts";
export type { LintFinding, LintOptions, LintRule } from "./lint.ts";
export { lintDockerfile } from "./lint.ts";
export type {
  Directive,
  DockerfileAst,
  Heredoc,
  InstructionNode,
  LineSegment,
  ParseWarning,
} from "./parser.ts";
export { INSTRUCTION_KEYWORDS, parseDockerfile, positionInNode, rangeInNode } from "./parser.ts";
export { goQuote } from "./quote.ts";
export type {
  ExpandedWords,
  ResolvedDockerfile,
  ResolvedStage,
  ResolvedStep,
  ResolveOptions,
} from "./resolve.ts";
export {
  BuildEnv,
  DEFAULT_PATH,
  expandHeredocBody,
  expandInstruction,
  resolveDockerfile,
} from "./resolve.ts";
export type { ExpandResult, LexOptions, ShellEnv } from "./shell.ts";
export { emptyEnv, envFromMap, envFromPairs, expandWord, expandWords, lexWord } from "./shell.ts";
