import { runCli } from "./main.ts";

/** Runs the CLI in-process (for tests) and captures what it prints and its exit code. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    cwd: process.cwd(),
  });
  return { code, out, err };
}
