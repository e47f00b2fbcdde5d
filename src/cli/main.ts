import { version } from "../../package.json";
import { LayerLabError } from "../core/errors.ts";
import { type CliIo, type Command, UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";

/** The help text: every command with its one-line summary (this loads every command's module). */
export async function helpText(): Promise<string> {
  const loaded: Command[] = await Promise.all(commands.map((c) => c.load()));
  const width = Math.max(8, ...loaded.map((c) => c.name.length));
  const lines = [
    `layerlab ${version}: see and check how container images are made of layers`,
    "",
    "usage: layerlab <command> [options]",
    "",
    "commands:",
    ...loaded.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  show this help, or a command's usage: layerlab help <command>`,
    "",
    "options:",
    "  --version   print the version",
    "  --help      show this help",
  ];
  return `${lines.join("\n")}\n`;
}

/** Options of runCli. */
export interface RunOptions {
  /** Called once before a command runs (not for --version or help): the executable plugs Node's platform here. */
  beforeCommand?(): Promise<void>;
}

/** Runs the command line and returns the exit code (0 ok, 1 failure, 2 bad usage). */
export async function runCli(argv: string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-V" || first === "version") {
    io.out(`layerlab ${version}\n`);
    return 0;
  }
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    const about = first === "help" ? rest[0] : undefined;
    if (about) {
      const entry = commands.find((x) => x.name === about);
      if (!entry) {
        io.err(`layerlab: unknown command '${about}'\n`);
        return 2;
      }
      const c = await entry.load();
      io.out(`${c.summary}\n\nusage: ${c.usage}\n`);
      return 0;
    }
    io.out(await helpText());
    return first === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === first);
  if (!entry) {
    io.err(`layerlab: unknown command '${first}'. Run 'layerlab help' for the list.\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`${command.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
  await options.beforeCommand?.();
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`layerlab ${command.name}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (err instanceof LayerLabError) {
      io.err(`layerlab ${command.name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
