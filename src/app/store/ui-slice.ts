import type { StateCreator } from "zustand";
import type { AppState } from "./index.ts";

export type Theme = "light" | "dark";

/** View state only: what is selected and how things are shown, never model data. */
export interface UiSlice {
  ui: { theme: Theme; selectedLayer: string; selectedPath?: string };
  setTheme(theme: Theme): void;
  selectLayer(id: string): void;
  selectPath(path: string | undefined): void;
}

function initialTheme(): Theme {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem("layerlab.theme") : null;
  if (saved === "light" || saved === "dark") return saved;
  return typeof matchMedia !== "undefined" && matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  ui: { theme: initialTheme(), selectedLayer: "container" },
  setTheme(theme) {
    localStorage.setItem("layerlab.theme", theme);
    set((s) => ({ ui: { ...s.ui, theme } }));
  },
  selectLayer(id) {
    set((s) => ({ ui: { ...s.ui, selectedLayer: id, selectedPath: undefined } }));
  },
  selectPath(path) {
    set((s) => ({ ui: { ...s.ui, selectedPath: path } }));
  },
});
