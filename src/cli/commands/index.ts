import type { Command } from "../command.ts";

/**
 * A command as the command line knows it before it runs: its name and how to load its code. Each
 * command's module (and what it imports: the builder, just-bash, the importer) is loaded only
 * when that command runs, so `layerlab --version` loads none of them.
 */
export interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

/**
 * Every subcommand, in the order `layerlab help` lists them. Each lives in its own file, which
 * exports a `Command`; adding one is one line here.
 */
export const commands: CommandEntry[] = [
  { name: "inspect", load: async () => (await import("./inspect.ts")).inspect },
  { name: "convert", load: async () => (await import("./convert.ts")).convert },
  { name: "parse", load: async () => (await import("./parse.ts")).parse },
  { name: "build", load: async () => (await import("./build.ts")).build },
  { name: "pull", load: async () => (await import("./pull.ts")).pull },
  { name: "push", load: async () => (await import("./push.ts")).push },
  { name: "run", load: async () => (await import("./run.ts")).run },
];
