/**
 * The build driver: the Dockerfile goes through the front end (src/core/dockerfile: parse, typed
 * stages, ARG/ENV scoping and every check the editor shows, in check.ts), then the needed stages
 * are dispatched in file order, one step per instruction with Docker's build cache around it.
 * Layers come only from RUN, COPY, ADD and a WORKDIR that creates its directory; every other
 * instruction is a history entry with `empty_layer: true`. Time stamps are pinned
 * (SOURCE_DATE_EPOCH), so the same Dockerfile and context always give the same digests.
 *
 * Where the rest lives: stages.ts (target, needed stages, FROM), dispatch-config.ts (ENV, LABEL,
 * ARG, USER, WORKDIR, EXPOSE, ...), dispatch-run.ts (RUN and its mounts), dispatch-copy.ts (COPY
 * and ADD), step.ts (a step with the build cache), state.ts (what they share), failure.ts
 * (BuildFailure).
 */
import { type CheckedDockerfile, checkDockerfile } from "../dockerfile/check.ts";
import { buildStages, type Instruction, parseOnbuildTrigger } from "../dockerfile/instructions.ts";
import { parseDockerfile } from "../dockerfile/parser.ts";
import {
  type ResolvedDockerfile,
  type ResolvedStage,
  type ResolveOptions,
  resolveBaseNames,
} from "../dockerfile/resolve.ts";
import { envFromMap, expandWord, expandWords } from "../dockerfile/shell.ts";
import { DockerfileError, LayerLabError, type Range, throwIfAborted } from "../errors.ts";
import { BuildCache } from "./cache.ts";
import { ContextView } from "./context.ts";
import { planConfig } from "./dispatch-config.ts";
import { planCopy } from "./dispatch-copy.ts";
import { planRun } from "./dispatch-run.ts";
import { BuildFailure } from "./failure.ts";
import { chainIds, storeImage } from "./image-out.ts";
import { chainResolvers, storeResolver } from "./resolver.ts";
import { neededStages, pickTarget, stageRef, startStage } from "./stages.ts";
import { clone, type DispatchContext, isoTime, type StageState, type StepPlan } from "./state.ts";
import { runStep } from "./step.ts";
import type {
  BaseImage,
  BuildEvent,
  BuildImageConfig,
  BuildOptions,
  BuildResult,
  ImageResolver,
} from "./types.ts";

export { BuildFailure } from "./failure.ts";

/** Builds a Dockerfile into an image in the store, streaming its log as events. */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const b = new Builder(options);
  return b.run();
}

/** How a step shows in the log: its text and line (a base image's ONBUILD trigger shows at FROM). */
interface Shown {
  text: string;
  line: number;
}

class Builder implements DispatchContext {
  readonly opts: BuildOptions;
  readonly epoch: number;
  readonly events: BuildEvent[] = [];
  readonly images: ImageResolver;
  readonly cache: BuildCache;
  private escapeToken: "\\" | "`" = "\\";
  private view: ContextView | undefined;
  private df: ResolvedDockerfile | undefined;
  private readonly stages = new Map<number, StageState>();
  private step = 0;
  private totalSteps = 0;
  private cachedSteps = 0;
  private readonly imageCache = new Map<string, BaseImage | undefined>();
  private readonly usedBuildArgs = new Set<string>();

  constructor(opts: BuildOptions) {
    this.opts = opts;
    this.epoch = opts.epoch ?? 0;
    const store = storeResolver(opts.store);
    const list = [opts.images ?? store];
    if (opts.builtins) list.push(opts.builtins);
    this.images = chainResolvers(...list);
    this.cache = opts.cache ?? new BuildCache();
  }

  emit(e: BuildEvent): void {
    this.events.push(e);
    this.opts.onEvent?.(e);
  }

  expand(stage: StageState, word: string, range: Range): string {
    return expandWord(word, envFromMap(stage.env), { escapeToken: this.escapeToken, at: range });
  }

