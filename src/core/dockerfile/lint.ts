/**
 * Lint findings as data, using BuildKit's rule names (frontend/dockerfile/linter/ruleset.go).
 * Linting never throws on a parsed Dockerfile: an instruction that fails to type-check is skipped
 * here (buildStages reports it as an error).
 */
import { DockerfileError, type Range } from "../errors.ts";
import { type Instruction, parseInstruction, suggest } from "./instructions.ts";
import type { DockerfileAst, InstructionNode } from "./parser.ts";
import { BuildEnv, DEFAULT_PATH, expandInstruction } from "./resolve.ts";
import { lexWord } from "./shell.ts";

/** A rule BuildKit's linter knows. */
export type LintRule =
  | "JSONArgsRecommended"
  | "StageNameCasing"
  | "FromAsCasing"
  | "MaintainerDeprecated"
  | "DuplicateStageName"
  | "UndefinedVar"
  | "WorkdirRelativePath"
  | "ConsistentInstructionCasing"
  | "LegacyKeyValueFormat"
  | "NoEmptyContinuation"
  | "ReservedStageName"
  | "MultipleInstructionsDisallowed"
  | "UndefinedArgInFrom"
  | "SecretsUsedInArgOrEnv"
  | "ExposeProtoCasing";

/** One lint finding. */
export interface LintFinding {
  rule: LintRule;
  message: string;
  range: Range;
  /** "error" when `# check=error=true` is set. */
  severity: "warning" | "error";
  /** BuildKit's documentation page for the rule. */
  url: string;
}

export interface LintOptions {
  /** Build args (names count as defined for UndefinedVar and UndefinedArgInFrom). */
  buildArgs?: Record<string, string>;
  /** The Env of a base image, when known. */
  imageEnv?: (ref: string) => readonly string[] | undefined;
}

const PLATFORM_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDOSVERSION",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETOSVERSION",
  "TARGETARCH",
  "TARGETVARIANT",
  "TARGETSTAGE",
];

function url(rule: LintRule): string {
  const kebab = rule
    .replace(/([a-z])([A-Z])/g, "$1-$2")
    .replace(/JSONArgs/, "json-args")
    .toLowerCase();
  return `https://docs.docker.com/go/dockerfile/rule/${kebab}/`;
}

/** `# check=skip=A,B;error=true` → which rules to skip and whether findings are errors. */
function readCheckDirective(ast: DockerfileAst): { skip: Set<string>; all: boolean; error: boolean } {
  const skip = new Set<string>();
  let all = false;
  let error = false;
  const d = ast.directives.find((x) => x.name === "check");
  for (const part of (d?.value ?? "").split(";")) {
    const [k, v = ""] = part.split("=", 2).map((s) => s.trim()) as [string, string?];
    if (k === "skip") {
      for (const r of v.split(",")) {
        const name = r.trim();
        if (name.toLowerCase() === "all") all = true;
        else if (name) skip.add(name);
      }
    } else if (k === "error") error = v.toLowerCase() === "true";
  }
  return { skip, all, error };
}

const SECRET_NAME =
  /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_NAME = /(?:_|^)(?:public)(?:_|$)/i;

function buildArgOf(opts: LintOptions, key: string): string | undefined {
  return opts.buildArgs && Object.hasOwn(opts.buildArgs, key) ? opts.buildArgs[key] : undefined;
}

function isUpper(s: string): boolean {
  return s === s.toUpperCase();
}
function isLower(s: string): boolean {
  return s === s.toLowerCase();
}

