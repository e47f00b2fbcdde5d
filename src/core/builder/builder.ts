/**
 * The build driver: Dockerfile → stages → one dispatch function per instruction → layers and an
 * image config laid out the way BuildKit writes them, stored in the Store. Layers come only from
 * RUN, COPY, ADD and a WORKDIR that creates its directory; every other instruction is a history
 * entry with `empty_layer: true`. Time stamps are pinned (SOURCE_DATE_EPOCH), so the same
 * Dockerfile and context always give the same digests.
 */
import { type Digest, sha256 } from "../digest.ts";
import type { InstructionNode } from "../dockerfile/parser.ts";
import { parseDockerfile } from "../dockerfile/parser.ts";
import { envFromMap, expandWord, expandWords } from "../dockerfile/shell.ts";
import { DockerfileError, LayerLabError, throwIfAborted } from "../errors.ts";
import type { Changeset, FileEntry } from "../fs/types.ts";
import type { HistoryEntry } from "../image/oci.ts";
import type { LayerRecord } from "../store/types.ts";
import { BashFs, type Owner } from "./bash-fs.ts";
import { BuildCache, type CacheRecord, missReason, type StageMeta } from "./cache.ts";
import { writeEntries } from "./commands/apt.ts";
import { ContextView, hasWildcard, matchPath } from "./context.ts";
import { contextSource, copyInto, followSource, fsSource, parseChmod, type SourceTree } from "./copy.ts";
import { chainIds, storeChangesetLayer, storeImage } from "./image-out.ts";
import { LayerFs, toRel } from "./layer-fs.ts";
import { chainResolvers, storeResolver } from "./resolver.ts";
import { runCommand } from "./run.ts";
import type {
  BaseImage,
  BuildEvent,
  BuildImageConfig,
  BuildOptions,
  BuildResult,
  HealthConfig,
  ImageResolver,
  PackageCatalog,
} from "./types.ts";
import { homeOf, resolveUser } from "./user-lookup.ts";

/** A build that stopped at an instruction: where, why, and the command's output. */
export class BuildFailure extends LayerLabError {
  readonly line: number;
  readonly step: number;
  readonly output: string;
  constructor(message: string, where: { line: number; step: number; instruction: string }, output = "") {
    super("BUILD", `step ${where.step} (line ${where.line}: ${where.instruction}): ${message}`);
    this.name = "BuildFailure";
    this.line = where.line;
    this.step = where.step;
    this.output = output;
  }
}

/** A RUN --mount. */
interface Mount {
  type: string;
  target: string;
  id: string;
  from?: string;
  source?: string;
  /** Set for a bind mount of a single file. */
  file?: boolean;
}

/** Layers written for image changesets that came without a stored tar (built-in bases). */
const materialised = new WeakMap<Changeset, Digest>();

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_SHELL = ["/bin/sh", "-c"];
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** One stage of the Dockerfile. */
interface StageDef {
  index: number;
  name: string | undefined;
  from: InstructionNode;
  base: string;
  platform: string | undefined;
  instructions: InstructionNode[];
}

/** A stage being built. */
interface Stage {
  def: StageDef;
  label: string;
  fs: LayerFs;
  config: BuildImageConfig;
  /** BuildKit's one ordered build environment: ENV and ARG values. */
  env: Map<string, string>;
  /** Declared stage ARGs in order, with their values (BuildKit's buildArgs). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  layers: LayerRecord[];
  key: string;
  packages: PackageCatalog | undefined;
  standIn: string | undefined;
  /** True once a step of this stage was rebuilt: every later step rebuilds too. */
  missed: boolean;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

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

/** Parses a Go duration ("30s", "1m30s", "500ms"). */
function parseDuration(text: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed !== text.length || text === "")
    throw new LayerLabError("BUILD", `${flag}: invalid duration '${text}'`);
  return Math.round(total);
}

type FlagValue = string | boolean | string[];

