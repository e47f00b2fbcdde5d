import type { StateCreator } from "zustand";
import type { WorkerClient } from "../../worker/client.ts";
import type { EfficiencyReport, FileVersionDiff } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** Which two versions of a file a diff compares: `path` at layer `other` against it at `layer`. */
export interface DiffRequest {
  id: string;
  path: string;
  layer: number;
  other: number;
}

/** What the details panel has asked the worker for: the image's efficiency, a file's diff. */
export interface DetailsSlice {
  details: {
    /** The efficiency of image `image` (the last one asked for): its report, or why there is none. */
    efficiency: { image?: string; report?: EfficiencyReport; error?: string };
    /** The last diff asked for, with its answer once it comes. */
    diff: { request?: DiffRequest; result?: FileVersionDiff; error?: string };
  };
  /** Computes image `id`'s efficiency in the worker (kept while that image stays the one asked for). */
  loadEfficiency(id: string): Promise<void>;
  /** Diffs two versions of a file in the worker; `undefined` clears the diff. */
  diffFile(request: DiffRequest | undefined): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether two diff requests name the same versions of the same file. */
export function sameDiff(a: DiffRequest | undefined, b: DiffRequest | undefined): boolean {
  return (
    a === b ||
    (!!a && !!b && a.id === b.id && a.path === b.path && a.layer === b.layer && a.other === b.other)
  );
}

/**
 * The details slice. Each request takes a number; an answer is kept only if its request is still
 * the latest, so a slow answer for an image no longer shown never replaces the current one.
 * `client` is the worker's (tests pass a fake).
 */
export function createDetailsSlice(
  client: () => WorkerClient = workerClient,
): StateCreator<AppState, [], [], DetailsSlice> {
  return (set, get) => {
    let efficiencyRequest = 0;
    let diffRequest = 0;
    return {
      details: { efficiency: {}, diff: {} },

      async loadEfficiency(id) {
        const current = get().details.efficiency;
        // An image id is the digest of its config: the same id, the same layers, the same report.
        if (current.image === id && current.report) return;
        const req = ++efficiencyRequest;
        set((s) => ({ details: { ...s.details, efficiency: { image: id } } }));
        try {
          const report = await client().call("image.efficiency", { id });
          if (req !== efficiencyRequest) return;
          set((s) => ({ details: { ...s.details, efficiency: { image: id, report } } }));
        } catch (err) {
          if (req !== efficiencyRequest) return;
          set((s) => ({ details: { ...s.details, efficiency: { image: id, error: message(err) } } }));
        }
      },

      async diffFile(request) {
        const req = ++diffRequest;
        set((s) => ({ details: { ...s.details, diff: { request } } }));
        if (!request) return;
        try {
          const result = await client().call("image.diff", request);
          if (req !== diffRequest) return;
          set((s) => ({ details: { ...s.details, diff: { request, result } } }));
        } catch (err) {
          if (req !== diffRequest) return;
          set((s) => ({ details: { ...s.details, diff: { request, error: message(err) } } }));
        }
      },
    };
  };
}
