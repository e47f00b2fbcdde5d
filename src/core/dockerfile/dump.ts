/** BuildKit's AST dump (parser.Node.Dump): one s-expression line per instruction. */
import type { DockerfileAst, InstructionNode } from "./parser.ts";
import { goQuote } from "./quote.ts";

/** One instruction as BuildKit dumps it, without the outer parentheses: `copy ["--from=a"] "x" "/"`. */
export function dumpInstruction(node: InstructionNode): string {
  let s = node.keyword;
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(" ")}]`;
  if (node.trigger) s += ` (${dumpInstruction(node.trigger)})`;
  for (const a of node.args) s += ` ${goQuote(a)}`;
  return trimGoSpace(s);
}

function trimGoSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, "");
}

/**
 * The whole AST as BuildKit's `Dump()` plus the final newline its tests append: `(from "x")\n...`.
 * Heredoc bodies are not part of the dump, as upstream.
 */
export function dumpAst(ast: DockerfileAst): string {
  let out = "";
  for (const n of ast.instructions) out += `(${dumpInstruction(n)})\n`;
  return out;
}

/**
 * Dockerfile text that parses back to the same AST: the directives, then each instruction's logical
 * line (continuations joined, comments dropped) followed by its heredoc bodies and terminators.
 */
export function printDockerfile(ast: DockerfileAst): string {
  let out = "";
  for (const d of ast.directives) out += `# ${d.name}=${d.value}\n`;
  for (const n of ast.instructions) {
    out += `${n.original}\n`;
    for (const h of n.heredocs) out += `${h.content}${h.name}\n`;
  }
  // A leading U+FEFF would be taken for a byte-order mark and dropped.
  return out.charCodeAt(0) === 0xfeff ? `\n${out}` : out;
}
