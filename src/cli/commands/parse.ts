import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { checkDockerfile } from "../../core/dockerfile/check.ts";
import { dumpAst } from "../../core/dockerfile/dump.ts";
import { buildStages, type Instruction, type StagedDockerfile } from "../../core/dockerfile/instructions.ts";
import { lintDockerfile } from "../../core/dockerfile/lint.ts";
import { type DockerfileAst, parseDockerfile } from "../../core/dockerfile/parser.ts";
import { resolveDockerfile } from "../../core/dockerfile/resolve.ts";
import { DockerfileError } from "../../core/errors.ts";
import { type CliIo, type Command, parseArgs, UsageError } from "../command.ts";

/** One line per instruction: line number, keyword as written, and its text after the keyword. */
function describeInstruction(inst: Instruction | StagedDockerfile["stages"][number]["from"]): string {
  const n = inst.node;
  const lines =
    n.range.start.line === n.range.end.line
      ? `${n.range.start.line}`
      : `${n.range.start.line}-${n.range.end.line}`;
  const text = n.original.trim().replace(/\s+/g, " ");
  const heredocs = n.heredocs.length ? `  [heredoc ${n.heredocs.map((h) => h.name).join(", ")}]` : "";
  return `  ${lines.padEnd(7)} ${inst.kind.toUpperCase().padEnd(11)} ${text.slice(n.keywordAsWritten.length).trim()}${heredocs}`;
}

function summary(file: string, ast: DockerfileAst, staged: StagedDockerfile): string {
  const count = ast.instructions.length;
  const out = [
    `${file}: ${staged.stages.length} stage${staged.stages.length === 1 ? "" : "s"}, ${count} instruction${count === 1 ? "" : "s"}, escape ${ast.escapeToken}`,
  ];
  for (const d of ast.directives) out.push(`directive ${d.name}=${d.value}`);
  if (staged.metaArgs.length > 0) out.push("global ARGs:");
  for (const a of staged.metaArgs) out.push(describeInstruction(a));
  for (const s of staged.stages) {
    const platform = s.from.platform ? ` --platform=${s.from.platform}` : "";
    out.push(`stage ${s.index} ${s.id}: FROM ${s.from.baseName}${platform}`);
    for (const inst of s.instructions) out.push(describeInstruction(inst));
  }
  return `${out.join("\n")}\n`;
}

function where(file: string, e: DockerfileError): string {
  return `${file}:${e.range.start.line}:${e.range.start.column}`;
}

export const parse: Command = {
  name: "parse",
  summary:
    "parse and check Dockerfiles as BuildKit does (the checks `layerlab build` makes): stages and instructions, the AST dump, or lint findings",
  usage: "layerlab parse [--dump] [--lint] FILE...",
  async run(args: string[], io: CliIo): Promise<number> {
    const { bools, positional } = parseArgs(args, { bools: ["dump", "lint"] });
    if (positional.length === 0) throw new UsageError("give at least one Dockerfile");
    let failed = false;
    for (const file of positional) {
      if (positional.length > 1) io.out(`==> ${file} <==\n`);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(resolve(io.cwd, file));
      } catch (e) {
        io.err(`${file}: cannot read: ${(e as Error).message}\n`);
        failed = true;
        continue;
      }
      try {
        const ast = parseDockerfile(bytes);
        if (bools.has("dump")) io.out(dumpAst(ast));
        if (bools.has("lint")) {
          for (const f of lintDockerfile(ast)) {
            io.out(
              `${file}:${f.range.start.line}:${f.range.start.column}: ${f.severity} ${f.rule}: ${f.message}\n`,
            );
            if (f.severity === "error") failed = true;
          }
        }
        // The same checks as `layerlab build` and the editor (check.ts); --lint has printed the findings itself.
        if (bools.has("lint")) resolveDockerfile(buildStages(ast));
        else if (!bools.has("dump")) io.out(summary(file, ast, checkDockerfile(ast).staged));
      } catch (e) {
        if (!(e instanceof DockerfileError)) throw e;
        io.err(`${where(file, e)}: error: ${e.message.replace(/^line \d+, column \d+: /, "")}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};
