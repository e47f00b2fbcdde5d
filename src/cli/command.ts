/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The working directory that relative paths are read against. */
  cwd: string;
}

/** One `layerlab` subcommand. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad command-line use; the CLI prints the message and the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Splits `--flag value`, `--flag=value` and positional arguments; `multi` flags may repeat. */
export function parseArgs(
  args: string[],
  spec: { flags?: string[]; bools?: string[]; multi?: string[]; short?: Record<string, string> },
): { flags: Map<string, string[]>; bools: Set<string>; positional: string[] } {
  const flags = new Map<string, string[]>();
  const bools = new Set<string>();
  const positional: string[] = [];
  const takesValue = new Set([...(spec.flags ?? []), ...(spec.multi ?? [])]);
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (spec.short && /^-[a-zA-Z]$/.test(a) && spec.short[a]) a = `--${spec.short[a]}`;
    if (!a.startsWith("--") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.bools?.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      bools.add(name);
      continue;
    }
    if (!takesValue.has(name)) throw new UsageError(`unknown option --${name}`);
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !spec.multi?.includes(name)) throw new UsageError(`--${name} given twice`);
    list.push(value);
    flags.set(name, list);
  }
  return { flags, bools, positional };
}