  expandFields(stage: StageState, word: string, range: Range): string[] {
    return expandWords(word, envFromMap(stage.env), { escapeToken: this.escapeToken, at: range });
  }

  async resolveImage(ref: string, platform?: string): Promise<BaseImage | undefined> {
    const key = `${ref}\0${platform ?? ""}`;
    if (!this.imageCache.has(key)) this.imageCache.set(key, await this.images.resolve(ref, platform));
    return this.imageCache.get(key);
  }

  builtStage(ref: string, before: number): StageState | undefined {
    const rs = this.df ? stageRef(this.df, ref, before) : undefined;
    return rs ? this.stages.get(rs.stage.index) : undefined;
  }

  async contextView(): Promise<ContextView> {
    if (!this.view) this.view = await ContextView.open(this.opts.context);
    return this.view;
  }

  takeBuildArg(name: string): string | undefined {
    const given = this.opts.buildArgs;
    if (!given || !Object.hasOwn(given, name)) return undefined;
    this.usedBuildArgs.add(name);
    return given[name];
  }

  globalArg(name: string): string | undefined {
    return this.df?.globalArgs.get(name);
  }

  /**
   * The front end's verdict, with the base images' Env known so that `${VAR:?}` and friends see
   * what BuildKit's expansion sees. Throws the DockerfileError the editor shows for the same text.
   */
  private async check(): Promise<CheckedDockerfile> {
    const ast = parseDockerfile(this.opts.dockerfile);
    this.escapeToken = ast.escapeToken;
    for (const w of ast.warnings)
      this.emit({ kind: "warning", message: w.message, line: w.range.start.line });
    const staged = buildStages(ast);
    const ropts: ResolveOptions = {
      ...(this.opts.buildArgs ? { buildArgs: this.opts.buildArgs } : {}),
      ...(this.opts.target ? { target: this.opts.target } : {}),
      ...(this.opts.platform ? { targetPlatform: this.opts.platform } : {}),
    };
    const envs = new Map<string, readonly string[] | undefined>();
    for (const [i, { base, platform }] of resolveBaseNames(staged, ropts).entries()) {
      const isStage = staged.stages.some((s) => s.index < i && s.name === base.toLowerCase());
      if (isStage || base.toLowerCase() === "scratch" || envs.has(base)) continue;
      envs.set(base, (await this.resolveImage(base, platform))?.config.config?.Env ?? undefined);
    }
    const checked = checkDockerfile(ast, { ...ropts, imageEnv: (ref) => envs.get(ref) });
    for (const a of staged.metaArgs) for (const d of a.args) this.takeBuildArg(d.key);
    return checked;
  }

  async run(): Promise<BuildResult> {
    const started = Date.now();
    const { resolved } = await this.check();
    this.df = resolved;
    const target = pickTarget(resolved, this.opts.target);
    const needed = neededStages(resolved, target);
    this.totalSteps = needed.reduce((n, s) => n + 1 + s.stage.instructions.length, 0);
    this.emit({ kind: "start", steps: this.totalSteps, stages: needed.length });
    for (const rs of needed) {
      throwIfAborted(this.opts.signal, "build");
      await this.buildStage(rs);
    }
    const final = this.stages.get(target.stage.index) as StageState;
    for (const name of Object.keys(this.opts.buildArgs ?? {})) {
      if (!this.usedBuildArgs.has(name)) {
        this.emit({
          kind: "warning",
          message: `[Warning] One or more build-args [${name}] were not consumed`,
        });
      }
    }
    const notes: Record<string, string> = { builtFrom: "Dockerfile" };
    if (final.standIn) notes.standIn = final.standIn;
    const config = this.finalConfig(final);
    const { record, manifest } = await storeImage(
      this.opts.store,
      config,
      final.layers,
      this.opts.tags ?? [],
      notes,
    );
    this.emit({
      kind: "done",
      image: record.id,
      ms: Date.now() - started,
      layers: final.layers.length,
      cachedSteps: this.cachedSteps,
    });
    return {
      id: record.id,
      manifest,
      config,
      layers: record.layers,
      chainIds: await chainIds(record.layers),
      history: config.history ?? [],
      events: this.events,
      cachedSteps: this.cachedSteps,
      totalSteps: this.totalSteps,
    };
  }