/** Lints a parsed Dockerfile; returns findings sorted by position. */
export function lintDockerfile(ast: DockerfileAst, opts: LintOptions = {}): LintFinding[] {
  const check = readCheckDirective(ast);
  const findings: LintFinding[] = [];
  const add = (rule: LintRule, message: string, range: Range) => {
    if (check.all || check.skip.has(rule)) return;
    findings.push({ rule, message, range, severity: check.error ? "error" : "warning", url: url(rule) });
  };
  const lex = { escapeToken: ast.escapeToken };

  for (const w of ast.warnings) {
    if (w.rule === "NoEmptyContinuation") add("NoEmptyContinuation", w.message, w.range);
  }

  // ConsistentInstructionCasing: compare with the majority casing of the file.
  const cased = ast.instructions.map((n) => n.keywordAsWritten).filter((k) => /[a-z]/i.test(k));
  const upper = cased.filter(isUpper).length;
  const lower = cased.filter(isLower).length;
  const wantUpper = upper >= lower;
  for (const n of ast.instructions) {
    const k = n.keywordAsWritten;
    if (wantUpper ? !isUpper(k) : !isLower(k)) {
      add(
        "ConsistentInstructionCasing",
        `Command '${k}' should match the case of the command majority (${wantUpper ? "uppercase" : "lowercase"})`,
        n.range,
      );
    }
  }

  const globals = new BuildEnv(PLATFORM_ARGS.map((a) => [a, ""]));
  const known = (name: string, env: BuildEnv) =>
    env.has(name) || (opts.buildArgs !== undefined && Object.hasOwn(opts.buildArgs, name));
  const stageNames = new Map<string, InstructionNode>();
  let stage:
    | {
        env: BuildEnv;
        name?: string;
        hasAbsWorkdir: boolean;
        shellSet: boolean;
        counts: Map<string, InstructionNode[]>;
      }
    | undefined;
  const stageEnvs = new Map<string, BuildEnv>();
  const stageAbsWorkdir = new Map<string, boolean>();

  const finishStage = () => {
    if (!stage) return;
    for (const [kind, nodes] of stage.counts) {
      for (const n of nodes.slice(0, -1)) {
        add(
          "MultipleInstructionsDisallowed",
          `Multiple ${kind.toUpperCase()} instructions should not be used in the same stage because only the last one will be used`,
          n.range,
        );
      }
    }
    if (stage.name) {
      stageEnvs.set(stage.name, stage.env);
      stageAbsWorkdir.set(stage.name, stage.hasAbsWorkdir);
    }
  };

  const undefinedVars = (names: Iterable<string>, env: BuildEnv, range: Range) => {
    for (const name of names) {
      if (known(name, env)) continue;
      const s = suggest(name, [...env.keys()]);
      add(
        "UndefinedVar",
        `Usage of undefined variable '$${name}'${s ? ` (did you mean $${s}?)` : ""}`,
        range,
      );
    }
  };

  for (const node of ast.instructions) {
    let inst: Instruction | ReturnType<typeof parseInstruction>;
    try {
      inst = parseInstruction(node);
    } catch (e) {
      if (e instanceof DockerfileError) continue;
      throw e;
    }
    if (inst.kind === "from") {
      finishStage();
      // UndefinedArgInFrom: a variable in FROM that no global ARG declares.
      try {
        const r = lexWord(inst.baseName, globals, lex);
        for (const name of r.unmatched) {
          if (known(name, globals)) continue;
          const s = suggest(name, [...globals.keys()]);
          add(
            "UndefinedArgInFrom",
            `FROM argument '${name}' is not declared${s ? ` (did you mean ${s}?)` : ""}`,
            inst.range,
          );
        }
      } catch (e) {
        if (!(e instanceof DockerfileError)) throw e;
      }
      let env: BuildEnv | undefined;
      const base = inst.baseName.toLowerCase();
      const parentEnv = stageEnvs.get(base);
      if (parentEnv) env = parentEnv.clone();
      else {
        env = new BuildEnv();
        for (const pair of opts.imageEnv?.(inst.baseName) ?? []) {
          const i = pair.indexOf("=");
          env.set(i < 0 ? pair : pair.slice(0, i), i < 0 ? "" : pair.slice(i + 1));
        }
        if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
      }
      const inherited = stageAbsWorkdir.get(base) ?? false;
      stage = { env, hasAbsWorkdir: inherited, shellSet: false, counts: new Map() };
      const asName = inst.stageNameAsWritten;
      if (asName !== undefined && inst.stageName !== undefined) {
        stage.name = inst.stageName;
        if (asName !== asName.toLowerCase()) {
          add("StageNameCasing", `Stage name '${asName}' should be lowercase`, inst.range);
        }
        const as = inst.asKeywordAsWritten!;
        const from = node.keywordAsWritten;
        if ((isUpper(from) && !isUpper(as)) || (isLower(from) && !isLower(as))) {
          add("FromAsCasing", `'${as}' and '${from}' keywords' casing do not match`, inst.range);
        }
        if (inst.stageName === "scratch" || inst.stageName === "context") {
          add(
            "ReservedStageName",
            `'${inst.stageName}' is reserved and should not be used as a stage name`,
            inst.range,
          );
        }
        const prev = stageNames.get(inst.stageName);
        if (prev) {
          add(
            "DuplicateStageName",
            `Duplicate stage name "${inst.stageName}", stage names should be unique`,
            inst.range,
          );
        } else stageNames.set(inst.stageName, node);
      }
      continue;
    }
    if (inst.kind === "maintainer") {
      add("MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", inst.range);
    }
    if (!stage) {
      if (inst.kind === "arg") {
        for (const d of inst.args) {
          let value: string | undefined;
          try {
            value = d.value === undefined ? undefined : lexWord(d.value, globals, lex).word;
          } catch (e) {
            if (!(e instanceof DockerfileError)) throw e;
          }
          const given = buildArgOf(opts, d.key);
          globals.set(d.key, given ?? value ?? "");
        }
      }
      continue;
    }
    const env = stage.env;
    if (inst.kind === "cmd" || inst.kind === "entrypoint" || inst.kind === "healthcheck") {
      const list = stage.counts.get(inst.kind) ?? [];
      list.push(node);
      stage.counts.set(inst.kind, list);
    }
    if ((inst.kind === "cmd" || inst.kind === "entrypoint") && inst.prependShell && !stage.shellSet) {
      add(
        "JSONArgsRecommended",
        `JSON arguments recommended for ${inst.kind.toUpperCase()} to prevent unintended behavior related to OS signals`,
        inst.range,
      );
    }
    if (inst.kind === "shell") stage.shellSet = true;
    const secretNames =
      inst.kind === "env"
        ? inst.pairs.map((p) => p.key)
        : inst.kind === "arg"
          ? inst.args.map((a) => a.key)
          : [];
    for (const key of secretNames) {
      if (SECRET_NAME.test(key) && !PUBLIC_NAME.test(key)) {
        add(
          "SecretsUsedInArgOrEnv",
          `Do not use ARG or ENV instructions for sensitive data (${inst.kind.toUpperCase()} "${key}")`,
          inst.range,
        );
      }
    }
    if (inst.kind === "expose") {
      for (const port of inst.ports) {
        const proto = port.split("/")[1];
        if (proto && proto !== proto.toLowerCase()) {
          add(
            "ExposeProtoCasing",
            `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
            inst.range,
          );
        }
      }
    }
    if ((inst.kind === "env" || inst.kind === "label") && inst.pairs.some((p) => p.legacyForm)) {
      const k = inst.kind.toUpperCase();
      add(
        "LegacyKeyValueFormat",
        `"${k} key=value" should be used instead of legacy "${k} key value" format`,
        inst.range,
      );
    }
    let expanded: ReturnType<typeof expandInstruction> | undefined;
    try {
      expanded = expandInstruction(inst, env, ast.escapeToken);
    } catch (e) {
      if (!(e instanceof DockerfileError)) throw e;
    }
    if (expanded) undefinedVars(expanded.unmatched, env, inst.range);
    if (inst.kind === "workdir" && expanded?.value !== undefined) {
      if (expanded.value.startsWith("/")) stage.hasAbsWorkdir = true;
      else if (!stage.hasAbsWorkdir) {
        add(
          "WorkdirRelativePath",
          `Relative workdir "${expanded.value}" can have unexpected results if the base image changes`,
          inst.range,
        );
      }
    }
    if (inst.kind === "env" && expanded?.pairs) {
      for (const [k, v] of expanded.pairs) env.set(k, v);
    }
    if (inst.kind === "arg") {
      for (const d of inst.args) {
        let value: string | undefined;
        if (d.value !== undefined) {
          try {
            const r = lexWord(d.value, env, lex);
            undefinedVars(r.unmatched, env, inst.range);
            value = r.word;
          } catch (e) {
            if (!(e instanceof DockerfileError)) throw e;
          }
        }
        env.set(d.key, buildArgOf(opts, d.key) ?? value ?? globals.get(d.key) ?? "");
      }
    }
  }
  finishStage();
  findings.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.column - b.range.start.column,
  );
  return findings;
}
