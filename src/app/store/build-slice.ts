import type { StateCreator } from "zustand";
import type { BuildEvent, BuildSummary } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** One step of the build log as the UI shows it, folded from the streamed events. */
export interface LogStep {
  step: number;
  steps: number;
  stage: string;
  instruction: string;
  line: number;
  output: string;
  done: boolean;
  cached?: boolean;
  reason?: string;
  ms?: number;
  layerSize?: number;
  diffId?: string;
  emptyLayer?: boolean;
  failed?: boolean;
}

export interface BuildSlice {
  build: {
    running: boolean;
    steps: LogStep[];
    warnings: string[];
    stages: { name: string; base: string; standIn?: string }[];
    result?: BuildSummary;
    /** The previous build's image size, to show how much this build changed it. */
    previousSize?: number;
    error?: string;
  };
  /** Builds the editor's Dockerfile; `auto` builds (the first visit's) leave the tabs as they are. */
  runBuild(options?: { noCache?: boolean; auto?: boolean }): Promise<void>;
  cancelBuild(): void;
}

let buildAbort: AbortController | undefined;

/** Folds one streamed event into the log. */
export function foldBuildEvent(b: BuildSlice["build"], e: BuildEvent): BuildSlice["build"] {
  switch (e.kind) {
    case "stage":
      return { ...b, stages: [...b.stages, { name: e.name, base: e.base, standIn: e.standIn }] };
    case "step":
      return {
        ...b,
        steps: [
          ...b.steps,
          {
            step: e.step,
            steps: e.steps,
            stage: e.stage,
            instruction: e.instruction,
            line: e.line,
            output: "",
            done: false,
          },
        ],
      };
    case "output":
      return {
        ...b,
        steps: b.steps.map((s) => (s.step === e.step ? { ...s, output: s.output + e.text } : s)),
      };
    case "step-done":
      return {
        ...b,
        steps: b.steps.map((s) =>
          s.step === e.step
            ? {
                ...s,
                done: true,
                cached: e.cached,
                reason: e.reason,
                ms: e.ms,
                layerSize: e.layerSize,
                diffId: e.diffId,
                emptyLayer: e.emptyLayer,
              }
            : s,
        ),
      };
    case "warning":
      return { ...b, warnings: [...b.warnings, e.line ? `line ${e.line}: ${e.message}` : e.message] };
    default:
      return b;
  }
}

export const createBuildSlice: StateCreator<AppState, [], [], BuildSlice> = (set, get) => ({
  build: { running: false, steps: [], warnings: [], stages: [] },
  async runBuild(options) {
    if (get().build.running) return;
    const ac = new AbortController();
    buildAbort = ac;
    const previousSize = get().build.result?.size;
    const selectedAtStart = get().ui.selectedImage;
    set({ build: { running: true, steps: [], warnings: [], stages: [], previousSize } });
    if (!options?.auto) set((s) => ({ ui: { ...s.ui, bottomTab: "log" } }));
    try {
      const result = await workerClient().call(
        "image.build",
        {
          dockerfile: get().editor.text,
          context: get().context.files,
          noCache: options?.noCache,
          tag: "layerlab/example:latest",
        },
        {
          signal: ac.signal,
          onEvent: (e) => set((s) => ({ build: foldBuildEvent(s.build, e as BuildEvent) })),
        },
      );
      set((s) => ({ build: { ...s.build, running: false, result } }));
      await get().refreshLibrary();
      // An automatic build does not pull the view away from an image chosen meanwhile.
      if (
        !options?.auto ||
        get().ui.selectedImage === selectedAtStart ||
        get().ui.selectedImage === result.id
      )
        await get().selectImage(result.id);
      void get().refreshStorage();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      get().noteStorageError(err);
      set((s) => ({
        build: {
          ...s.build,
          running: false,
          error: message,
          steps: s.build.steps.map((st) => (st.done ? st : { ...st, done: true, failed: true })),
        },
      }));
    } finally {
      if (buildAbort === ac) buildAbort = undefined;
    }
  },
  cancelBuild() {
    buildAbort?.abort();
  },
});