  private finalConfig(stage: StageState): BuildImageConfig {
    const c = clone(stage.config);
    c.created = isoTime(this.epoch);
    return c;
  }

  private startStep(stage: StageState, shown: Shown): number {
    this.step += 1;
    this.emit({
      kind: "step",
      step: this.step,
      steps: this.totalSteps,
      stage: stage.label,
      instruction: shown.text,
      line: shown.line,
    });
    return this.step;
  }

  private async buildStage(rs: ResolvedStage): Promise<void> {
    const started = Date.now();
    const from = rs.stage.from;
    this.step += 1;
    const step = this.step;
    this.emit({
      kind: "step",
      step,
      steps: this.totalSteps,
      stage: rs.stage.id,
      instruction: from.node.original.trim(),
      line: from.range.start.line,
    });
    const parent = rs.baseStage === undefined ? undefined : this.stages.get(rs.baseStage);
    const stage = await startStage(this, rs, parent, step);
    this.emit({
      kind: "stage",
      index: rs.stage.index,
      name: stage.label,
      base: rs.baseName,
      ...(stage.standIn ? { standIn: stage.standIn } : {}),
    });
    this.emit({ kind: "step-done", step, cached: false, ms: Date.now() - started, emptyLayer: true });
    this.stages.set(rs.stage.index, stage);
    stage.fs.beginStep();
    // ONBUILD triggers of the base run first, then are cleared (they do not pass to grandchildren).
    const cc = stage.config.config;
    const triggers = cc.OnBuild ?? [];
    if (triggers.length > 0) {
      cc.OnBuild = null;
      this.totalSteps += triggers.length;
      for (const t of triggers) {
        if (parseDockerfile(t).instructions.length === 0) continue;
        const shown = { text: `ONBUILD ${t}`, line: from.range.start.line };
        await this.dispatch(stage, shown, () => parseOnbuildTrigger(t), true);
      }
    }
    for (const inst of rs.stage.instructions) {
      throwIfAborted(this.opts.signal, "build");
      await this.dispatch(
        stage,
        { text: inst.node.original.trim(), line: inst.range.start.line },
        () => inst,
      );
    }
  }

  private plan(stage: StageState, inst: Instruction): StepPlan | Promise<StepPlan> {
    switch (inst.kind) {
      case "run":
        return planRun(this, stage, inst);
      case "copy":
      case "add":
        return planCopy(this, stage, inst);
      default:
        return planConfig(this, stage, inst);
    }
  }

  /**
   * Plans one instruction and runs it through the cache (step.ts). A trigger from a base image is not the Dockerfile's text, so its errors are build failures.
   */
  private async dispatch(
    stage: StageState,
    shown: Shown,
    read: () => Instruction,
    fromBase = false,
  ): Promise<void> {
    const step = this.startStep(stage, shown);
    const started = Date.now();
    const where = { line: shown.line, step, instruction: shown.text };
    try {
      const plan = await this.plan(stage, read());
      if (await runStep(this, stage, plan, step, started)) this.cachedSteps += 1;
    } catch (e) {
      if (e instanceof BuildFailure) throw e;
      if (e instanceof DockerfileError && !fromBase) throw e;
      // A full store is not the step's fault: it keeps its numbers for the page.
      if (e instanceof LayerLabError && (e.code === "CANCELLED" || e.code === "STORAGE_FULL")) throw e;
      const msg = e instanceof Error ? e.message.replace(/^line \d+, column \d+: /, "") : String(e);
      throw new BuildFailure(fromBase ? `ONBUILD trigger of the base image: ${msg}` : msg, where);
    }
  }
}
