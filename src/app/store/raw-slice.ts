import type { StateCreator } from "zustand";
import type { RawImageView, RawLayerInfo, RawTarEntry } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** Entries fetched from the worker per call (the view asks only for the pages it shows). */
export const RAW_PAGE = 256;

/** The raw view of the selected layer: shown or not, and the pages of its listing fetched so far. */
export interface RawSlice {
  raw: {
    open: boolean;
    /** `image:layer` the pages below belong to. */
    key?: string;
    info?: RawLayerInfo;
    total?: number;
    pages: Record<number, RawTarEntry[]>;
    /** The image's JSON documents (for the image named by `imageKey`). */
    image?: RawImageView;
    imageKey?: string;
    /** Index of the entry whose full header is shown. */
    selected?: number;
    error?: string;
  };
  setRawOpen(open: boolean): void;
  /** Fetches page `page` of the selected layer's listing (nothing when it is already there). */
  loadRawPage(page: number): Promise<void>;
  loadRawImage(): Promise<void>;
  selectRawEntry(index: number | undefined): void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Pages asked for and not yet answered, so a scroll does not ask twice. */
const inFlight = new Set<string>();

export const createRawSlice: StateCreator<AppState, [], [], RawSlice> = (set, get) => {
  const current = () => {
    const { selectedImage, selectedLayer } = get().ui;
    if (!selectedImage || typeof selectedLayer !== "number") return undefined;
    return { id: selectedImage, layer: selectedLayer, key: `${selectedImage}:${selectedLayer}` };
  };
  return {
    raw: { open: false, pages: {} },
    setRawOpen(open) {
      set((s) => ({ raw: { ...s.raw, open } }));
    },
    selectRawEntry(selected) {
      set((s) => ({ raw: { ...s.raw, selected } }));
    },
    async loadRawPage(page) {
      const at = current();
      if (!at) return;
      const raw = get().raw;
      if (raw.key === at.key && raw.pages[page]) return;
      const ask = `${at.key}#${page}`;
      if (inFlight.has(ask)) return;
      inFlight.add(ask);
      if (raw.key !== at.key) {
        set((s) => ({
          raw: {
            ...s.raw,
            key: at.key,
            info: undefined,
            total: undefined,
            pages: {},
            selected: undefined,
            error: undefined,
          },
        }));
      }
      try {
        const r = await workerClient().call("layer.raw", {
          id: at.id,
          layer: at.layer,
          start: page * RAW_PAGE,
          count: RAW_PAGE,
        });
        // The selection may have moved on while the worker read the layer.
        if (get().raw.key !== at.key) return;
        set((s) => ({
          raw: { ...s.raw, info: r.info, total: r.total, pages: { ...s.raw.pages, [page]: r.entries } },
        }));
      } catch (err) {
        if (get().raw.key === at.key) set((s) => ({ raw: { ...s.raw, error: message(err) } }));
      } finally {
        inFlight.delete(ask);
      }
    },
    async loadRawImage() {
      const id = get().ui.selectedImage;
      if (!id || get().raw.imageKey === id) return;
      set((s) => ({ raw: { ...s.raw, imageKey: id, image: undefined } }));
      try {
        const image = await workerClient().call("image.raw", { id });
        if (get().raw.imageKey === id) set((s) => ({ raw: { ...s.raw, image } }));
      } catch (err) {
        if (get().raw.imageKey === id) set((s) => ({ raw: { ...s.raw, error: message(err) } }));
      }
    },
  };
};
