/**
 * AST → typed instructions grouped into stages, as BuildKit's frontend/dockerfile/instructions does.
 * Flags are validated here (bflag semantics); words stay raw (quotes, `$VAR`) so the builder can
 * expand them when it dispatches, with the environment of that moment (see resolve.ts).
 */
import { DockerfileError, type Range } from "../errors.ts";
import {
  type DockerfileAst,
  type Heredoc,
  INSTRUCTION_KEYWORDS,
  type InstructionNode,
  parseDockerfile,
  parseHeredocWord,
  rangeInNode,
} from "./parser.ts";
import { parseRunDevice, parseRunMount, type RunDevice } from "./run-mount.ts";
import { suggest } from "./suggest.ts";

export { editDistance, suggest } from "./suggest.ts";

/** A key/value pair of ENV or LABEL, raw. */
export interface KeyValue {
  key: string;
  value: string;
  /** Written in the legacy `ENV key value` form. */
  legacyForm: boolean;
}

/** One name of an ARG instruction, raw; `value` undefined when no default was written. */
export interface ArgDecl {
  key: string;
  value: string | undefined;
}

/** A COPY/ADD source given inline as a heredoc. */
export interface HeredocSource {
  /** The delimiter, used as the file name. */
  name: string;
  /** The body, tabs already removed for `<<-`. */
  data: string;
  /** Whether the body is expanded (unquoted delimiter). */
  expand: boolean;
}

/** A RUN heredoc file. */
export interface RunHeredoc {
  name: string;
  data: string;
  chomp: boolean;
  fileDescriptor: number;
}

interface Base {
  /** The AST node (raw words, flags as written, original line). */
  node: InstructionNode;
  range: Range;
}

/** A command line of RUN/CMD/ENTRYPOINT: exec form (`json`) or one shell string. */
export interface CommandLine {
  /** Exec form: the argv. Shell form: one element, the raw command text (never expanded by the builder). */
  cmdLine: string[];
  /** Shell form: the builder prepends the current SHELL (default `/bin/sh -c`). */
  prependShell: boolean;
}

export interface FromInstruction extends Base {
  kind: "from";
  /** The base image or stage reference, raw (expanded with global ARGs only). */
  baseName: string;
  /** The stage name lower-cased, or undefined. Never expanded. */
  stageName: string | undefined;
  /** The stage name as written, for casing checks. */
  stageNameAsWritten: string | undefined;
  /** The `AS` keyword as written. */
  asKeywordAsWritten: string | undefined;
  platform: string | undefined;
}

export interface RunInstruction extends Base, CommandLine {
  kind: "run";
  /** `--mount` values, raw: each option value is expanded at dispatch (`parseRunMount`). */
  mounts: string[];
  network: string | undefined;
  security: string | undefined;
  /** `--device` values, read at parse time (never expanded). */
  devices: RunDevice[];
  heredocs: RunHeredoc[];
}

export interface CmdInstruction extends Base, CommandLine {
  kind: "cmd";
}

export interface EntrypointInstruction extends Base, CommandLine {
  kind: "entrypoint";
}

export interface EnvInstruction extends Base {
  kind: "env";
  pairs: KeyValue[];
}

