/**
 * What the dispatchers share: the state of a stage being built, the plan each instruction makes
 * (its cache key text and how to execute it), and the few services of the build they call back
 * into. The driver (builder.ts) owns the cache and the step loop; the dispatch-*.ts files only plan.
 */

import type { ResolvedStage } from "../dockerfile/resolve.ts";
import type { Range } from "../errors.ts";
import type { Changeset } from "../fs/types.ts";
import type { LayerRecord } from "../store/types.ts";
import type { Owner } from "./bash-fs.ts";
import type { BuildCache } from "./cache.ts";
import type { ContextView } from "./context.ts";
import type { LayerFs } from "./layer-fs.ts";
import type {
  BaseImage,
  BuildEvent,
  BuildImageConfig,
  BuildOptions,
  ImageResolver,
  PackageCatalog,
} from "./types.ts";
import { resolveUser } from "./user-lookup.ts";

/** The shell a shell-form command runs in when the Dockerfile sets no SHELL. */
export const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** A stage being built. */
export interface StageState {
  /** The front end's stage: typed instructions, base name expanded with the global ARGs. */
  resolved: ResolvedStage;
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

/** What an instruction is (for its cache key) and how to execute it. */
export interface StepPlan {
  instruction: string;
  sources?: Map<string, string>;
  layer: boolean;
  /** False for instructions BuildKit writes no history entry for (ONBUILD). */
  history?: boolean;
  /** COPY/ADD --link: the layer is made on its own and merged on top. */
  linked?: boolean;
  execute: (step: number) => Promise<{ createdBy: string; layer?: Changeset }>;
}

/** The services of the running build that dispatchers use. */
export interface DispatchContext {
  readonly opts: BuildOptions;
  readonly epoch: number;
  readonly cache: BuildCache;
  readonly images: ImageResolver;
  emit(e: BuildEvent): void;
  /** ProcessWord with the stage's environment; errors carry `range`. */
  expand(stage: StageState, word: string, range: Range): string;
  /** ProcessWords (split into fields) with the stage's environment. */
  expandFields(stage: StageState, word: string, range: Range): string[];
  resolveImage(ref: string, platform?: string): Promise<BaseImage | undefined>;
  /** A stage built before `before` that `ref` (a name or an index) names. */
  builtStage(ref: string, before: number): StageState | undefined;
  contextView(): Promise<ContextView>;
  /** A build arg's value, marking it consumed. */
  takeBuildArg(name: string): string | undefined;
  /** A global ARG's value (for a stage ARG without a default). */
  globalArg(name: string): string | undefined;
}

/** A config-only plan: no layer, the same text for the cache key and the history. */
export function simplePlan(instruction: string, createdBy: string, apply: () => void): StepPlan {
  return {
    instruction,
    layer: false,
    execute: async () => {
      apply();
      return { createdBy };
    },
  };
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(".000Z", "Z");
}

/** Splits `NAME=value` (value undefined without `=`). */
export function splitPair(word: string): [string, string | undefined] {
  const i = word.indexOf("=");
  return i < 0 ? [word, undefined] : [word.slice(0, i), word.slice(i + 1)];
}

/** The uid/gid a USER names in the stage's /etc/passwd and /etc/group. */
export function resolveRunUser(fs: LayerFs, user: string): Promise<Owner> {
  return resolveUser(fs, user, "user");
}
