import type { StateCreator } from "zustand";
import {
  detectEvictedStore,
  formatStoreMarker,
  parseStoreMarker,
  STORE_MARKER_COOKIE,
  type StoreMarker,
} from "../../core/store/eviction-marker.ts";
import { WorkerCallError } from "../../worker/client.ts";
import {
  type BlobCheckReport,
  type Progress,
  type RepairReport,
  STORE_CHANNEL,
  type StorageStats,
  type StoreChanged,
  type WireError,
} from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** Past this much stored, the browser is asked to keep the store (navigator.storage.persist). */
const PERSIST_AFTER_BYTES = 4 * 1000 * 1000;

export interface StorageSlice {
  storage: {
    stats?: StorageStats;
    busy: boolean;
    error?: string;
    /** The last write the browser refused for want of room: the numbers behind its message. */
    full?: NonNullable<WireError["storage"]>;
    /** What the load-time repair found (images whose bytes were gone, leftovers collected). */
    repair?: RepairReport;
    /** Set when the store came back empty though the last visit left images in it: evicted. */
    evicted?: StoreMarker;
    /** Set when another tab upgraded the store: this tab's store is closed until a reload. */
    closed?: boolean;
    /** Whether the browser was asked to keep the store, and what it answered. */
    persistAsked?: boolean;
    check: { running: boolean; progress?: Progress; report?: BlobCheckReport; error?: string };
  };
  refreshStorage(): Promise<void>;
  clearStorage(): Promise<void>;
  /** At load: removes images whose bytes are gone, collects leftovers, and listens to other tabs. */
  repairStorage(): Promise<void>;
  /** Reads every blob back and checks its digest (the `Check store` action). */
  checkStorage(): Promise<void>;
  cancelStorageCheck(): void;
  /** Asks the browser to keep the store until the person clears it. */
  persistStorage(): Promise<void>;
  /**
   * Told each time the library is read: the first time in this page, compares it with the note the
   * last visit left (an empty store that held images was evicted); every time, updates the note.
   */
  noteLibrary(names: readonly string[]): void;
  /** Takes note of a failed write: a full store is shown with its numbers and what to do. */
  noteStorageError(err: unknown): void;
  dismissStorageNotice(): void;
}

let checkAbort: AbortController | undefined;
let watching = false;
let libraryNoted = false;
/** The note lives a year (Chromium keeps a cookie at most 400 days); Strict, as no other site needs it. */
const MARKER_MAX_AGE_S = 365 * 24 * 3600;

/** The cookies of the page, or undefined outside one (tests). */
function pageCookies(): string | undefined {
  return typeof document === "undefined" ? undefined : document.cookie;
}

function writeStoreMarker(names: readonly string[]): void {
  if (typeof document === "undefined") return;
  const secure = typeof location !== "undefined" && location.protocol === "https:" ? "; Secure" : "";
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing from some browsers LayerLab runs in; formatStoreMarker escapes the value.
  document.cookie = `${STORE_MARKER_COOKIE}=${formatStoreMarker(names)}; Max-Age=${MARKER_MAX_AGE_S}; Path=/; SameSite=Strict${secure}`;
}

/** The browser's storage manager in a page (absent in tests and old browsers). */
function storageManager(): StorageManager | undefined {
  return typeof navigator === "undefined" ? undefined : navigator.storage;
}

export const createStorageSlice: StateCreator<AppState, [], [], StorageSlice> = (set, get) => {
  const patch = (p: Partial<StorageSlice["storage"]>) => set((s) => ({ storage: { ...s.storage, ...p } }));
  async function run(method: "storage.stats" | "storage.clear") {
    patch({ busy: true, error: undefined });
    try {
      const stats = await workerClient().call(method, undefined);
      patch({ stats, busy: false, ...(method === "storage.clear" ? { full: undefined } : {}) });
      if (method === "storage.clear") await get().refreshLibrary();
    } catch (err) {
      patch({ busy: false, error: (err as Error).message });
    }
  }
  /** Another tab's worker stored or removed an image: show it here too, without a reload. */
  function watchOtherTabs() {
    if (watching || typeof BroadcastChannel === "undefined") return;
    watching = true;
    const channel = new BroadcastChannel(STORE_CHANNEL);
    channel.onmessage = (ev: MessageEvent<StoreChanged>) => {
      if (!ev.data?.kind || get().storage.closed) return;
      void get().refreshLibrary();
      void get().refreshStorage();
    };
    workerClient().onNotice((notice) => {
      if (notice.kind === "store-closed") patch({ closed: true });
    });
  }
  return {
    storage: { busy: false, check: { running: false } },
    async refreshStorage() {
      await run("storage.stats");
      const st = get().storage.stats;
      // The first import or build that stores more than a few MB asks the browser to keep the store.
      if (st && !st.persisted && !get().storage.persistAsked && st.bytes > PERSIST_AFTER_BYTES) {
        await get().persistStorage();
      }
    },
    clearStorage: () => run("storage.clear"),
    async repairStorage() {
      watchOtherTabs();
      try {
        const repair = await workerClient().call("storage.repair", undefined);
        patch({ repair });
        if (repair.lost.length > 0 || repair.collected.blobs > 0) {
          await get().refreshLibrary();
          await run("storage.stats");
        }
      } catch (err) {
        patch({ error: (err as Error).message });
      }
    },
    async checkStorage() {
      checkAbort?.abort();
      const ac = new AbortController();
      checkAbort = ac;
      patch({ check: { running: true, progress: { phase: "check", done: 0 } } });
      try {
        const report = await workerClient().call("storage.check", undefined, {
          signal: ac.signal,
          onProgress: (progress) => patch({ check: { running: true, progress } }),
        });
        patch({ check: { running: false, report } });
      } catch (err) {
        const cancelled = err instanceof WorkerCallError && err.code === "CANCELLED";
        patch({ check: { running: false, error: cancelled ? "Check cancelled." : (err as Error).message } });
      } finally {
        if (checkAbort === ac) checkAbort = undefined;
      }
    },
    cancelStorageCheck() {
      checkAbort?.abort();
    },
    async persistStorage() {
      patch({ persistAsked: true });
      const manager = storageManager();
      if (!manager?.persist) return;
      await manager.persist().catch(() => false);
      await run("storage.stats");
    },
    noteStorageError(err) {
      if (err instanceof WorkerCallError && err.code === "STORAGE_FULL") {
        patch({ full: err.storage ?? {} });
        void get().refreshStorage();
      }
    },
    noteLibrary(names) {
      const cookies = pageCookies();
      if (cookies === undefined) return;
      if (!libraryNoted) {
        libraryNoted = true;
        const evicted = detectEvictedStore(parseStoreMarker(cookies), names.length);
        if (evicted) patch({ evicted });
      }
      writeStoreMarker(names);
    },
    dismissStorageNotice() {
      patch({ full: undefined, repair: undefined, evicted: undefined });
    },
  };
};
