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
  };
  setTheme(theme: Theme): void;
  selectLayer(layer: LayerSelection): void;
  selectPath(path: string | undefined): void;
  setDetailsTab(tab: UiSlice["ui"]["detailsTab"]): void;
  setBottomTab(tab: UiSlice["ui"]["bottomTab"]): void;
}

function initialTheme(): Theme {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem("layerlab.theme") : null;
  if (saved === "light" || saved === "dark") return saved;
  return typeof matchMedia !== "undefined" && matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set, get) => ({
  ui: { theme: initialTheme(), selectedLayer: "container", detailsTab: "file", bottomTab: "lessons" },
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
});
