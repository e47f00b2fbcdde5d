/**
 * Variable scoping as BuildKit's dockerfile2llb applies it: global ARGs (evaluated in order, build
 * args win and are not expanded), FROM expanded with global ARGs only, one ordered build environment
 * per stage that both ENV and ARG write to (the later definition wins), global ARGs visible in a
 * stage only after `ARG NAME`, and the per-instruction expansion of the words BuildKit expands.
 */
import { DockerfileError, type Range } from "../errors.ts";
import type {
  ArgInstruction,
  CopyInstruction,
  FromInstruction,
  Instruction,
  Stage,
  StagedDockerfile,
} from "./instructions.ts";
import { rangeInNode } from "./parser.ts";
import { parseRunMount, type RunMount } from "./run-mount.ts";
import { expandWord, expandWords, type LexOptions, lexWord, type ShellEnv } from "./shell.ts";

/** The PATH BuildKit adds when a base image has none (non-Windows). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** An ordered environment (insertion order kept, a later set replaces the value in place). */
export class BuildEnv implements ShellEnv {
  private readonly map: Map<string, string>;
  constructor(entries: Iterable<[string, string]> = []) {
    this.map = new Map(entries);
  }
  get(name: string): string | undefined {
    return this.map.get(name);
  }
  keys(): Iterable<string> {
    return this.map.keys();
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  set(name: string, value: string): void {
    this.map.set(name, value);
  }
  /** `NAME=value` strings in order, as an image config's Env. */
  toPairs(): string[] {
    return [...this.map].map(([k, v]) => `${k}=${v}`);
  }
  clone(): BuildEnv {
    return new BuildEnv(this.map);
  }
}

/** Inputs a build supplies. */
export interface ResolveOptions {
  /** `--build-arg NAME=value`. */
  buildArgs?: Record<string, string>;
  /** The Env of a base image (`NAME=value`), when known; undefined for an unknown image. */
  imageEnv?: (ref: string) => readonly string[] | undefined;
  /** Platform of the build and the target, `os/arch[/variant]`; default linux/amd64. */
  buildPlatform?: string;
  targetPlatform?: string;
  /** The target stage name, for TARGETSTAGE. */
  target?: string;
}

/** One instruction with the environment in effect just before it runs. */
export interface ResolvedStep {
  instruction: Instruction;
  env: BuildEnv;
}

/** A stage with its base resolved and every step's environment. */
export interface ResolvedStage {
  stage: Stage;
  /** FROM's base name after expansion with the global ARGs. */
  baseName: string;
  /** Index of the earlier stage it builds on, when the base names one. */
  baseStage: number | undefined;
  platform: string | undefined;
  steps: ResolvedStep[];
  /** The environment after the last instruction (ENV and ARG values). */
  finalEnv: BuildEnv;
  /** Names declared by ARG in this stage (or inherited from a base stage). */
  declaredArgs: Set<string>;
}

export interface ResolvedDockerfile {
  /** The global scope: automatic platform ARGs, then the global ARGs that have a value. */
  globalArgs: BuildEnv;
  stages: ResolvedStage[];
}

function platformArgs(opts: ResolveOptions): [string, string][] {
  const split = (p: string) => {
    const [os = "linux", arch = "amd64", variant = ""] = p.split("/");
    return { os, arch, variant };
  };
  const b = split(opts.buildPlatform ?? "linux/amd64");
  const t = split(opts.targetPlatform ?? opts.buildPlatform ?? "linux/amd64");
  const fmt = (p: { os: string; arch: string; variant: string }) =>
    `${p.os}/${p.arch}${p.variant ? `/${p.variant}` : ""}`;
  return [
    ["BUILDPLATFORM", fmt(b)],
    ["BUILDOS", b.os],
    ["BUILDOSVERSION", ""],
    ["BUILDARCH", b.arch],
    ["BUILDVARIANT", b.variant],
    ["TARGETPLATFORM", fmt(t)],
    ["TARGETOS", t.os],
    ["TARGETOSVERSION", ""],
    ["TARGETARCH", t.arch],
    ["TARGETVARIANT", t.variant],
    ["TARGETSTAGE", opts.target ?? "default"],
  ];
}

/** Expands one word, re-raising a lexer error at the instruction's range. */
export function expandAt(word: string, env: ShellEnv, range: Range, opts: LexOptions = {}): string {
  try {
    return expandWord(word, env, opts);
  } catch (e) {
    if (e instanceof DockerfileError)
      throw new DockerfileError(e.message.replace(/^line \d+, column \d+: /, ""), range, {
        code: "DOCKERFILE_SEMANTIC",
      });
    throw e;
  }
}

function buildArg(opts: ResolveOptions, key: string): string | undefined {
  const b = opts.buildArgs;
  return b && Object.hasOwn(b, key) ? b[key] : undefined;
}

/** The global ARGs, evaluated in order against the automatic args and the globals so far. */
function evaluateMetaArgs(metaArgs: ArgInstruction[], opts: ResolveOptions, lex: LexOptions): BuildEnv {
  const env = new BuildEnv(platformArgs(opts));
  for (const arg of metaArgs) {
    for (const d of arg.args) {
      const key = expandAt(d.key, env, arg.range, lex);
      const given = buildArg(opts, key);
      if (given !== undefined) env.set(key, given);
      else if (d.value !== undefined) env.set(key, expandAt(d.value, env, arg.range, lex));
    }
  }
  return env;
}

/** Expands FROM's base name and platform with the global scope; a blank result is an error. */
function resolveFrom(
  from: FromInstruction,
  globals: BuildEnv,
  lex: LexOptions,
): { base: string; platform?: string } {
  const base = expandAt(from.baseName, globals, from.range, lex);
  if (base === "") {
    throw new DockerfileError(`base name (${from.baseName}) should not be blank`, from.range, {
      code: "DOCKERFILE_SEMANTIC",
      suggestion: "a global ARG with a default before the first FROM",
    });
  }
  const platform =
    from.platform === undefined ? undefined : expandAt(from.platform, globals, from.range, lex);
  return platform === undefined ? { base } : { base, platform };
}

/**
 * Each stage's FROM after expansion with the global ARGs (throws as resolveDockerfile would), so a
 * builder can look its base images up before it resolves the rest with their environments.
 */
export function resolveBaseNames(
  df: StagedDockerfile,
  opts: ResolveOptions = {},
): { base: string; platform?: string }[] {
  const lex: LexOptions = { escapeToken: df.escapeToken };
  const globals = evaluateMetaArgs(df.metaArgs, opts, lex);
  return df.stages.map((s) => resolveFrom(s.from, globals, lex));
}

/** Checks COPY --from: no variables, and a stage reference must point backwards. */
function checkCopyFrom(
  inst: CopyInstruction,
  stage: Stage,
  all: Stage[],
  env: ShellEnv,
  lex: LexOptions,
): void {
  const from = inst.from;
  if (from === undefined) return;
  let expanded: string;
  try {
    expanded = expandWord(from, env, lex);
  } catch {
    expanded = `${from}\0`;
  }
  if (expanded !== from) {
    throw new DockerfileError(
      `variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround`,
      inst.range,
      { code: "DOCKERFILE_SEMANTIC" },
    );
  }
  if (/^\d+$/.test(from)) {
    const i = Number(from);
    if (i >= stage.index) {
      throw new DockerfileError(
        `invalid stage index ${from}: it needs to be defined before the current stage`,
        inst.range,
        {
          code: "DOCKERFILE_SEMANTIC",
        },
      );
    }
    return;
  }
  const target = all.find((s) => s.name === from.toLowerCase());
  if (target && target.index >= stage.index) {
    throw new DockerfileError(
      `cannot copy from stage "${from}", it needs to be defined before current stage "${stage.id}"`,
      inst.range,
      { code: "DOCKERFILE_SEMANTIC" },
    );
  }
}

/** A COPY/ADD source that names something to download (BuildKit's isURL and git reference checks). */
export function isRemoteSource(src: string): boolean {
  return (
    /^(https?|git):\/\//.test(src) || /^git@/.test(src) || (/\.git(#.*)?$/.test(src) && src.includes("://"))
  );
}

/**
 * What BuildKit refuses only after it expanded an instruction's words, checked here so that the
 * editor and the builder give the same verdict: expansion errors, an empty VOLUME, a URL source of
 * COPY, heredoc bodies, and RUN mounts (options, and a `from` that names a later stage).
 */
function checkExpanded(
  inst: Instruction,
  stage: Stage,
  all: Stage[],
  env: ShellEnv,
  escapeToken: "\\" | "`",
): void {
  const words = expandInstruction(inst, env, escapeToken);
  const semantic = (message: string): never => {
    throw new DockerfileError(message, inst.range, { code: "DOCKERFILE_SEMANTIC" });
  };
  if (inst.kind === "volume" && words.list?.some((v) => v.trim() === ""))
    semantic("VOLUME specified can not be an empty string");
  if (inst.kind === "copy" && words.sources?.some(isRemoteSource)) semantic("source can't be a URL for COPY");
  if (inst.kind === "copy" || inst.kind === "add") {
    for (const h of inst.heredocSources) if (h.expand) expandHeredocBody(h.data, env, inst.range);
  }
  for (const m of words.mounts ?? []) {
    if (m.from === "" || m.type === "tmpfs") continue;
    const later = all.find((s) => s.name === m.from.toLowerCase() && s.index >= stage.index);
    if (later)
      semantic(
        `cannot mount from stage "${m.from}", it needs to be defined before current stage "${stage.id}"`,
      );
  }
}

/**
 * Walks every stage in order and records the environment each instruction sees. ENV values are
 * expanded against the environment before the instruction; an ARG takes its build arg (not
 * expanded), else its expanded default, else the global value; an ARG left without a value is
 * declared but not set. Throws DockerfileError where a name cannot be resolved.
 */
export function resolveDockerfile(df: StagedDockerfile, opts: ResolveOptions = {}): ResolvedDockerfile {
  const lex: LexOptions = { escapeToken: df.escapeToken };
  const globals = evaluateMetaArgs(df.metaArgs, opts, lex);
  // BuildKit expands every stage's FROM before it dispatches any instruction, so an unmatched
  // quote in a later FROM is the error reported even when an earlier stage has one too.
  const froms = df.stages.map((s) => resolveFrom(s.from, globals, lex));
  const out: ResolvedStage[] = [];
  for (const stage of df.stages) {
    const { base, platform } = froms[stage.index] ?? resolveFrom(stage.from, globals, lex);
    const parent = out.find((s) => s.stage.name !== undefined && s.stage.name === base.toLowerCase());
    let env: BuildEnv;
    const declared = new Set<string>();
    if (parent) {
      env = parent.finalEnv.clone();
      for (const a of parent.declaredArgs) declared.add(a);
    } else {
      env = new BuildEnv();
      for (const pair of (base === "scratch" ? [] : opts.imageEnv?.(base)) ?? []) {
        const i = pair.indexOf("=");
        env.set(i < 0 ? pair : pair.slice(0, i), i < 0 ? "" : pair.slice(i + 1));
      }
      if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
    }
    const steps: ResolvedStep[] = [];
    for (const inst of stage.instructions) {
      steps.push({ instruction: inst, env: env.clone() });
      if (inst.kind === "env") {
        const before = env.clone();
        for (const p of inst.pairs) {
          env.set(expandAt(p.key, before, inst.range, lex), expandAt(p.value, before, inst.range, lex));
        }
      } else if (inst.kind === "arg") {
        for (const d of inst.args) {
          const key = expandAt(d.key, env, inst.range, lex);
          declared.add(key);
          const given = buildArg(opts, key);
          let value: string | undefined;
          if (given !== undefined) value = given;
          else if (d.value !== undefined) value = expandAt(d.value, env, inst.range, lex);
          else value = globals.get(key);
          if (value !== undefined) env.set(key, value);
        }
      } else {
        if (inst.kind === "copy") checkCopyFrom(inst, stage, df.stages, env, lex);
        checkExpanded(inst, stage, df.stages, env, df.escapeToken);
      }
    }
    out.push({
      stage,
      baseName: base,
      baseStage: parent?.stage.index,
      platform,
      steps,
      finalEnv: env,
      declaredArgs: declared,
    });
  }
  return { globalArgs: globals, stages: out };
}

/** The words of an instruction after BuildKit's expansion; fields absent for kinds it does not expand. */
export interface ExpandedWords {
  /** ENV/LABEL pairs. */
  pairs?: [string, string][];
  /** ADD/COPY sources and destination. */
  sources?: string[];
  dest?: string;
  chown?: string;
  chmod?: string;
  checksum?: string;
  /** WORKDIR path, USER, STOPSIGNAL. */
  value?: string;
  /** VOLUME entries, EXPOSE ports (word-split). */
  list?: string[];
  /** RUN --mount values, each option value expanded on its own as BuildKit does. */
  mounts?: RunMount[];
  /** Variable names referenced but not set (for the UndefinedVar check). */
  unmatched: Set<string>;
}

/**
 * Expands the words BuildKit expands for this instruction with `env` (ProcessWord; EXPOSE with
 * ProcessWords). RUN/CMD/ENTRYPOINT/HEALTHCHECK commands, SHELL, MAINTAINER, ONBUILD, COPY --from
 * and --exclude are returned unexpanded (absent). ARG is handled by resolveDockerfile.
 */
export function expandInstruction(
  inst: Instruction,
  env: ShellEnv,
  escapeToken: "\\" | "`" = "\\",
): ExpandedWords {
  const unmatched = new Set<string>();
  const lex: LexOptions = { escapeToken };
  const one = (w: string) => {
    try {
      const r = lexWord(w, env, lex);
      for (const u of r.unmatched) unmatched.add(u);
      return r.word;
    } catch (e) {
      if (e instanceof DockerfileError) return expandAt(w, env, inst.range, lex);
      throw e;
    }
  };
  switch (inst.kind) {
    case "env":
    case "label":
      return { pairs: inst.pairs.map((p) => [one(p.key), one(p.value)]), unmatched };
    case "add":
    case "copy": {
      const r: ExpandedWords = { sources: inst.sources.map(one), dest: one(inst.dest), unmatched };
      if (inst.chown !== undefined) r.chown = one(inst.chown);
      if (inst.chmod !== undefined) r.chmod = one(inst.chmod);
      if (inst.kind === "add" && inst.checksum !== undefined) r.checksum = one(inst.checksum);
      return r;
    }
    case "workdir":
      return { value: one(inst.path), unmatched };
    case "user":
      return { value: one(inst.user), unmatched };
    case "stopsignal":
      return { value: one(inst.signal), unmatched };
    case "volume":
      return { list: inst.volumes.map(one), unmatched };
    case "expose": {
      const list: string[] = [];
      for (const p of inst.ports) {
        try {
          const r = lexWord(p, env, lex);
          for (const u of r.unmatched) unmatched.add(u);
          list.push(...r.words);
        } catch (e) {
          if (e instanceof DockerfileError) list.push(...expandWordsAt(p, env, inst.range, lex));
          else throw e;
        }
      }
      return { list, unmatched };
    }
    case "run":
      return {
        mounts: inst.mounts.map((m) => parseRunMount(m, rangeInNode(inst.node, `--mount=${m}`), one)),
        unmatched,
      };
    default:
      return { unmatched };
  }
}

function expandWordsAt(word: string, env: ShellEnv, range: Range, opts: LexOptions): string[] {
  try {
    return expandWords(word, env, opts);
  } catch (e) {
    if (e instanceof DockerfileError)
      throw new DockerfileError(e.message, range, { code: "DOCKERFILE_SEMANTIC" });
    throw e;
  }
}

/**
 * Expands a COPY/ADD heredoc body whose delimiter was unquoted, as BuildKit's ExpandRaw does: quotes
 * are ordinary characters, `\\` is always the escape, `$VAR` and `${VAR...}` are expanded.
 */
export function expandHeredocBody(data: string, env: ShellEnv, range?: Range): string {
  const opts: LexOptions = { skipProcessQuotes: true, escapeToken: "\\" };
  return range ? expandAt(data, env, range, opts) : expandWord(data, env, opts);
}
