import { LayerLabError } from "../core/errors.ts";
import type { Store } from "../core/store/types.ts";
import type { MethodName, Progress, StorageStats, WorkerMethods } from "./protocol.ts";

/** What a handler gets besides its params: progress reporting and cancellation. */
export interface CallContext {
  progress(p: Progress): void;
  signal: AbortSignal;
}

type Handlers = {
  [M in MethodName]: (
    params: WorkerMethods[M]["params"],
    ctx: CallContext,
  ) => Promise<WorkerMethods[M]["result"]>;
};

/** Reads the quota where the platform has one (browsers, in a worker or a page). */
async function estimateQuota(): Promise<Pick<StorageStats, "usage" | "quota" | "persisted">> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!storage?.estimate) return {};
  const { usage, quota } = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : undefined;
  return { usage, quota, persisted };
}

/** The worker's methods over one opened store; plain functions, testable in Node. */
export function createHandlers(store: Store): Handlers {
  async function stats(): Promise<StorageStats> {
    const [b, images, layers, containers, quota] = await Promise.all([
      store.blobs.stats(),
      store.meta.list("images"),
      store.meta.list("layers"),
      store.meta.list("containers"),
      estimateQuota(),
    ]);
    return {
      blobs: b.count,
      bytes: b.bytes,
      images: images.length,
      layers: layers.length,
      containers: containers.length,
      ...quota,
    };
  }
  return {
    "storage.stats": () => stats(),
    "storage.clear": async () => {
      await store.clear();
      return stats();
    },
    "kv.get": async ({ key }) => (await store.meta.get("kv", key))?.value,
    "kv.set": async ({ key, value }) => {
      await store.meta.put("kv", { id: key, value });
      return undefined;
    },
  };
}

/** Turns any failure into the plain error shape the protocol carries. */
export function toWireError(err: unknown): { code: string; message: string } {
  if (err instanceof LayerLabError) return { code: err.code, message: err.message };
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}