/** BuildKit's bflag rules: known flags only, strings need a value, lists repeat, booleans optional. */
function parseFlags(
  node: InstructionNode,
  spec: Record<string, "string" | "bool" | "list">,
): Map<string, FlagValue> {
  const out = new Map<string, FlagValue>();
  for (const raw of node.flags) {
    const body = raw.replace(/^--/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (!kind)
      throw new DockerfileError(`unknown flag: --${name}`, node.range, { code: "DOCKERFILE_SEMANTIC" });
    if (kind === "bool") {
      if (value === "")
        throw new DockerfileError(`missing a value on flag: --${name}`, node.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      const v = value === undefined ? true : value.toLowerCase() === "true";
      if (value !== undefined && !/^(true|false)$/i.test(value)) {
        throw new DockerfileError(`expecting boolean value for flag ${name}, not: ${value}`, node.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      }
      out.set(name, v);
    } else {
      if (value === undefined)
        throw new DockerfileError(`missing a value on flag: --${name}`, node.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      if (kind === "list") out.set(name, [...((out.get(name) as string[] | undefined) ?? []), value]);
      else {
        if (out.has(name))
          throw new DockerfileError(`duplicate flag specified: --${name}`, node.range, {
            code: "DOCKERFILE_SEMANTIC",
          });
        out.set(name, value);
      }
    }
  }
  return out;
}

/** Splits the AST into global ARGs and stages (BuildKit: only ARG may precede the first FROM). */
function splitStages(nodes: InstructionNode[]): { meta: InstructionNode[]; stages: StageDef[] } {
  const meta: InstructionNode[] = [];
  const stages: StageDef[] = [];
  for (const n of nodes) {
    if (n.keyword === "from") {
      const flags = parseFlags(n, { platform: "string" });
      let name: string | undefined;
      if (n.args.length === 3 && n.args[1]?.toLowerCase() === "as") {
        name = (n.args[2] as string).toLowerCase();
        if (!STAGE_NAME.test(name)) {
          throw new DockerfileError(
            `invalid name for build stage: "${n.args[2]}", name can't start with a number or contain symbols`,
            n.range,
            {
              code: "DOCKERFILE_SEMANTIC",
            },
          );
        }
      } else if (n.args.length !== 1) {
        throw new DockerfileError("FROM requires either one or three arguments", n.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      }
      stages.push({
        index: stages.length,
        name,
        from: n,
        base: n.args[0] as string,
        platform: flags.get("platform") as string | undefined,
        instructions: [],
      });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (n.keyword !== "arg") {
        throw new DockerfileError(
          `no build stage in current context (${n.keywordAsWritten} before the first FROM)`,
          n.range,
          {
            code: "DOCKERFILE_SEMANTIC",
          },
        );
      }
      meta.push(n);
    } else current.instructions.push(n);
  }
  if (stages.length === 0)
    throw new LayerLabError("DOCKERFILE_SEMANTIC", "dockerfile contains no stages to build");
  return { meta, stages };
}

/** Splits `NAME=value` (value undefined without `=`). */
function splitArg(word: string): [string, string | undefined] {
  const i = word.indexOf("=");
  return i < 0 ? [word, undefined] : [word.slice(0, i), word.slice(i + 1)];
}

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(".000Z", "Z");
}

/** Builds a Dockerfile into an image in the store, streaming its log as events. */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const b = new Builder(options);
  return b.run();
}

class Builder {
  readonly opts: BuildOptions;
  readonly epoch: number;
  readonly events: BuildEvent[] = [];
  readonly images: ImageResolver;
  readonly cache: BuildCache;
  readonly escapeToken: "\\" | "`" = "\\";
  private view: ContextView | undefined;
  private readonly stages = new Map<number, Stage>();
  private defs: StageDef[] = [];
  private meta = new Map<string, string | undefined>();
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

  private emit(e: BuildEvent): void {
    this.events.push(e);
    this.opts.onEvent?.(e);
  }

  private expand(stage: Stage | undefined, word: string, node: InstructionNode): string {
    const env = stage ? stage.env : this.metaEnv();
    return expandWord(word, envFromMap(env), { escapeToken: this.escapeToken, at: node.range });
  }

  private metaEnv(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.meta) if (v !== undefined) m.set(k, v);
    return m;
  }

  async run(): Promise<BuildResult> {
    const started = Date.now();
    const ast = parseDockerfile(this.opts.dockerfile);
    (this as { escapeToken: "\\" | "`" }).escapeToken = ast.escapeToken;
    for (const w of ast.warnings)
      this.emit({ kind: "warning", message: w.message, line: w.range.start.line });
    const { meta, stages } = splitStages(ast.instructions);
    this.defs = stages;
    this.evalMetaArgs(meta);
    const target = this.pickTarget();
    const needed = this.neededStages(target);
    this.totalSteps = needed.reduce((n, s) => n + 1 + s.instructions.length, 0);
    this.emit({ kind: "start", steps: this.totalSteps, stages: needed.length });
    for (const def of needed) {
      throwIfAborted(this.opts.signal, "build");
      await this.buildStage(def);
    }
    const final = this.stages.get(target.index) as Stage;
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

  private finalConfig(stage: Stage): BuildImageConfig {
    const c = clone(stage.config);
    c.created = isoTime(this.epoch);
    return c;
  }

  private evalMetaArgs(meta: InstructionNode[]): void {
    const platform = this.opts.platform ?? "linux/amd64";
    const [os = "linux", arch = "amd64", variant = ""] = platform.split("/");
    const auto: Record<string, string> = {
      BUILDPLATFORM: "linux/amd64",
      BUILDOS: "linux",
      BUILDOSVERSION: "",
      BUILDARCH: "amd64",
      BUILDVARIANT: "",
      TARGETPLATFORM: platform,
      TARGETOS: os,
      TARGETOSVERSION: "",
      TARGETARCH: arch,
      TARGETVARIANT: variant,
      TARGETSTAGE: this.opts.target ?? "default",
    };
    const given = this.opts.buildArgs ?? {};
    for (const [k, v] of Object.entries(auto)) this.meta.set(k, given[k] ?? v);
    for (const n of meta) {
      for (const word of n.args) {
        const [rawName, def] = splitArg(word);
        const name = rawName;
        if (Object.hasOwn(given, name)) {
          this.usedBuildArgs.add(name);
          this.meta.set(name, given[name]);
        } else if (def !== undefined) this.meta.set(name, this.expand(undefined, def, n));
        else if (!this.meta.has(name)) this.meta.set(name, undefined);
      }
    }
  }

  private pickTarget(): StageDef {
    const t = this.opts.target;
    if (t === undefined || t === "") return this.defs[this.defs.length - 1] as StageDef;
    const found = this.defs.find((d) => d.name === t.toLowerCase());
    if (!found) throw new LayerLabError("BUILD", `target stage "${t}" could not be found`);
    return found;
  }

  /** The stage a FROM or --from names, when it names an earlier stage. */
  private stageRef(ref: string, before: number): StageDef | undefined {
    if (/^\d+$/.test(ref)) {
      const i = Number(ref);
      if (i >= before) return undefined;
      return this.defs[i];
    }
    return this.defs.find((d) => d.index < before && d.name === ref.toLowerCase());
  }

  /** Stages the target needs, in file order (unused stages are skipped, as BuildKit does). */
  private neededStages(target: StageDef): StageDef[] {
    const need = new Set<number>();
    const visit = (d: StageDef): void => {
      if (need.has(d.index)) return;
      need.add(d.index);
      const base = this.expand(undefined, d.base, d.from);
      const s = this.stageRef(base, d.index);
      if (s) visit(s);
      for (const n of d.instructions) {
        const inner = n.trigger ?? n;
        for (const f of inner.flags) {
          const m =
            /^--from=(.*)$/.exec(f) ?? /(?:^|,)from=([^,]+)/.exec(f.startsWith("--mount=") ? f.slice(8) : "");
          if (!m || (inner.keyword !== "copy" && inner.keyword !== "add" && inner.keyword !== "run"))
            continue;
          const ref = m[1] as string;
          const later = this.defs.find((x) => x.name === ref.toLowerCase() && x.index >= d.index);
          if (later && inner === n && !this.stageRef(ref, d.index)) {
            throw new DockerfileError(
              `cannot copy from stage "${ref}", it needs to be defined before current stage "${d.name ?? `stage-${d.index}`}"`,
              n.range,
              {
                code: "DOCKERFILE_SEMANTIC",
              },
            );
          }
          const st = this.stageRef(ref, d.index);
          if (st) visit(st);
        }
      }
    };
    visit(target);
    return this.defs.filter((d) => need.has(d.index));
  }

  private async resolveImage(ref: string, platform?: string): Promise<BaseImage | undefined> {
    const key = `${ref}\0${platform ?? ""}`;
    if (!this.imageCache.has(key)) this.imageCache.set(key, await this.images.resolve(ref, platform));
    return this.imageCache.get(key);
  }

  private startStep(stage: Stage, node: InstructionNode): number {
    this.step += 1;
    this.emit({
      kind: "step",
      step: this.step,
      steps: this.totalSteps,
      stage: stage.label,
      instruction: node.original.trim(),
      line: node.range.start.line,
    });
    return this.step;
  }

  private async buildStage(def: StageDef): Promise<void> {
    const started = Date.now();
    const base = this.expand(undefined, def.base, def.from);
    if (base === "") {
      throw new DockerfileError(`base name (${def.base}) should not be blank`, def.from.range, {
        code: "DOCKERFILE_SEMANTIC",
      });
    }
    const platform = def.platform ? this.expand(undefined, def.platform, def.from) : undefined;
    const label = def.name ?? `stage-${def.index}`;
    this.step += 1;
    const step = this.step;
    this.emit({
      kind: "step",
      step,
      steps: this.totalSteps,
      stage: label,
      instruction: def.from.original.trim(),
      line: def.from.range.start.line,
    });
    const fs = new LayerFs(this.images.readContent, this.epoch);
    const stage: Stage = {
      def,
      label,
      fs,
      config: {
        architecture: "amd64",
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: [] },
        history: [],
      },
      env: new Map(),
      args: new Map(),
      cmdSet: false,
      layers: [],
      key: "",
      packages: undefined,
      standIn: undefined,
      missed: false,
    };
    const fromStage = this.stageRef(base, def.index);
    if (base.toLowerCase() === "scratch") {
      stage.config.config = { Env: [DEFAULT_PATH], WorkingDir: "/" };
      stage.key = await sha256("FROM scratch");
    } else if (fromStage) {
      const parent = this.stages.get(fromStage.index) as Stage;
      stage.fs = parent.fs.fork();
      stage.config = clone(parent.config);
      stage.layers = [...parent.layers];
      stage.args = new Map(parent.args);
      stage.packages = parent.packages;
      stage.standIn = parent.standIn;
      stage.key = await sha256(`FROM stage ${parent.key}`);
    } else {
      const img = await this.resolveImage(base, platform);
      if (!img) {
        throw new BuildFailure(
          `${base}: image not found. LayerLab builds offline: import the image first (docker save ${base} -o image.tar, then Import image archive, or \`layerlab build --load image.tar\`), or use a built-in base`,
          { line: def.from.range.start.line, step, instruction: def.from.original.trim() },
        );
      }
      for (const l of img.layers) stage.fs.applyChangeset(l.changeset);
      stage.config = clone(img.config);
      stage.config.config = stage.config.config ?? {};
      stage.config.history = stage.config.history ?? [];
      stage.config.rootfs = { type: "layers", diff_ids: img.layers.map((l) => l.diffId) };
      stage.layers = [];
      for (const l of img.layers) {
        const known = materialised.get(l.changeset);
        const rec =
          (await this.opts.store.meta.get("layers", l.diffId)) ??
          (known ? await this.opts.store.meta.get("layers", known) : undefined);
        if (rec) stage.layers.push(rec);
        else {
          // A built-in base has no tar yet: write it once and remember which layer it became.
          const stored = await storeChangesetLayer(
            this.opts.store,
            l.changeset,
            this.images.readContent,
            this.epoch,
          );
          materialised.set(l.changeset, stored.id);
          stage.layers.push(stored);
        }
      }
      stage.config.rootfs.diff_ids = stage.layers.map((l) => l.id);
      stage.packages = img.packages;
      stage.standIn = img.standIn;
      stage.key = await sha256(`FROM ${img.id ?? img.layers.map((l) => l.diffId).join(",")}`);
      if (img.standIn) this.emit({ kind: "warning", step, message: img.standIn });
      const has = `${img.config.os ?? "linux"}/${img.config.architecture ?? "amd64"}`;
      if (platform && !platform.startsWith(has)) {
        // The store holds one platform of an image (chosen at import); say so rather than pretend.
        this.emit({
          kind: "warning",
          step,
          message: `FROM --platform=${platform}: the stored ${base} is ${has}; LayerLab keeps one platform per image (import the ${platform} variant to use it)`,
        });
      }
    }
    const cc = stage.config.config;
    if (!(cc.Env ?? []).some((e) => e.startsWith("PATH="))) cc.Env = [...(cc.Env ?? []), DEFAULT_PATH];
    for (const e of cc.Env ?? []) {
      const [k, v = ""] = splitArg(e);
      stage.env.set(k, v);
    }
    for (const [k, v] of stage.args) if (v !== undefined) stage.env.set(k, v);
    this.emit({
      kind: "stage",
      index: def.index,
      name: label,
      base,
      ...(stage.standIn ? { standIn: stage.standIn } : {}),
    });
    this.emit({ kind: "step-done", step, cached: false, ms: Date.now() - started, emptyLayer: true });
    this.stages.set(def.index, stage);
    stage.fs.beginStep();
    // ONBUILD triggers of the base run first, then are cleared (they do not pass to grandchildren).
    const triggers = cc.OnBuild ?? [];
    if (triggers.length > 0) {
      cc.OnBuild = null;
      this.totalSteps += triggers.length;
      for (const t of triggers) {
        const node = parseDockerfile(t).instructions[0];
        if (!node) continue;
        await this.dispatch(stage, { ...node, range: def.from.range, original: `ONBUILD ${t}` }, node);
      }
    }
    for (const node of def.instructions) {
      throwIfAborted(this.opts.signal, "build");
      await this.dispatch(stage, node, node);
    }
  }

  /** Runs one instruction with the cache: reuse when the key matches, otherwise execute and record. */
  private async dispatch(stage: Stage, shown: InstructionNode, node: InstructionNode): Promise<void> {
    const step = this.startStep(stage, shown);
    const started = Date.now();
    const where = { line: shown.range.start.line, step, instruction: shown.original.trim() };
    try {
      const plan = await this.plan(stage, node);
      // COPY --link makes a layer independent of what is below it, so its cache key has no parent.
      const parentKey = plan.linked ? "link" : stage.key;
      const key = await sha256(
        `${parentKey}\n${plan.instruction}\n${plan.sources ? [...plan.sources].join("\n") : ""}`,
      );
      const hit = this.opts.noCache ? undefined : this.cache.get(key);
      if (hit && (!hit.layer || (await this.layerPresent(hit)))) {
        if (plan.linked) await this.applyLinked(stage, hit, await sha256(`${stage.key}\n${key}`));
        else await this.restore(stage, hit, key);
        this.cachedSteps += 1;
        this.emit({
          kind: "step-done",
          step,
          cached: true,
          ms: Date.now() - started,
          ...(hit.layer ? { layerSize: hit.layer.size, diffId: hit.layer.diffId } : {}),
          emptyLayer: !hit.layer,
        });
        return;
      }
      const reason = this.opts.noCache
        ? "--no-cache"
        : stage.missed
          ? "a previous step was rebuilt"
          : missReason(this.cache, parentKey, plan.instruction, plan.sources);
      stage.missed = true;
      stage.fs.beginStep();
      const out = await plan.execute(step);
      const parent = parentKey;
      const history: HistoryEntry = {
        created: isoTime(this.epoch),
        created_by: out.createdBy,
        comment: "buildkit.dockerfile.v0",
      };
      let layer: CacheRecord["layer"];
      if (plan.layer && (out.layer || stage.fs.stepChanged)) {
        const cs = out.layer ?? stage.fs.diffStep();
        if (cs.entries.length > 0 || cs.whiteouts.length > 0) {
          const rec = await storeChangesetLayer(this.opts.store, cs, this.images.readContent, this.epoch);
          stage.layers.push(rec);
          stage.config.rootfs.diff_ids.push(rec.id);
          layer = { diffId: rec.id, size: rec.size, changeset: cs };
        }
      }
      if (!layer) history.empty_layer = true;
      if (plan.history !== false) (stage.config.history as HistoryEntry[]).push(history);
      stage.key = plan.linked ? await sha256(`${stage.key}\n${key}`) : key;
      const rec: CacheRecord = {
        key,
        parent,
        instruction: plan.instruction,
        tree: stage.fs.snapshot(),
        meta: this.metaOf(stage),
        history,
      };
      if (plan.sources) rec.sources = plan.sources;
      if (layer) rec.layer = layer;
      this.cache.put(rec);
      this.emit({
        kind: "step-done",
        step,
        cached: false,
        reason,
        ms: Date.now() - started,
        ...(layer ? { layerSize: layer.size, diffId: layer.diffId } : {}),
        emptyLayer: !layer,
      });
    } catch (e) {
      if (e instanceof BuildFailure || e instanceof DockerfileError) throw e;
      // A full store is not the step's fault: it keeps its numbers for the page.
      if (e instanceof LayerLabError && (e.code === "CANCELLED" || e.code === "STORAGE_FULL")) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new BuildFailure(msg, where);
    }
  }

  private async layerPresent(hit: CacheRecord): Promise<boolean> {
    if (!hit.layer) return true;
    const rec = await this.opts.store.meta.get("layers", hit.layer.diffId);
    if (rec && (rec.synthesized || (await this.opts.store.blobs.has(rec.blob)))) return true;
    await storeChangesetLayer(this.opts.store, hit.layer.changeset, this.images.readContent, this.epoch);
    return true;
  }

  /** A cached COPY --link layer goes on top of whatever is below, as BuildKit's merge does. */
  private async applyLinked(stage: Stage, hit: CacheRecord, chainKey: string): Promise<void> {
    if (hit.layer) {
      stage.fs.applyChangeset(hit.layer.changeset);
      const rec = await this.opts.store.meta.get("layers", hit.layer.diffId);
      if (rec) {
        stage.layers.push(rec);
        stage.config.rootfs.diff_ids.push(rec.id);
      }
    }
    (stage.config.history as HistoryEntry[]).push({ ...hit.history });
    stage.key = chainKey;
  }

  private metaOf(stage: Stage): StageMeta {
    return { config: clone(stage.config), env: [...stage.env], args: [...stage.args], cmdSet: stage.cmdSet };
  }

  private async restore(stage: Stage, hit: CacheRecord, key: string): Promise<void> {
    stage.fs = new LayerFs(this.images.readContent, this.epoch, hit.tree);
    stage.config = clone(hit.meta.config);
    stage.env = new Map(hit.meta.env);
    stage.args = new Map(hit.meta.args);
    stage.cmdSet = hit.meta.cmdSet;
    if (hit.layer) {
      const rec = await this.opts.store.meta.get("layers", hit.layer.diffId);
      if (rec) stage.layers.push(rec);
    }
    stage.key = key;
  }

  /** What an instruction is (for its cache key) and how to execute it. */
  private async plan(
    stage: Stage,
    node: InstructionNode,
  ): Promise<{
    instruction: string;
    sources?: Map<string, string>;
    layer: boolean;
    /** False for instructions BuildKit writes no history entry for (ONBUILD). */
    history?: boolean;
    /** COPY/ADD --link: the layer is made on its own and merged on top. */
    linked?: boolean;
    execute: (step: number) => Promise<{ createdBy: string; layer?: Changeset }>;
  }> {
    const cc = stage.config.config;
    const kw = node.keyword;
    const semantic = (msg: string) => new DockerfileError(msg, node.range, { code: "DOCKERFILE_SEMANTIC" });
    const simple = (instruction: string, createdBy: string, apply: () => void) => ({
      instruction,
      layer: false,
      execute: async () => {
        apply();
        return { createdBy };
      },
    });
    switch (kw) {
      case "env":
      case "label": {
        parseFlags(node, {});
        if (node.args.length === 0) throw semantic(`${kw.toUpperCase()} requires at least one argument`);
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < node.args.length; i += 3) {
          const k = this.expand(stage, node.args[i] as string, node);
          const v = this.expand(stage, node.args[i + 1] as string, node);
          pairs.push([k, v]);
        }
        const text = `${kw.toUpperCase()} ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`;
        return simple(text, text, () => {
          if (kw === "env") {
            const env = [...(cc.Env ?? [])];
            for (const [k, v] of pairs) {
              const i = env.findIndex((e) => splitArg(e)[0] === k);
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
      case "arg": {
        parseFlags(node, {});
        if (node.args.length === 0) throw semantic("ARG requires at least one argument");
        const given = this.opts.buildArgs ?? {};
        const decl: [string, string | undefined][] = [];
        for (const word of node.args) {
          const [name, def] = splitArg(word);
          let value: string | undefined;
          if (Object.hasOwn(given, name)) {
            this.usedBuildArgs.add(name);
            value = given[name];
          } else if (def !== undefined) value = this.expand(stage, def, node);
          else if (this.meta.has(name)) value = this.meta.get(name);
          decl.push([name, value]);
        }
        const text = `ARG ${decl.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(" ")}`;
        return simple(text, text, () => {
          for (const [k, v] of decl) {
            stage.args.set(k, v);
            if (v !== undefined) stage.env.set(k, v);
          }
        });
      }
      case "workdir": {
        parseFlags(node, {});
        if (node.args.length !== 1) throw semantic("WORKDIR requires exactly one argument");
        const raw = this.expand(stage, node.args[0] as string, node);
        const wd = `/${toRel(raw, cc.WorkingDir || "/")}`;
        const user = cc.User;
        return {
          instruction: `WORKDIR ${wd} ${user ?? ""}`,
          layer: wd !== "/",
          execute: async () => {
            cc.WorkingDir = wd;
            if (wd !== "/") {
              const owner = user ? await this.owner(stage, user) : { uid: 0, gid: 0 };
              new BashFs(stage.fs, owner).mkdirSync(wd, true, 0o755, owner);
            }
            return { createdBy: `WORKDIR ${wd}` };
          },
        };
      }
      case "user": {
        parseFlags(node, {});
        const u = this.expand(stage, node.args[0] ?? "", node);
        return simple(`USER ${u}`, `USER ${u}`, () => {
          cc.User = u;
        });
      }
      case "expose": {
        parseFlags(node, {});
        const ports: string[] = [];
        for (const a of node.args)
          ports.push(...expandWords(a, envFromMap(stage.env), { escapeToken: this.escapeToken }));
        const norm = ports.map((p) => (p.includes("/") ? p.toLowerCase() : `${p}/tcp`)).sort();
        return simple(`EXPOSE ${norm.join(" ")}`, `EXPOSE [${norm.join(" ")}]`, () => {
          cc.ExposedPorts = { ...(cc.ExposedPorts ?? {}) };
          for (const p of norm) cc.ExposedPorts[p] = {};
        });
      }
      case "volume": {
        parseFlags(node, {});
        const vols = node.args.map((a) => this.expand(stage, a, node).trim());
        if (vols.some((v) => v === "")) throw semantic("VOLUME specified can not be an empty string");
        return simple(`VOLUME ${vols.join(" ")}`, `VOLUME [${vols.join(" ")}]`, () => {
          cc.Volumes = { ...(cc.Volumes ?? {}) };
          for (const v of vols) cc.Volumes[v] = {};
        });
      }
      case "stopsignal": {
        parseFlags(node, {});
        const s = this.expand(stage, node.args[0] ?? "", node);
        return simple(`STOPSIGNAL ${s}`, `STOPSIGNAL ${s}`, () => {
          cc.StopSignal = s;
        });
      }
      case "maintainer": {
        const m = node.args.join(" ");
        return simple(`MAINTAINER ${m}`, `MAINTAINER ${m}`, () => {
          stage.config.author = m;
        });
      }
      case "shell": {
        parseFlags(node, {});
        if (!node.json) throw semantic("SHELL requires the arguments to be in JSON form");
        const sh = [...node.args];
        return simple(`SHELL ${JSON.stringify(sh)}`, `SHELL [${sh.join(" ")}]`, () => {
          cc.Shell = sh;
        });
      }
      case "cmd":
      case "entrypoint": {
        parseFlags(node, {});
        const argv = node.json ? [...node.args] : [...(cc.Shell ?? DEFAULT_SHELL), node.args.join(" ")];
        const text = `${kw.toUpperCase()} ${goQuoteList(argv)}`;
        return simple(text, text, () => {
          // BuildKit sets ArgsEscaped on CMD only (Docker-format compatibility), not on ENTRYPOINT.
          if (kw === "cmd") {
            cc.Cmd = argv;
            cc.ArgsEscaped = true;
            stage.cmdSet = true;
          } else {
            cc.Entrypoint = argv;
            if (!stage.cmdSet) cc.Cmd = null;
          }
        });
      }
      case "healthcheck": {
        const flags = parseFlags(node, {
          interval: "string",
          timeout: "string",
          "start-period": "string",
          "start-interval": "string",
          retries: "string",
        });
        const type = (node.args[0] ?? "").toUpperCase();
        let hc: HealthConfig;
        if (type === "NONE") {
          if (node.args.length > 1) throw semantic("HEALTHCHECK NONE takes no arguments");
          hc = { Test: ["NONE"] };
        } else if (type === "CMD") {
          const rest = node.args.slice(1);
          hc = { Test: node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")] };
          const dur = (f: string): number | undefined => {
            const v = flags.get(f) as string | undefined;
            return v === undefined ? undefined : parseDuration(v, `--${f}`);
          };
          const iv = dur("interval");
          const to = dur("timeout");
          const sp = dur("start-period");
          const si = dur("start-interval");
          if (iv) hc.Interval = iv;
          if (to) hc.Timeout = to;
          if (sp) hc.StartPeriod = sp;
          if (si) hc.StartInterval = si;
          const r = flags.get("retries") as string | undefined;
          if (r !== undefined) {
            if (!/^\d+$/.test(r)) throw semantic(`--retries: invalid value '${r}'`);
            if (Number(r) > 0) hc.Retries = Number(r);
          }
        } else throw semantic(`Unknown type "${node.args[0] ?? ""}" in HEALTHCHECK (try CMD)`);
        const retries = hc.Retries ?? 0;
        const text = `HEALTHCHECK &{${goQuoteList(hc.Test ?? [])} ${goDuration(hc.Interval)} ${goDuration(hc.Timeout)} ${goDuration(hc.StartPeriod)} ${goDuration(hc.StartInterval)} '${retries < 32 ? `\\x${retries.toString(16).padStart(2, "0")}` : String.fromCharCode(retries)}'}`;
        return simple(JSON.stringify(hc), text, () => {
          cc.Healthcheck = hc;
        });
      }
      case "onbuild": {
        const trig = node.trigger;
        if (!trig) throw semantic("ONBUILD requires at least one argument");
        if (trig.keyword === "onbuild")
          throw semantic("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trig.keyword === "from" || trig.keyword === "maintainer") {
          throw semantic(`${trig.keyword.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        }
        const text = node.original.trim().replace(/^onbuild\s+/i, "");
        const full =
          trig.heredocs.length > 0
            ? `${text}\n${trig.heredocs.map((h) => `${h.content}${h.name}`).join("\n")}`
            : text;
        // BuildKit records the trigger in the config only: ONBUILD adds no history entry.
        return {
          ...simple(`ONBUILD ${full}`, "", () => {
            cc.OnBuild = [...(cc.OnBuild ?? []), full];
          }),
          history: false,
        };
      }
      case "run":
        return this.planRun(stage, node);
      case "copy":
      case "add":
        return this.planCopy(stage, node);
      default:
        throw new DockerfileError(`unknown instruction: ${node.keywordAsWritten.toUpperCase()}`, node.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
    }
  }

  private async owner(stage: Stage, user: string): Promise<Owner> {
    return resolveRunUser(stage.fs, user);
  }

  private planRun(stage: Stage, node: InstructionNode) {
    const cc = stage.config.config;
    const flags = parseFlags(node, { mount: "list", network: "string", security: "string" });
    const mounts = ((flags.get("mount") as string[] | undefined) ?? []).map((m) =>
      this.parseMount(stage, m, node),
    );
    let argv: string[];
    if (node.json) argv = [...node.args];
    else if (node.heredocs.length === 1 && /^\s*\d*<<-?\s*['"]?[^\s]+['"]?\s*$/.test(node.args[0] ?? "")) {
      const h = node.heredocs[0] as (typeof node.heredocs)[number];
      const body = h.chomp ? h.content.replace(/^\t+/gm, "") : h.content;
      const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(body);
      const interp = shebang
        ? shebang[1] === "/usr/bin/env"
          ? (shebang[2] ?? "")
          : (shebang[1] as string)
        : "";
      // BuildKit runs a #! heredoc as a file (/dev/pipes/NAME); LayerLab's shell can run shell scripts only.
      if (shebang && !/(^|\/)(sh|bash|ash|dash)$/.test(interp)) {
        argv = [interp.startsWith("/") ? interp : `/usr/bin/${interp}`, `/dev/pipes/${h.name}`];
      } else argv = [...(cc.Shell ?? DEFAULT_SHELL), body];
    } else if (node.heredocs.length > 0) {
      const script = [
        node.args.join(" "),
        ...node.heredocs.map((h) => `${h.chomp ? h.content.replace(/^\t+/gm, "") : h.content}${h.name}`),
      ].join("\n");
      argv = [...(cc.Shell ?? DEFAULT_SHELL), script];
    } else argv = [...(cc.Shell ?? DEFAULT_SHELL), node.args.join(" ")];
    // BuildKit's runCommandString: every declared stage ARG, valued from the build environment.
    const declared = [...stage.args].map(([k, v]): [string, string] => [k, stage.env.get(k) ?? v ?? ""]);
    const prefix =
      declared.length > 0 ? `|${declared.length} ${declared.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
    const createdBy = `RUN ${prefix}${argv.join(" ")} # buildkit`;
    const envList = [...stage.env].map(([k, v]) => `${k}=${v}`);
    const instruction = JSON.stringify({
      run: argv,
      env: envList,
      user: cc.User ?? "",
      wd: cc.WorkingDir ?? "/",
      mounts,
    });
    return {
      instruction,
      layer: true,
      execute: async (step: number) => {
        const env: Record<string, string> = {};
        for (const [k, v] of stage.env) env[k] = v;
        const owner = cc.User ? await this.owner(stage, cc.User) : { uid: 0, gid: 0 };
        // runc sets HOME from the user's /etc/passwd entry when the environment has none.
        if (env.HOME === undefined) env.HOME = await homeOf(stage.fs, owner.uid);
        const cwd = cc.WorkingDir || "/";
        const bfs = new BashFs(stage.fs, owner);
        if (cwd !== "/" && !(await bfs.exists(cwd))) bfs.mkdirSync(cwd, true, 0o755, owner);
        const saved = await this.mountIn(stage, mounts);
        const r = await runCommand(stage.fs, {
          argv,
          env,
          cwd,
          owner,
          ...(stage.packages ? { packages: stage.packages } : {}),
          ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        });
        this.mountOut(stage, mounts, saved);
        if (r.stdout) this.emit({ kind: "output", step, stream: "stdout", text: r.stdout });
        if (r.stderr) this.emit({ kind: "output", step, stream: "stderr", text: r.stderr });
        if (r.exitCode !== 0) {
          if (r.stderr.startsWith("runc run failed")) {
            throw new BuildFailure(r.stderr.trim(), {
              line: node.range.start.line,
              step,
              instruction: node.original.trim(),
            });
          }
          throw new BuildFailure(
            `process "${argv.join(" ")}" did not complete successfully: exit code: ${r.exitCode}`,
            { line: node.range.start.line, step, instruction: node.original.trim() },
            `${r.stdout}${r.stderr}`,
          );
        }
        return { createdBy };
      },
    };
  }

  private parseMount(stage: Stage, spec: string, node: InstructionNode): Mount {
    const fields = new Map<string, string>();
    for (const part of spec.split(",")) {
      const eq = part.indexOf("=");
      const k = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      fields.set(k, this.expand(stage, eq < 0 ? "true" : part.slice(eq + 1), node));
    }
    const type = fields.get("type") ?? "bind";
    if (!["bind", "cache", "tmpfs", "secret", "ssh"].includes(type)) {
      throw new DockerfileError(`unsupported mount type "${type}"`, node.range, {
        code: "DOCKERFILE_SEMANTIC",
      });
    }
    const wd = stage.config.config.WorkingDir || "/";
    let target = fields.get("target") ?? fields.get("dst") ?? fields.get("destination");
    if (!target && type === "secret") target = `/run/secrets/${fields.get("id") ?? ""}`;
    if (!target && type === "ssh") target = "/run/buildkit/ssh_agent.0";
    if (!target)
      throw new DockerfileError(`mount: no target in '${spec}'`, node.range, { code: "DOCKERFILE_SEMANTIC" });
    const abs = `/${toRel(target, wd)}`;
    const m: Mount = { type, target: abs, id: fields.get("id") ?? abs };
    const from = fields.get("from");
    if (from) m.from = from;
    const source = fields.get("source") ?? fields.get("src");
    if (source) m.source = source;
    return m;
  }

  /** The tree a bind mount (or a cache mount with `from`) reads: a stage, an image or the context. */
  private async mountSource(stage: Stage, m: Mount): Promise<SourceTree> {
    if (m.from) {
      const st = this.stageRef(m.from, stage.def.index);
      const built = st ? this.stages.get(st.index) : undefined;
      if (built) return fsSource(built.fs);
      const img = await this.resolveImage(m.from);
      if (!img) throw new LayerLabError("BUILD", `mount from=${m.from}: no stage or image of that name`);
      const fs = new LayerFs(this.images.readContent, this.epoch);
      for (const l of img.layers) fs.applyChangeset(l.changeset);
      return fsSource(fs);
    }
    if (!this.view) this.view = await ContextView.open(this.opts.context);
    return contextSource(this.view);
  }

  /** Puts mounted contents in place; what the command writes under a mount is taken out again after it. */
  private async mountIn(stage: Stage, mounts: Mount[]): Promise<LayerFs | undefined> {
    if (mounts.length === 0) return undefined;
    const before = stage.fs.fork();
    for (const m of mounts) {
      const rel = toRel(m.target);
      const bfs = new BashFs(stage.fs, { uid: 0, gid: 0 });
      if (m.type === "bind") {
        const tree = await this.mountSource(stage, m);
        const src = toRel(m.source ?? "/");
        const isDir = src === "" || tree.get(src)?.type === "dir";
        m.file = !isDir;
        if (stage.fs.nodeAt(rel)) stage.fs.removeTree(rel);
        await copyInto(stage.fs, {
          isAdd: false,
          sources: [src === "" ? "." : src],
          heredocs: [],
          dest: isDir ? `${m.target}/` : m.target,
          workdir: "/",
          tree,
          excludes: [],
          parents: false,
          unpack: false,
          epoch: this.epoch,
        });
        continue;
      }
      if (m.type === "secret" || m.type === "ssh") {
        // Secrets are not available offline: the file exists and is empty, and never lands in the layer.
        const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
        bfs.mkdirSync(`/${parent}`, true);
        await bfs.writeBytes(m.target, new Uint8Array(0), 0o400);
        continue;
      }
      bfs.mkdirSync(m.target, true);
      for (const k of stage.fs.childrenOf(rel)) stage.fs.removeTree(`${rel}/${k}`);
      const cached = m.type === "cache" ? this.cache.mounts.get(m.id) : undefined;
      if (cached)
        writeEntries(
          bfs,
          cached.entries.map((e) => ({ ...e, path: `${rel}/${e.path}` })),
        );
    }
    return before;
  }

  private mountOut(stage: Stage, mounts: Mount[], before: LayerFs | undefined): void {
    if (!before) return;
    for (const m of mounts) {
      const rel = toRel(m.target);
      if (m.type === "cache") {
        const entries: FileEntry[] = [];
        const walk = (p: string): void => {
          for (const k of stage.fs.childrenOf(p)) {
            const child = `${p}/${k}`;
            const n = stage.fs.nodeAt(child);
            if (!n) continue;
            const e: FileEntry = {
              path: child.slice(rel.length + 1),
              type: n.type,
              mode: n.mode,
              uid: n.uid,
              gid: n.gid,
              size: n.size,
              mtime: n.mtime,
            };
            if (n.target !== undefined) e.linkname = n.target;
            if (n.data) e.content = { kind: "inline", bytes: n.data };
            else if (n.ref) e.content = n.ref;
            entries.push(e);
            if (n.type === "dir") walk(child);
          }
        };
        walk(rel);
        this.cache.mounts.set(m.id, { entries, whiteouts: [] });
      }
      // What was under the mount point before comes back; what the command wrote there is gone.
      if (stage.fs.nodeAt(rel)) stage.fs.removeTree(rel);
      copySubtree(before, stage.fs, rel);
      if (!stage.fs.nodeAt(rel) && !m.file && m.type !== "secret" && m.type !== "ssh") {
        // The runtime created the mount point, and it stays in the layer as an empty directory.
        new BashFs(stage.fs, { uid: 0, gid: 0 }).mkdirSync(m.target, true);
      }
    }
  }

  private async planCopy(stage: Stage, node: InstructionNode) {
    const isAdd = node.keyword === "add";
    const cc = stage.config.config;
    const spec: Record<string, "string" | "bool" | "list"> = {
      from: "string",
      chown: "string",
      chmod: "string",
      link: "bool",
      exclude: "list",
      parents: "bool",
    };
    if (isAdd) Object.assign(spec, { checksum: "string", "keep-git-dir": "bool", unpack: "bool" });
    const flags = parseFlags(node, spec);
    if (node.args.length < 2)
      throw new DockerfileError(
        `${node.keyword.toUpperCase()} requires at least two arguments, but only one was provided. Destination could not be determined`,
        node.range,
        { code: "DOCKERFILE_SEMANTIC" },
      );
    const rawSources = node.args.slice(0, -1);
    const dest = this.expand(stage, node.args[node.args.length - 1] as string, node);
    const heredocs: { name: string; content: string }[] = [];
    const sources: string[] = [];
    for (const s of rawSources) {
      const h = node.heredocs.find(
        (x) => /^\d*<<-?/.test(s) && s.replace(/^\d*<<-?\s*/, "").replace(/['"]/g, "") === x.name,
      );
      if (h) {
        let content = h.chomp ? h.content.replace(/^\t+/gm, "") : h.content;
        if (h.expand)
          content = expandWord(content, envFromMap(stage.env), {
            escapeToken: "\\",
            skipProcessQuotes: true,
          });
        heredocs.push({ name: h.name, content });
        continue;
      }
      const src = this.expand(stage, s, node);
      if (
        /^(https?|git):\/\//.test(src) ||
        /^git@/.test(src) ||
        (/\.git(#.*)?$/.test(src) && src.includes("://"))
      ) {
        if (!isAdd)
          throw new DockerfileError("source can't be a URL for COPY", node.range, {
            code: "DOCKERFILE_SEMANTIC",
          });
        throw new DockerfileError(
          `ADD ${src}: LayerLab builds offline and cannot download remote sources. Download it into the build context and ADD the local file instead`,
          node.range,
          { code: "DOCKERFILE_SEMANTIC" },
        );
      }
      sources.push(src);
    }
    const fromRef = flags.get("from") as string | undefined;
    let tree: SourceTree;
    let sourceKey: string;
    if (fromRef !== undefined) {
      if (this.expand(stage, fromRef, node) !== fromRef) {
        throw new DockerfileError(
          `variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround`,
          node.range,
          { code: "DOCKERFILE_SEMANTIC" },
        );
      }
      const st = this.stageRef(fromRef, stage.def.index);
      if (/^\d+$/.test(fromRef) && !st)
        throw new DockerfileError(`invalid stage index ${fromRef}`, node.range, {
          code: "DOCKERFILE_SEMANTIC",
        });
      if (st) {
        const s = this.stages.get(st.index);
        if (!s)
          throw new DockerfileError(`stage ${fromRef} was not built`, node.range, {
            code: "DOCKERFILE_SEMANTIC",
          });
        tree = fsSource(s.fs);
        sourceKey = `stage:${s.key}`;
      } else {
        const img = await this.resolveImage(fromRef);
        if (!img)
          throw new DockerfileError(
            `COPY --from=${fromRef}: no stage or image of that name (LayerLab builds offline: import the image first)`,
            node.range,
            { code: "DOCKERFILE_SEMANTIC" },
          );
        const fs = new LayerFs(this.images.readContent, this.epoch);
        for (const l of img.layers) fs.applyChangeset(l.changeset);
        tree = fsSource(fs);
        sourceKey = `image:${img.id ?? img.layers.map((l) => l.diffId).join(",")}`;
      }
    } else {
      if (!this.view) this.view = await ContextView.open(this.opts.context);
      tree = contextSource(this.view);
      sourceKey = "context";
    }
    const chownRaw = flags.get("chown") as string | undefined;
    const chmodRaw = flags.get("chmod") as string | undefined;
    const chown = chownRaw !== undefined ? this.expand(stage, chownRaw, node) : undefined;
    const chmod = chmodRaw !== undefined ? this.expand(stage, chmodRaw, node) : undefined;
    const chmodSpec = chmod !== undefined ? parseChmod(chmod) : undefined;
    const excludes = (flags.get("exclude") as string[] | undefined) ?? [];
    const parents = flags.get("parents") === true;
    const unpack = flags.get("unpack") !== false;
    // BuildKit: --link with --chmod silently falls back to a normal copy.
    const linked = flags.get("link") === true && chmod === undefined;
    const checksums =
      tree.kind === "context" ? await sourceChecksums(tree, sources) : new Map([["@", sourceKey]]);
    const instruction = JSON.stringify({
      kw: node.keyword,
      sources,
      heredocs,
      dest,
      wd: cc.WorkingDir ?? "/",
      chown,
      chmod,
      excludes,
      parents,
      unpack,
      from: sourceKey,
    });
    // BuildKit's commit message: flags it shows, sources, heredoc names, the destination as written (expanded).
    const shown = [isAdd ? "ADD" : "COPY"];
    if (parents) shown.push("--parents");
    if (chown !== undefined) shown.push(`--chown=${chown}`);
    if (chmod !== undefined) shown.push(`--chmod=${chmod}`);
    shown.push(...sources, ...heredocs.map((h) => `<<${h.name}`), dest);
    const createdBy = `${shown.join(" ")} # buildkit`;
    return {
      instruction,
      sources: checksums,
      layer: true,
      linked,
      execute: async () => {
        const owner = chown !== undefined ? await resolveChown(stage.fs, chown) : undefined;
        // --link copies onto an empty filesystem: it cannot see (or follow symlinks in) what is below.
        const target = linked ? new LayerFs(this.images.readContent, this.epoch) : stage.fs;
        target.beginStep();
        await copyInto(target, {
          isAdd,
          sources,
          heredocs,
          dest,
          workdir: cc.WorkingDir || "/",
          tree,
          ...(owner ? { chown: owner } : {}),
          ...(chmodSpec ? { chmod: chmodSpec } : {}),
          excludes,
          parents,
          unpack,
          epoch: this.epoch,
        });
        if (!linked) return { createdBy };
        const layer = target.diffStep();
        stage.fs.applyChangeset(layer);
        return { createdBy, layer };
      },
    };
  }
}

function copySubtree(from: LayerFs, to: LayerFs, path: string): void {
  const n = from.nodeAt(path);
  if (!n) return;
  to.putNode(path, n, false);
  if (n.type === "dir") for (const k of from.childrenOf(path)) copySubtree(from, to, `${path}/${k}`);
}

function resolveRunUser(fs: LayerFs, user: string): Promise<Owner> {
  return resolveUser(fs, user, "user");
}

function resolveChown(fs: LayerFs, spec: string): Promise<Owner> {
  return resolveUser(fs, spec, "chown");
}

/** Checksums of every context file the sources name (paths sorted), for the cache key. */
async function sourceChecksums(tree: SourceTree, sources: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const all: string[] = [];
  const seen = new Set<string>();
  const walk = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const n = tree.get(p);
    if (!n) return;
    all.push(p);
    if (n.type === "dir") for (const k of tree.children(p)) walk(p === "" ? k : `${p}/${k}`);
    // COPY follows a source symlink: what it points at is part of the step's input.
    if (n.type === "symlink") walk(followSource(tree, p).path);
  };
  const roots = new Set<string>();
  for (const s of sources) {
    const clean = toRel(s.replace("/./", "/"));
    if (hasWildcard(clean) || clean.includes("**")) {
      const segs = clean.split("/");
      const fixed: string[] = [];
      for (const seg of segs) {
        if (hasWildcard(seg)) break;
        fixed.push(seg);
      }
      const root = fixed.join("/");
      const sub: string[] = [];
      const w = (p: string): void => {
        const n = tree.get(p);
        if (!n) return;
        sub.push(p);
        if (n.type === "dir") for (const k of tree.children(p)) w(p === "" ? k : `${p}/${k}`);
      };
      w(root);
      for (const p of sub) if (matchPath(clean, p) || clean.includes("**")) roots.add(p);
    } else roots.add(clean);
  }
  for (const r of roots) walk(r);
  for (const p of [...new Set(all)].sort()) {
    const n = tree.get(p);
    if (!n) continue;
    let sum = `${n.type}:${n.mode.toString(8)}:${n.target ?? ""}`;
    if (n.type === "file") sum += `:${await sha256(await tree.read(p, n))}`;
    out.set(p === "" ? "." : p, sum);
  }
  return out;
}
