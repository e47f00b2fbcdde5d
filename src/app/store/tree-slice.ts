import type { StateCreator } from "zustand";
import type { ChangeKind } from "../../core/view/tree.ts";
import type { AppState } from "./index.ts";

/** View state of the file tree: which directories are open, the sort, the filters. */
export interface TreeSlice {
  tree: {
    expanded: ReadonlySet<string>;
    sort: "name" | "size";
    filter: string;
    kinds: ReadonlySet<ChangeKind>;
    mode: "changes" | "merged";
  };
  toggleExpanded(path: string, open?: boolean): void;
  setTreeSort(sort: "name" | "size"): void;
  setTreeFilter(filter: string): void;
  toggleKind(kind: ChangeKind): void;
  setTreeMode(mode: "changes" | "merged"): void;
}

export const ALL_KINDS: readonly ChangeKind[] = ["added", "modified", "removed", "unchanged"];

export const createTreeSlice: StateCreator<AppState, [], [], TreeSlice> = (set, get) => ({
  tree: { expanded: new Set(), sort: "name", filter: "", kinds: new Set(ALL_KINDS), mode: "changes" },
  toggleExpanded(path, open) {
    set((s) => {
      const expanded = new Set(s.tree.expanded);
      const want = open ?? !expanded.has(path);
      if (want) expanded.add(path);
      else expanded.delete(path);
      return { tree: { ...s.tree, expanded } };
    });
  },
  setTreeSort(sort) {
    set((s) => ({ tree: { ...s.tree, sort } }));
  },
  setTreeFilter(filter) {
    set((s) => ({ tree: { ...s.tree, filter } }));
  },
  toggleKind(kind) {
    set((s) => {
      const kinds = new Set(s.tree.kinds);
      if (kinds.has(kind)) kinds.delete(kind);
      else kinds.add(kind);
      return { tree: { ...s.tree, kinds } };
    });
  },
  setTreeMode(mode) {
    set((s) => ({ tree: { ...s.tree, mode } }));
    void get().loadTree();
  },
});
