import type { StateCreator } from "zustand";
import type { EmbeddedRegistryStatus } from "../../core/registry/embedded.ts";
import { clearEmbeddedRegistry, readEmbeddedRegistry, watchEmbeddedRegistry } from "../embedded-registry.ts";
import type { AppState } from "./index.ts";

/** The embedded registry as the page shows it: "another machine" with its own store. */
export interface EmbeddedRegistrySlice {
  embeddedRegistry: { status?: EmbeddedRegistryStatus; busy: boolean; error?: string };
  /** Asks the embedded registry what it holds (waits for its Service Worker; keeps listening for changes). */
  refreshEmbeddedRegistry(): Promise<void>;
  /** Empties the embedded registry (its blobs, manifests and tags). */
  clearEmbeddedRegistry(): Promise<void>;
}

let watching = false;

export const createEmbeddedRegistrySlice: StateCreator<AppState, [], [], EmbeddedRegistrySlice> = (
  set,
  get,
) => {
  const patch = (p: Partial<EmbeddedRegistrySlice["embeddedRegistry"]>) =>
    set((s) => ({ embeddedRegistry: { ...s.embeddedRegistry, ...p } }));
  const run = async (ask: () => Promise<EmbeddedRegistryStatus>) => {
    patch({ busy: true });
    try {
      patch({ status: await ask(), busy: false, error: undefined });
    } catch (err) {
      patch({ busy: false, error: (err as Error).message });
    }
  };
  return {
    embeddedRegistry: { busy: false },
    async refreshEmbeddedRegistry() {
      if (!watching) {
        watching = true;
        watchEmbeddedRegistry(() => void run(readEmbeddedRegistry));
      }
      await run(readEmbeddedRegistry);
    },
    clearEmbeddedRegistry: () => {
      if (get().embeddedRegistry.busy) return Promise.resolve();
      return run(clearEmbeddedRegistry);
    },
  };
};
