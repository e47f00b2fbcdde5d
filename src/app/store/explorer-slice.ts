import type { StateCreator } from "zustand";
import type {
  FileView,
  ImageView,
  ImportSummary,
  LibrarySummary,
  Progress,
  TreeSnapshot,
} from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** What the explorer has loaded from the worker: the library, the image, its tree, one file. */
export interface ExplorerSlice {
  explorer: {
    library?: LibrarySummary;
    image?: ImageView;
    snapshot?: TreeSnapshot;
    treeLoading: boolean;
    file?: FileView;
    fileError?: string;
    error?: string;
  };
  importing: {
    running: boolean;
    name?: string;
    progress?: Progress;
    result?: ImportSummary;
    error?: string;
  };
  refreshLibrary(): Promise<void>;
  selectImage(id: string | undefined): Promise<void>;
  loadTree(): Promise<void>;
  openFile(path: string, offset?: number): Promise<void>;
  importArchive(file: File): Promise<void>;
  cancelImport(): void;
  deleteImage(id: string): Promise<void>;
}

let importAbort: AbortController | undefined;
let treeRequest = 0;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const createExplorerSlice: StateCreator<AppState, [], [], ExplorerSlice> = (set, get) => ({
  explorer: { treeLoading: false },
  importing: { running: false },

  async refreshLibrary() {
    const library = await workerClient().call("library.list", undefined);
    set((s) => ({ explorer: { ...s.explorer, library } }));
    const selected = get().ui.selectedImage;
    if (!selected || !library.images.some((i) => i.id === selected)) {
      await get().selectImage(library.images.at(-1)?.id);
    }
  },

  async selectImage(id) {
    set((s) => ({
      ui: { ...s.ui, selectedImage: id, selectedPath: undefined },
      explorer: { ...s.explorer, image: undefined, snapshot: undefined, file: undefined, error: undefined },
    }));
    if (!id) return;
    try {
      const image = await workerClient().call("image.view", { id });
      if (get().ui.selectedImage !== id) return;
      const top = image.layers.length - 1;
      set((s) => ({
        explorer: { ...s.explorer, image },
        ui: {
          ...s.ui,
          selectedLayer: typeof s.ui.selectedLayer === "number" ? Math.min(s.ui.selectedLayer, top) : top,
        },
      }));
      await get().loadTree();
    } catch (err) {
      set((s) => ({ explorer: { ...s.explorer, error: message(err) } }));
    }
  },

  async loadTree() {
    const { ui, tree, explorer } = get();
    const image = explorer.image;
    if (!image || image.layers.length === 0) {
      set((s) => ({ explorer: { ...s.explorer, snapshot: undefined } }));
      return;
    }
    const layer = ui.selectedLayer === "container" ? image.layers.length - 1 : ui.selectedLayer;
    const mode = ui.selectedLayer === "container" ? "merged" : tree.mode;
    const req = ++treeRequest;
    set((s) => ({ explorer: { ...s.explorer, treeLoading: true } }));
    try {
      const snapshot = await workerClient().call("image.tree", { id: image.image.id, layer, mode });
      if (req !== treeRequest) return;
      set((s) => ({ explorer: { ...s.explorer, snapshot, treeLoading: false } }));
    } catch (err) {
      if (req === treeRequest)
        set((s) => ({ explorer: { ...s.explorer, treeLoading: false, error: message(err) } }));
    }
  },

  async openFile(path, offset = 0) {
    const { ui, explorer } = get();
    const image = explorer.image;
    if (!image) return;
    const layer = ui.selectedLayer === "container" ? image.layers.length - 1 : ui.selectedLayer;
    set((s) => ({ ui: { ...s.ui, selectedPath: path, detailsTab: "file" } }));
    try {
      const file = await workerClient().call("image.file", { id: image.image.id, layer, path, offset });
      set((s) => ({ explorer: { ...s.explorer, file, fileError: undefined } }));
    } catch (err) {
      set((s) => ({ explorer: { ...s.explorer, file: undefined, fileError: message(err) } }));
    }
  },

  async importArchive(file) {
    importAbort?.abort();
    const ac = new AbortController();
    importAbort = ac;
    set({
      importing: { running: true, name: file.name, progress: { phase: "import", done: 0, total: file.size } },
    });
    try {
      const result = await workerClient().call(
        "archive.import",
        { file, name: file.name },
        {
          signal: ac.signal,
          onProgress: (progress) => set((s) => ({ importing: { ...s.importing, progress } })),
        },
      );
      set({ importing: { running: false, name: file.name, result } });
      await get().refreshLibrary();
      const last = result.images.at(-1);
      if (last) await get().selectImage(last.id);
    } catch (err) {
      set({ importing: { running: false, name: file.name, error: message(err) } });
    } finally {
      if (importAbort === ac) importAbort = undefined;
      void get().refreshStorage();
    }
  },

  cancelImport() {
    importAbort?.abort();
  },

  async deleteImage(id) {
    await workerClient().call("image.delete", { id });
    if (get().ui.selectedImage === id) await get().selectImage(undefined);
    await get().refreshLibrary();
    void get().refreshStorage();
  },
});
