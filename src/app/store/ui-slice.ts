import type { StateCreator } from "zustand";
import type { AppState } from "./index.ts";

export type Theme = "light" | "dark";

/** Which layer is selected: a read-only layer by index (0 = base), or the container layer. */
export type LayerSelection = number | "container";

/** View state only: what is selected and how things are shown, never model data. */
export interface UiSlice {
  ui: {
    theme: Theme;
    selectedImage?: string;
    selectedLayer: LayerSelection;
    selectedPath?: string;
    detailsTab: "file" | "history" | "config" | "efficiency" | "images" | "transfers";
    bottomTab: "lessons" | "context" | "log" | "terminal";
    /** Height (px) the learner dragged the bottom panel to; unset, the layout's own share. */
    bottomHeight?: number;
  };
  setTheme(theme: Theme): void;
  selectLayer(layer: LayerSelection): void;
  selectPath(path: string | undefined): void;
  setDetailsTab(tab: UiSlice["ui"]["detailsTab"]): void;
  setBottomTab(tab: UiSlice["ui"]["bottomTab"]): void;
  /** Resizes the bottom panel (the terminal's drawer), kept across reloads. */
  setBottomHeight(px: number): void;
}

const BOTTOM_HEIGHT_KEY = "layerlab.bottomHeight";

function initialBottomHeight(): number | undefined {
  const saved = typeof localStorage !== "undefined" ? Number(localStorage.getItem(BOTTOM_HEIGHT_KEY)) : 0;
  return saved > 0 ? saved : undefined;
}

function initialTheme(): Theme {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem("layerlab.theme") : null;
  if (saved === "light" || saved === "dark") return saved;
  return typeof matchMedia !== "undefined" && matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set, get) => ({
  ui: {
    theme: initialTheme(),
    selectedLayer: "container",
    detailsTab: "file",
    bottomTab: "lessons",
    bottomHeight: initialBottomHeight(),
  },
  setTheme(theme) {
    localStorage.setItem("layerlab.theme", theme);
    set((s) => ({ ui: { ...s.ui, theme } }));
  },
  selectLayer(layer) {
    set((s) => ({ ui: { ...s.ui, selectedLayer: layer } }));
    void get().loadTree();
  },
  selectPath(path) {
    set((s) => ({ ui: { ...s.ui, selectedPath: path } }));
  },
  setDetailsTab(detailsTab) {
    set((s) => ({ ui: { ...s.ui, detailsTab } }));
  },
  setBottomTab(bottomTab) {
    set((s) => ({ ui: { ...s.ui, bottomTab } }));
  },
  setBottomHeight(px) {
    const bottomHeight = Math.round(Math.max(160, px));
    localStorage.setItem(BOTTOM_HEIGHT_KEY, String(bottomHeight));
    set((s) => ({ ui: { ...s.ui, bottomHeight } }));
  },
});