export interface LabelInstruction extends Base {
  kind: "label";
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends Base {
  kind: "maintainer";
  maintainer: string;
}

export interface ExposeInstruction extends Base {
  kind: "expose";
  /** Raw, sorted as BuildKit sorts them; expanded and word-split at dispatch. */
  ports: string[];
}

interface CopyLike {
  /** Source paths, raw. */
  sources: string[];
  /** Sources given as heredocs. */
  heredocSources: HeredocSource[];
  /** Destination, raw. */
  dest: string;
  chown: string | undefined;
  chmod: string | undefined;
  link: boolean;
  /** `--exclude` patterns (never expanded). */
  exclude: string[];
}

export interface AddInstruction extends Base, CopyLike {
  kind: "add";
  keepGitDir: boolean | undefined;
  checksum: string | undefined;
  unpack: boolean | undefined;
}

export interface CopyInstruction extends Base, CopyLike {
  kind: "copy";
  /** `--from`: a stage name, a stage index or an image (never expanded). */
  from: string | undefined;
  parents: boolean;
}

export interface VolumeInstruction extends Base {
  kind: "volume";
  volumes: string[];
}

export interface UserInstruction extends Base {
  kind: "user";
  user: string;
}

export interface WorkdirInstruction extends Base {
  kind: "workdir";
  path: string;
}

export interface ArgInstruction extends Base {
  kind: "arg";
  args: ArgDecl[];
}

export interface OnbuildInstruction extends Base {
  kind: "onbuild";
  /** The trigger text as stored in the image config (original line minus `ONBUILD`). */
  expression: string;
  /** The trigger's AST node; it is parsed into a typed instruction only when it runs in a child. */
  trigger: InstructionNode;
}

export interface StopsignalInstruction extends Base {
  kind: "stopsignal";
  signal: string;
}

/** HEALTHCHECK; durations in nanoseconds as Go's time.Duration, 0 when not given. */
export interface HealthcheckInstruction extends Base {
  kind: "healthcheck";
  /** `["NONE"]`, `["CMD", argv...]` (exec form) or `["CMD-SHELL", command]`. */
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

export interface ShellInstruction extends Base {
  kind: "shell";
  shell: string[];
}

/** Every instruction that can appear inside a stage; dispatch on `kind`. */
export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | AddInstruction
  | CopyInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** A build stage: FROM and what follows it up to the next FROM. */
export interface Stage {
  /** 0-based position in the file. */
  index: number;
  /** Lower-cased `AS` name, or undefined. */
  name: string | undefined;
  /** `name`, or `stage-<index>` as BuildKit calls unnamed stages. */
  id: string;
  from: FromInstruction;
  instructions: Instruction[];
  /** From FROM to the stage's last instruction. */
  range: Range;
}

/** The Dockerfile as stages, with the global ARGs declared before the first FROM. */
export interface StagedDockerfile {
  metaArgs: ArgInstruction[];
  stages: Stage[];
  escapeToken: "\\" | "`";
}

type FlagKind = "bool" | "string" | "strings";
type FlagValues = Map<string, string | boolean | string[]>;

const FLAGS: Record<string, Record<string, FlagKind>> = {
  add: {
    chown: "string",
    chmod: "string",
    link: "bool",
    "keep-git-dir": "bool",
    checksum: "string",
    exclude: "strings",
    unpack: "bool",
  },
  copy: {
    from: "string",
    chown: "string",
    chmod: "string",
    link: "bool",
    parents: "bool",
    exclude: "strings",
  },
  from: { platform: "string" },
  run: { mount: "strings", network: "string", security: "string", device: "strings" },
  healthcheck: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

function fail(
  node: InstructionNode,
  message: string,
  opts: { suggestion?: string; at?: string } = {},
): never {
  const range = opts.at === undefined ? node.range : rangeInNode(node, opts.at);
  throw new DockerfileError(message, range, {
    code: "DOCKERFILE_SEMANTIC",
    ...(opts.suggestion ? { suggestion: opts.suggestion } : {}),
  });
}

/** BuildKit's BFlags.Parse over the node's flags, against the flags its instruction accepts. */
function parseFlags(node: InstructionNode, spec: Record<string, FlagKind>): FlagValues {
  const values: FlagValues = new Map();
  for (const raw of node.flags) {
    if (!raw.startsWith("--")) fail(node, `arg should start with -- : ${raw}`, { at: raw });
    if (raw === "--") break;
    let name = raw.slice(2);
    let value = "";
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const s = suggest(name, Object.keys(spec));
      fail(node, `unknown flag: --${name}`, { at: `--${name}`, ...(s ? { suggestion: `--${s}` } : {}) });
    }
    if (values.has(name) && kind !== "strings")
      fail(node, `duplicate flag specified: --${name}`, { at: raw });
    if (kind === "bool") {
      if (eq >= 0 && value === "") fail(node, `missing a value on flag: --${name}`, { at: raw });
      const v = value.toLowerCase();
      if (v === "true" || v === "") values.set(name, true);
      else if (v === "false") values.set(name, false);
      else fail(node, `expecting boolean value for flag --${name}, not: ${value}`, { at: raw });
    } else {
      if (eq < 0)
        fail(node, `missing a value on flag: --${name}`, { at: raw, suggestion: `--${name}=<value>` });
      if (kind === "string") values.set(name, value);
      else values.set(name, [...((values.get(name) as string[] | undefined) ?? []), value]);
    }
  }
  return values;
}

const str = (f: FlagValues, k: string) => f.get(k) as string | undefined;
const bool = (f: FlagValues, k: string) => f.get(k) as boolean | undefined;
const list = (f: FlagValues, k: string) => (f.get(k) as string[] | undefined) ?? [];

function commandLine(node: InstructionNode): CommandLine {
  return node.json
    ? { cmdLine: [...node.args], prependShell: false }
    : { cmdLine: [node.args.join(" ")], prependShell: true };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (rest !== "") {
    const m = re.exec(rest);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const unit = Object.hasOwn(DURATION_UNITS, m[3]!) ? DURATION_UNITS[m[3]!] : undefined;
    if (unit === undefined) return undefined;
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

function duration(node: InstructionNode, flags: FlagValues, name: string): number {
  const v = str(flags, name);
  if (v === undefined || v === "") return 0;
  const d = parseGoDuration(v);
  if (d === undefined) fail(node, `time: invalid duration "${v}"`, { at: `--${name}` });
  if (d === 0) return 0;
  if (d < 1e6) fail(node, `Interval "${name}" cannot be less than 1ms`, { at: `--${name}` });
  return d;
}

const ONBUILD_PREFIX = /^[\t\n\f\r ]*onbuild[\t\n\f\r ]*/i;
const CHOMP = /^\t+/gm;

function heredocWord(word: string): Omit<Heredoc, "content"> | undefined {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

function copyLike(node: InstructionNode, what: string, flags: FlagValues): CopyLike {
  const srcs = node.args.slice(0, -1);
  const dest = node.args.at(-1)!;
  if (heredocWord(dest)) fail(node, `${what} cannot accept a heredoc as a destination`, { at: dest });
  const byName = new Map<string, Heredoc>(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const s of srcs) {
    const h = heredocWord(s);
    if (!h) {
      sources.push(s);
      continue;
    }
    const content = byName.get(h.name)?.content ?? "";
    heredocSources.push({
      name: h.name,
      data: h.chomp ? content.replace(CHOMP, "") : content,
      expand: h.expand,
    });
  }
  return {
    sources,
    heredocSources,
    dest,
    chown: str(flags, "chown"),
    chmod: str(flags, "chmod"),
    link: bool(flags, "link") ?? false,
    exclude: list(flags, "exclude"),
  };
}

function kvps(node: InstructionNode, what: string): KeyValue[] {
  const a = node.args;
  if (a.length === 0) fail(node, `${what} requires at least one argument`);
  if (a.length % 3 !== 0) fail(node, `Bad input to ${what}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < a.length; i += 3) {
    if (a[i] === "") fail(node, `${what} names can not be blank`);
    out.push({ key: a[i]!, value: a[i + 1]!, legacyForm: a[i + 2] === "" });
  }
  return out;
}

function exactlyOne(node: InstructionNode, what: string): string {
  if (node.args.length !== 1) fail(node, `${what} requires exactly one argument`);
  return node.args[0]!;
}

/** ParseInstruction: one AST node to a typed instruction (FROM gives a FromInstruction). */
export function parseInstruction(node: InstructionNode): Instruction | FromInstruction {
  const range = node.range;
  switch (node.keyword) {
    case "env": {
      parseFlags(node, {});
      return { kind: "env", node, range, pairs: kvps(node, "ENV") };
    }
    case "label": {
      parseFlags(node, {});
      return { kind: "label", node, range, pairs: kvps(node, "LABEL") };
    }
    case "maintainer": {
      const maintainer = exactlyOne(node, "MAINTAINER");
      parseFlags(node, {});
      return { kind: "maintainer", node, range, maintainer };
    }
    case "add":
    case "copy": {
      const what = node.keyword.toUpperCase();
      if (node.args.length < 2) {
        fail(
          node,
          `${what} requires at least two arguments, but only one was provided. Destination could not be determined.`,
        );
      }
      const flags = parseFlags(node, FLAGS[node.keyword]!);
      const c = copyLike(node, what, flags);
      if (node.keyword === "add") {
        return {
          kind: "add",
          node,
          range,
          ...c,
          keepGitDir: bool(flags, "keep-git-dir"),
          checksum: str(flags, "checksum"),
          unpack: bool(flags, "unpack"),
        };
      }
      return {
        kind: "copy",
        node,
        range,
        ...c,
        from: str(flags, "from"),
        parents: bool(flags, "parents") ?? false,
      };
    }
    case "from": {
      const a = node.args;
      let stageName: string | undefined;
      if (a.length === 3 && a[1]!.toLowerCase() === "as") {
        stageName = a[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
          fail(
            node,
            `invalid name for build stage: "${a[2]}", name can't start with a number or contain symbols`,
            {
              at: a[2]!,
            },
          );
        }
      } else if (a.length !== 1) {
        const s = a.length === 3 ? suggest(a[1]!, ["AS"]) : undefined;
        fail(node, "FROM requires either one or three arguments", s ? { suggestion: s, at: a[1]! } : {});
      }
      const flags = parseFlags(node, FLAGS.from!);
      return {
        kind: "from",
        node,
        range,
        baseName: a[0]!,
        stageName,
        stageNameAsWritten: stageName === undefined ? undefined : a[2],
        asKeywordAsWritten: stageName === undefined ? undefined : a[1],
        platform: str(flags, "platform"),
      };
    }
    case "onbuild": {
      const trigger = node.trigger;
      if (!trigger) fail(node, "ONBUILD requires at least one argument");
      parseFlags(node, {});
      const t = trigger.keyword.toUpperCase();
      if (t === "ONBUILD") fail(node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (t === "MAINTAINER" || t === "FROM") fail(node, `${t} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(ONBUILD_PREFIX, "");
      for (const h of node.heredocs) expression += `\n${h.content}${h.name}`;
      return { kind: "onbuild", node, range, expression, trigger };
    }
    case "workdir": {
      const path = exactlyOne(node, "WORKDIR");
      parseFlags(node, {});
      return { kind: "workdir", node, range, path };
    }
    case "run": {
      const flags = parseFlags(node, FLAGS.run!);
      const network = str(flags, "network");
      if (network !== undefined && !["default", "none", "host"].includes(network)) {
        fail(node, `unsupported network mode "${network}"`, {
          at: "--network",
          suggestion: "--network=none",
        });
      }
      const security = str(flags, "security");
      if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
        fail(node, `unsupported security mode "${security}"`, { at: "--security" });
      }
      const mounts = list(flags, "mount");
      for (const m of mounts) parseRunMount(m, rangeInNode(node, `--mount=${m}`));
      const devices = list(flags, "device").map((d) => parseRunDevice(d, rangeInNode(node, `--device=${d}`)));
      const cl = commandLine(node);
      return {
        kind: "run",
        node,
        range,
        cmdLine: cl.cmdLine,
        prependShell: cl.prependShell,
        mounts,
        network,
        security,
        devices,
        heredocs: node.heredocs.map((h) => ({
          name: h.name,
          data: h.content,
          chomp: h.chomp,
          fileDescriptor: h.fileDescriptor,
        })),
      };
    }
    case "cmd": {
      parseFlags(node, {});
      return { kind: "cmd", node, range, ...commandLine(node) };
    }
    case "entrypoint": {
      parseFlags(node, {});
      return { kind: "entrypoint", node, range, ...commandLine(node) };
    }
    case "healthcheck":
      return parseHealthcheck(node);
    case "expose": {
      if (node.args.length === 0) fail(node, "EXPOSE requires at least one argument");
      parseFlags(node, {});
      return { kind: "expose", node, range, ports: [...node.args].sort() };
    }
    case "user": {
      const user = exactlyOne(node, "USER");
      parseFlags(node, {});
      return { kind: "user", node, range, user };
    }
    case "volume": {
      if (node.args.length === 0) fail(node, "VOLUME requires at least one argument");
      parseFlags(node, {});
      const volumes = node.args.map((v) => v.trim());
      if (volumes.includes("")) fail(node, "VOLUME specified can not be an empty string");
      return { kind: "volume", node, range, volumes };
    }
    case "stopsignal":
      return { kind: "stopsignal", node, range, signal: exactlyOne(node, "STOPSIGNAL") };
    case "arg": {
      if (node.args.length === 0) fail(node, "ARG requires at least one argument");
      parseFlags(node, {});
      const args = node.args.map((a): ArgDecl => {
        const eq = a.indexOf("=");
        if (eq === 0) fail(node, "ARG names can not be blank", { at: a });
        return eq < 0 ? { key: a, value: undefined } : { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { kind: "arg", node, range, args };
    }
    case "shell": {
      parseFlags(node, {});
      if (node.args.length === 0 || (node.json && node.args.length === 0)) {
        fail(node, "SHELL requires at least one argument");
      }
      if (!node.json) {
        fail(node, "SHELL requires the arguments to be in JSON form", {
          suggestion: `SHELL ${JSON.stringify(node.args.join(" ").split(/\s+/))}`,
        });
      }
      return { kind: "shell", node, range, shell: [...node.args] };
    }
  }
  const s = suggest(node.keywordAsWritten, INSTRUCTION_KEYWORDS);
  return fail(node, `unknown instruction: ${node.keywordAsWritten.toUpperCase()}`, {
    at: node.keywordAsWritten,
    ...(s ? { suggestion: s } : {}),
  });
}

function parseHealthcheck(node: InstructionNode): HealthcheckInstruction {
  if (node.args.length === 0) fail(node, "HEALTHCHECK requires at least one argument");
  const typ = node.args[0]!.toUpperCase();
  const args = node.args.slice(1);
  if (typ === "NONE") {
    if (args.length !== 0) fail(node, "HEALTHCHECK NONE takes no arguments");
    return {
      kind: "healthcheck",
      node,
      range: node.range,
      test: ["NONE"],
      intervalNs: 0,
      timeoutNs: 0,
      startPeriodNs: 0,
      startIntervalNs: 0,
      retries: 0,
    };
  }
  const flags = parseFlags(node, FLAGS.healthcheck!);
  if (typ !== "CMD") {
    fail(node, `Unknown type "${typ}" in HEALTHCHECK (try CMD)`, { at: node.args[0]!, suggestion: "CMD" });
  }
  const cmd = node.json ? args : [args.join(" ")];
  if (cmd.length === 0 || (!node.json && cmd[0] === "")) fail(node, "Missing command after HEALTHCHECK CMD");
  let retries = 0;
  const r = str(flags, "retries");
  if (r !== undefined && r !== "") {
    if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31 - 1) {
      fail(node, `strconv.ParseInt: parsing "${r}": invalid syntax`, { at: "--retries" });
    }
    retries = Number(r);
    if (retries < 0) fail(node, `--retries cannot be negative (${retries})`, { at: "--retries" });
  }
  return {
    kind: "healthcheck",
    node,
    range: node.range,
    test: [node.json ? "CMD" : "CMD-SHELL", ...cmd],
    intervalNs: duration(node, flags, "interval"),
    timeoutNs: duration(node, flags, "timeout"),
    startPeriodNs: duration(node, flags, "start-period"),
    startIntervalNs: duration(node, flags, "start-interval"),
    retries,
  };
}

/**
 * Parses an ONBUILD trigger as BuildKit does when a child stage runs it: the expression alone, as a
 * one-instruction Dockerfile with the default escape token.
 */
export function parseOnbuildTrigger(expression: string): Instruction {
  const ast = parseDockerfile(expression);
  const node = ast.instructions[0]!;
  const inst = parseInstruction(node);
  if (inst.kind === "from") fail(node, "FROM isn't allowed as an ONBUILD trigger");
  return inst;
}

/**
 * Groups the typed instructions into stages. Only ARG may precede the first FROM (those are the
 * global ARGs). Throws DockerfileError on the first invalid instruction.
 */
export function buildStages(ast: DockerfileAst): StagedDockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of ast.instructions) {
    const inst = parseInstruction(node);
    if (inst.kind === "from") {
      const index = stages.length;
      stages.push({
        index,
        name: inst.stageName,
        id: inst.stageName ?? `stage-${index}`,
        from: inst,
        instructions: [],
        range: { ...inst.range },
      });
      continue;
    }
    const current = stages.at(-1);
    if (!current) {
      if (inst.kind === "arg") {
        metaArgs.push(inst);
        continue;
      }
      throw new DockerfileError(
        `no build stage in current context: ${node.keywordAsWritten.toUpperCase()} must come after a FROM`,
        node.range,
        { code: "DOCKERFILE_SEMANTIC", suggestion: "a FROM instruction first" },
      );
    }
    current.instructions.push(inst);
    current.range = { start: current.range.start, end: inst.range.end };
  }
  if (stages.length === 0) {
    throw new DockerfileError("dockerfile contains no stages to build", ast.range, {
      code: "DOCKERFILE_SEMANTIC",
      suggestion: "FROM <image>",
    });
  }
  return { metaArgs, stages, escapeToken: ast.escapeToken };
}
