/**
 * The Dockerfile front end: parse (text → AST), dump (BuildKit's s-expressions), instructions
 * (typed, grouped into stages), resolve (ARG/ENV scoping and expansion), shell (word expansion) and
 * lint (findings as data).
 */
export { dumpAst, dumpInstruction } from "./dump.ts";
export type * from "./instructions.ts";
export { buildStages, parseInstruction, suggest } from "./instructions.ts";
export type { LintFinding, LintOptions, LintRule } from "./lint.ts";
export { lintDockerfile } from "./lint.ts";
export type { Directive, DockerfileAst, Heredoc, InstructionNode, ParseWarning } from "./parser.ts";
export { INSTRUCTION_KEYWORDS, parseDockerfile } from "./parser.ts";
export { goQuote } from "./quote.ts";
export type {
  ExpandedWords,
  ResolvedDockerfile,
  ResolvedStage,
  ResolvedStep,
  ResolveOptions,
} from "./resolve.ts";
export { BuildEnv, DEFAULT_PATH, expandInstruction, resolveDockerfile } from "./resolve.ts";
export type { ExpandResult, LexOptions, ShellEnv } from "./shell.ts";
export { emptyEnv, envFromMap, envFromPairs, expandWord, expandWords, lexWord } from "./shell.ts";
