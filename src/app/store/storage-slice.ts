import type { StateCreator } from "zustand";
import type { StorageStats } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

export interface StorageSlice {
  storage: { stats?: StorageStats; busy: boolean; error?: string };
  refreshStorage(): Promise<void>;
  clearStorage(): Promise<void>;
}

export const createStorageSlice: StateCreator<AppState, [], [], StorageSlice> = (set) => {
  async function run(method: "storage.stats" | "storage.clear") {
    set((s) => ({ storage: { ...s.storage, busy: true, error: undefined } }));
    try {
      const stats = await workerClient().call(method, undefined);
      set({ storage: { stats, busy: false } });
    } catch (err) {
      set((s) => ({ storage: { ...s.storage, busy: false, error: (err as Error).message } }));
    }
  }
  return {
    storage: { busy: false },
    refreshStorage: () => run("storage.stats"),
    clearStorage: () => run("storage.clear"),
  };
};
