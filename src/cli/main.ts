import { readFileSync } from "node:fs";
import { LayerLabError } from "../core/errors.ts";
import { type CliIo, UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";
import { plugNodePlatform } from "./node-platform.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** The help text: every command with its one-line summary. */
export function helpText(): string {
  const width = Math.max(8, ...commands.map((c) => c.name.length));
  const lines = [
    `layerlab ${pkg.version}: see and check how container images are made of layers`,
    "",
    "usage: layerlab <command> [options]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  show this help, or a command's usage: layerlab help <command>`,
    "",
    "options:",
    "  --version   print the version",
    "  --help      show this help",
  ];
  return `${lines.join("\n")}\n`;
}

/** Runs the command line and returns the exit code (0 ok, 1 failure, 2 bad usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-V" || first === "version") {
    io.out(`layerlab ${pkg.version}\n`);
    return 0;
  }
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    const about = first === "help" ? rest[0] : undefined;
    if (about) {
      const c = commands.find((x) => x.name === about);
      if (!c) {
        io.err(`layerlab: unknown command '${about}'\n`);
        return 2;
      }
      io.out(`${c.summary}\n\nusage: ${c.usage}\n`);
      return 0;
    }
    io.out(helpText());
    return first === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    io.err(`layerlab: unknown command '${first}'. Run 'layerlab help' for the list.\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`${command.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
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

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  plugNodePlatform();
  // `layerlab inspect x.tar | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`layerlab: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
