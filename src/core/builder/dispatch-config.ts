/**
 * The instructions that change only the image config: ENV, LABEL, ARG, USER, WORKDIR (which also
 * creates its directory), EXPOSE, VOLUME, STOPSIGNAL, MAINTAINER, SHELL, CMD, ENTRYPOINT,
 * HEALTHCHECK and ONBUILD. Each takes the front end's typed instruction (flags already read and
 * checked) and expands the words BuildKit expands with the stage's environment at that moment.
 */
import type {
  ArgInstruction,
  CmdInstruction,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  Instruction,
  LabelInstruction,
  OnbuildInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "../dockerfile/instructions.ts";
import { cleanPath as toRel } from "../fs/paths.ts";
import { BashFs } from "./bash-fs.ts";
import {
  DEFAULT_SHELL,
  type DispatchContext,
  resolveRunUser,
  type StageState,
  type StepPlan,
  simplePlan,
  splitPair,
} from "./state.ts";
import type { HealthConfig } from "./types.ts";

/** The instructions this file dispatches. */
export type ConfigInstruction = Exclude<Instruction, { kind: "run" | "copy" | "add" }>;

/** Go's %q of a []string: `["a" "b"]`. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/** Go's %q of a time.Duration: `"30s"`, `"1m30s"`, `"0s"`. */
function goDuration(ns: number | undefined): string {
  let n = ns ?? 0;
  if (n === 0) return '"0s"';
  let out = "";
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = n / 1e9;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  out += `${Number(s.toFixed(9))}s`;
  return `"${out}"`;
}

function planEnvOrLabel(ctx: DispatchContext, stage: StageState, inst: EnvInstruction | LabelInstruction) {
  const cc = stage.config.config;
  const pairs = inst.pairs.map((p): [string, string] => [
    ctx.expand(stage, p.key, inst.range),
    ctx.expand(stage, p.value, inst.range),
  ]);
  const text = `${inst.kind.toUpperCase()} ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`;
  return simplePlan(text, text, () => {
    if (inst.kind === "env") {
      const env = [...(cc.Env ?? [])];
      for (const [k, v] of pairs) {
        const i = env.findIndex((e) => splitPair(e)[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
        stage.env.set(k, v);
      }
      cc.Env = env;
    } else {
      cc.Labels = { ...(cc.Labels ?? {}) };
      for (const [k, v] of pairs) cc.Labels[k] = v;
    }
  });
}

/** ARG: a build arg wins (not expanded), else the expanded default, else the global ARG's value. */
function planArg(ctx: DispatchContext, stage: StageState, inst: ArgInstruction) {
  const decl = inst.args.map((d): [string, string | undefined] => {
    const name = ctx.expand(stage, d.key, inst.range);
    const given = ctx.takeBuildArg(name);
    if (given !== undefined) return [name, given];
    if (d.value !== undefined) return [name, ctx.expand(stage, d.value, inst.range)];
    return [name, ctx.globalArg(name)];
  });
  const text = `ARG ${decl.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(" ")}`;
  return simplePlan(text, text, () => {
    for (const [k, v] of decl) {
      stage.args.set(k, v);
      if (v !== undefined) stage.env.set(k, v);
    }
  });
}

function planWorkdir(ctx: DispatchContext, stage: StageState, inst: WorkdirInstruction): StepPlan {
  const cc = stage.config.config;
  const raw = ctx.expand(stage, inst.path, inst.range);
  const wd = `/${toRel(raw, cc.WorkingDir || "/")}`;
  const user = cc.User;
  return {
    instruction: `WORKDIR ${wd} ${user ?? ""}`,
    layer: wd !== "/",
    execute: async () => {
      cc.WorkingDir = wd;
      if (wd !== "/") {
        const owner = user ? await resolveRunUser(stage.fs, user) : { uid: 0, gid: 0 };
        new BashFs(stage.fs, owner).mkdirSync(wd, true, 0o755, owner);
      }
      return { createdBy: `WORKDIR ${wd}` };
    },
  };
}

function planExpose(ctx: DispatchContext, stage: StageState, inst: ExposeInstruction) {
  const cc = stage.config.config;
  const ports = inst.ports.flatMap((p) => ctx.expandFields(stage, p, inst.range));
  const norm = ports.map((p) => (p.includes("/") ? p.toLowerCase() : `${p}/tcp`)).sort();
  return simplePlan(`EXPOSE ${norm.join(" ")}`, `EXPOSE [${norm.join(" ")}]`, () => {
    cc.ExposedPorts = { ...(cc.ExposedPorts ?? {}) };
    for (const p of norm) cc.ExposedPorts[p] = {};
  });
}

function planVolume(ctx: DispatchContext, stage: StageState, inst: VolumeInstruction) {
  const cc = stage.config.config;
  // An empty entry after expansion was refused by the front end (resolve.ts) before the build.
  const vols = inst.volumes.map((v) => ctx.expand(stage, v, inst.range).trim());
  return simplePlan(`VOLUME ${vols.join(" ")}`, `VOLUME [${vols.join(" ")}]`, () => {
    cc.Volumes = { ...(cc.Volumes ?? {}) };
    for (const v of vols) cc.Volumes[v] = {};
  });
}

function planCommand(stage: StageState, inst: CmdInstruction | EntrypointInstruction) {
  const cc = stage.config.config;
  const argv = inst.prependShell
    ? [...(cc.Shell ?? DEFAULT_SHELL), inst.cmdLine[0] ?? ""]
    : [...inst.cmdLine];
  const text = `${inst.kind.toUpperCase()} ${goQuoteList(argv)}`;
  return simplePlan(text, text, () => {
    // BuildKit sets ArgsEscaped on CMD only (Docker-format compatibility), not on ENTRYPOINT.
    if (inst.kind === "cmd") {
      cc.Cmd = argv;
      cc.ArgsEscaped = true;
      stage.cmdSet = true;
    } else {
      cc.Entrypoint = argv;
      if (!stage.cmdSet) cc.Cmd = null;
    }
  });
}

/** HEALTHCHECK: durations and retries as the front end read them; 0 means "the default" and is left out. */
function planHealthcheck(stage: StageState, inst: HealthcheckInstruction) {
  const hc: HealthConfig = { Test: [...inst.test] };
  if (inst.test[0] !== "NONE") {
    if (inst.intervalNs) hc.Interval = inst.intervalNs;
    if (inst.timeoutNs) hc.Timeout = inst.timeoutNs;
    if (inst.startPeriodNs) hc.StartPeriod = inst.startPeriodNs;
    if (inst.startIntervalNs) hc.StartInterval = inst.startIntervalNs;
    if (inst.retries > 0) hc.Retries = inst.retries;
  }
  const retries = hc.Retries ?? 0;
  const text = `HEALTHCHECK &{${goQuoteList(hc.Test ?? [])} ${goDuration(hc.Interval)} ${goDuration(hc.Timeout)} ${goDuration(hc.StartPeriod)} ${goDuration(hc.StartInterval)} '${retries < 32 ? `\\x${retries.toString(16).padStart(2, "0")}` : String.fromCharCode(retries)}'}`;
  return simplePlan(JSON.stringify(hc), text, () => {
    stage.config.config.Healthcheck = hc;
  });
}

function planOnbuild(stage: StageState, inst: OnbuildInstruction): StepPlan {
  const cc = stage.config.config;
  // BuildKit records the trigger in the config only: ONBUILD adds no history entry.
  return {
    ...simplePlan(`ONBUILD ${inst.expression}`, "", () => {
      cc.OnBuild = [...(cc.OnBuild ?? []), inst.expression];
    }),
    history: false,
  };
}

/** Plans one config instruction. */
export function planConfig(ctx: DispatchContext, stage: StageState, inst: ConfigInstruction): StepPlan {
  const cc = stage.config.config;
  switch (inst.kind) {
    case "env":
    case "label":
      return planEnvOrLabel(ctx, stage, inst);
    case "arg":
      return planArg(ctx, stage, inst);
    case "workdir":
      return planWorkdir(ctx, stage, inst);
    case "user": {
      const u = ctx.expand(stage, inst.user, inst.range);
      return simplePlan(`USER ${u}`, `USER ${u}`, () => {
        cc.User = u;
      });
    }
    case "expose":
      return planExpose(ctx, stage, inst);
    case "volume":
      return planVolume(ctx, stage, inst);
    case "stopsignal": {
      const s = ctx.expand(stage, inst.signal, inst.range);
      return simplePlan(`STOPSIGNAL ${s}`, `STOPSIGNAL ${s}`, () => {
        cc.StopSignal = s;
      });
    }
    case "maintainer":
      return simplePlan(`MAINTAINER ${inst.maintainer}`, `MAINTAINER ${inst.maintainer}`, () => {
        stage.config.author = inst.maintainer;
      });
    case "shell":
      return simplePlan(`SHELL ${JSON.stringify(inst.shell)}`, `SHELL [${inst.shell.join(" ")}]`, () => {
        cc.Shell = [...inst.shell];
      });
    case "cmd":
    case "entrypoint":
      return planCommand(stage, inst);
    case "healthcheck":
      return planHealthcheck(stage, inst);
    case "onbuild":
      return planOnbuild(stage, inst);
  }
}
