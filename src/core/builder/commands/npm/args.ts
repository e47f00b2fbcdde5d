/**
 * The simulated npm's command line: the verb, its words and the options npm knows (npm's own
 * spellings and aliases, `--omit`/`--include` with NODE_ENV=production's default, the deprecated
 * `--production` and `--only` with npm's warnings), and `name@spec` splitting.
 */
/** Parsed command line: the verb, its words and the options npm knows. */
export interface NpmArgs {
  verb: string | undefined;
  words: string[];
  omit: Set<string>;
  saveDev: boolean;
  saveOptional: boolean;
  noSave: boolean;
  saveExact: boolean;
  global: boolean;
  force: boolean;
  silent: boolean;
  version: boolean;
  warnings: string[];
}

/** Reads npm's arguments as npm 10 does; unknown options are ignored (npm only warns about them). */
export function parseNpmArgs(args: string[], env: Map<string, string>): NpmArgs {
  const a: NpmArgs = {
    verb: undefined,
    words: [],
    omit: new Set(),
    saveDev: false,
    saveOptional: false,
    noSave: false,
    saveExact: false,
    global: false,
    force: false,
    silent: false,
    version: false,
    warnings: [],
  };
  let include: string[] = [];
  // npm omits devDependencies by default when NODE_ENV is production.
  if (env.get("NODE_ENV") === "production") a.omit.add("dev");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => inline ?? args[++i] ?? "";
    switch (flag) {
      case "--omit":
        a.omit.add(value());
        break;
      case "--include":
        include.push(value());
        break;
      case "--production":
        a.omit.add("dev");
        a.warnings.push("npm warn config production Use `--omit=dev` instead.\n");
        break;
      case "--only": {
        if (/^prod(uction)?$/.test(value())) a.omit.add("dev");
        a.warnings.push("npm warn config only Use `--omit=dev` to omit deps from the install.\n");
        break;
      }
      case "-D":
      case "--save-dev":
        a.saveDev = true;
        break;
      case "-O":
      case "--save-optional":
        a.saveOptional = true;
        break;
      case "--no-save":
        a.noSave = true;
        break;
      case "-E":
      case "--save-exact":
        a.saveExact = true;
        break;
      case "-g":
      case "--global":
        a.global = true;
        break;
      case "-f":
      case "--force":
        a.force = true;
        break;
      case "-s":
      case "--silent":
      case "-q":
      case "--quiet":
        a.silent = true;
        break;
      case "--loglevel":
        if (/^(silent|error)$/.test(value())) a.silent = true;
        break;
      case "-v":
      case "--version":
        a.version = true;
        break;
      case "--cache":
      case "--prefix":
      case "--registry":
      case "-w":
      case "--workspace":
        value();
        break;
      default:
        if (arg.startsWith("-")) break;
        if (a.verb === undefined) a.verb = arg;
        else a.words.push(arg);
    }
  }
  include = include.filter((x) => x !== "prod");
  for (const x of include) a.omit.delete(x);
  return a;
}

/** Splits "name@range" (scoped names keep their leading "@"). */
export function splitSpec(spec: string): { name: string; range: string | undefined } {
  const at = spec.indexOf("@", spec.startsWith("@") ? 1 : 0);
  return at < 0 ? { name: spec, range: undefined } : { name: spec.slice(0, at), range: spec.slice(at + 1) };
}
