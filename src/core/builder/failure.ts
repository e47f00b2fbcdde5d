/**
 * How a build stops at an instruction for a reason that is not the Dockerfile's text (a command
 * that exits non-zero, an image that is not in the store, an offline limit). Errors in the text
 * itself are DockerfileErrors from the front end, thrown before anything is dispatched.
 */
import { LayerLabError } from "../errors.ts";

/** A build that stopped at an instruction: where, why, and the command's output. */
export class BuildFailure extends LayerLabError {
  readonly line: number;
  readonly step: number;
  readonly output: string;
  constructor(message: string, where: { line: number; step: number; instruction: string }, output = "") {
    super("BUILD", `step ${where.step} (line ${where.line}: ${where.instruction}): ${message}`);
    this.name = "BuildFailure";
    this.line = where.line;
    this.step = where.step;
    this.output = output;
  }
}
