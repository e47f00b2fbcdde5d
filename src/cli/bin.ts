/**
 * The `layerlab` executable: package.json's `bin` points at its build, dist-cli/layerlab.mjs
 * (`npm run build` makes it). It plugs Node's native sha256 and gunzip into the core, runs the
 * command line on process.argv and sets the exit code. Everything a command needs is loaded by
 * that command (see commands/index.ts), so `layerlab --version` starts in tens of milliseconds.
 */
import type { CliIo } from "./command.ts";
import { runCli } from "./main.ts";

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
// The platform (and the core's hashing and decompression modules it plugs into) is loaded only
// when a command runs.
const beforeCommand = async () => (await import("./node-platform.ts")).plugNodePlatform();
runCli(process.argv.slice(2), io, { beforeCommand }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`layerlab: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
