import type { Command } from "../command.ts";

/** Every subcommand, in the order `layerlab help` lists them. Each lives in its own file. */
export const commands: Command[] = [];
