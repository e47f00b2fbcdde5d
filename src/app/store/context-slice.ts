import type { StateCreator } from "zustand";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** The build context: files COPY and ADD read, kept in the browser. Text or bytes by path. */
export type ContextFiles = Record<string, string | Uint8Array>;

/** The example's context, so `COPY . /app` has something real to copy on first load. */
export const EXAMPLE_CONTEXT: ContextFiles = {
  "app.py": 'print("Hello from a LayerLab image")\n',
  README: "This folder is the build context: `COPY . /app` copies it into the image.\n",
};

export interface ContextSlice {
  context: { files: ContextFiles; loaded: boolean; editing?: string };
  loadContext(): Promise<void>;
  setContextFile(path: string, content: string | Uint8Array): void;
  removeContextFile(path: string): void;
  renameContextFile(from: string, to: string): void;
  replaceContext(files: ContextFiles): void;
  editContextFile(path: string | undefined): void;
}

/** Keeps the context in the store; a refusal for want of room is shown as any full store is. */
function save(files: ContextFiles, onError: (err: unknown) => void) {
  workerClient().call("kv.set", { key: "context", value: files }).catch(onError);
}

/** A context path as people type it: relative, forward slashes, no `.` or `..` segments. */
export function cleanContextName(name: string): string {
  return name
    .split(/[\\/]+/)
    .filter((p) => p !== "" && p !== "." && p !== "..")
    .join("/");
}

export const createContextSlice: StateCreator<AppState, [], [], ContextSlice> = (set, get) => {
  const update = (files: ContextFiles, editing = get().context.editing) => {
    set({ context: { files, loaded: true, editing } });
    save(files, (err) => get().noteStorageError(err));
  };
  return {
    context: { files: EXAMPLE_CONTEXT, loaded: false },
    async loadContext() {
      const saved = await workerClient().call("kv.get", { key: "context" });
      if (saved && typeof saved === "object")
        set({ context: { files: saved as ContextFiles, loaded: true } });
      else set((s) => ({ context: { ...s.context, loaded: true } }));
    },
    setContextFile(path, content) {
      const p = cleanContextName(path);
      if (!p) return;
      update({ ...get().context.files, [p]: content });
    },
    removeContextFile(path) {
      const files = { ...get().context.files };
      delete files[path];
      update(files, get().context.editing === path ? undefined : get().context.editing);
    },
    renameContextFile(from, to) {
      const p = cleanContextName(to);
      const files = { ...get().context.files };
      if (!p || !(from in files) || p === from) return;
      files[p] = files[from]!;
      delete files[from];
      update(files, p);
    },
    replaceContext(files) {
      update(files, undefined);
    },
    editContextFile(path) {
      set((s) => ({ context: { ...s.context, editing: path } }));
    },
  };
};
