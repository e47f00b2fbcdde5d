import type { StateCreator } from "zustand";
import { cleanPath } from "../../core/fs/paths.ts";
import { nodePath } from "../../core/view/tree.ts";
import { WorkerCallError } from "../../worker/client.ts";
import type {
  ContainerOp,
  ContainerSummary,
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
    file?: FileView & { copiedUpFrom?: number };
    fileError?: string;
    /** The path being read, while it is (the first read of a compressed layer unpacks it). */
    fileLoading?: string;
    error?: string;
    /** The container shown as the writable layer, and the image's other containers. */
    container?: ContainerSummary;
    containers: ContainerSummary[];
    containerError?: string;
    /** A sentence about what the last container edit did, shown in place of a file. */
    notice?: string;
  };
  importing: {
    running: boolean;
    name?: string;
    progress?: Progress;
    result?: ImportSummary;
    error?: string;
    cancelled?: boolean;
    platform: string;
  };
  refreshLibrary(): Promise<void>;
  selectImage(id: string | undefined): Promise<void>;
  loadTree(): Promise<void>;
  openFile(path: string, offset?: number): Promise<void>;
  /** The whole content of a file of the shown layer (for downloads). */
  readWholeFile(path: string): Promise<Uint8Array | undefined>;
  importArchive(file: File): Promise<void>;
  /** The platform to take from multi-platform archives ("" for linux/amd64, else the first). */
  setImportPlatform(platform: string): void;
  cancelImport(): void;
  deleteImage(id: string): Promise<void>;
  selectContainer(id: string): Promise<void>;
  newContainer(): Promise<void>;
  editContainer(op: ContainerOp): Promise<boolean>;
  undoContainer(): Promise<void>;
  resetContainer(): Promise<void>;
  commitContainer(tag: string): Promise<boolean>;
}

let importAbort: AbortController | undefined;

/** Trees this small open fully when shown. */
const AUTO_EXPAND_NODES = 400;

function directoryPaths(snap: TreeSnapshot): string[] {
  const out: string[] = [];
  for (let i = 1; i < snap.names.length; i++) {
    if (snap.childStart[i + 1]! > snap.childStart[i]!) out.push(nodePath(snap, i));
  }
  return out;
}
let treeRequest = 0;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const createExplorerSlice: StateCreator<AppState, [], [], ExplorerSlice> = (set, get) => {
  /** The container shown for an image: the chosen one, or the image's latest (made when none). */
  async function ensureContainer(image: string): Promise<ContainerSummary> {
    const current = get().explorer.container;
    if (current && current.image === image) return current;
    const container = await workerClient().call("container.ensure", { image });
    const containers = await workerClient().call("container.list", { image });
    set((s) => ({ explorer: { ...s.explorer, container, containers } }));
    return container;
  }

  /**
   * Runs a container action, then shows its result: the summary, the tree, the open file (the
   * selected one, or `select` when the action moved it).
   */
  async function containerAction(
    run: (id: string) => Promise<ContainerSummary>,
    select?: string,
  ): Promise<boolean> {
    const c = get().explorer.container;
    if (!c) return false;
    try {
      const container = await run(c.id);
      set((s) => ({
        ui: select === undefined ? s.ui : { ...s.ui, selectedPath: select },
        explorer: {
          ...s.explorer,
          container,
          containerError: undefined,
          containers: s.explorer.containers.map((x) => (x.id === container.id ? container : x)),
        },
      }));
      await get().loadTree();
      const path = get().ui.selectedPath;
      if (path) await get().openFile(path);
      return true;
    } catch (err) {
      set((s) => ({ explorer: { ...s.explorer, containerError: message(err) } }));
      get().noteStorageError(err);
      return false;
    }
  }

  return {
    explorer: { treeLoading: false, containers: [] },
    importing: { running: false, platform: "" },

    async refreshLibrary() {
      const library = await workerClient().call("library.list", undefined);
      set((s) => ({ explorer: { ...s.explorer, library } }));
      get().noteLibrary(library.images.map((i) => i.names[0] ?? i.id.slice(7, 19)));
      const selected = get().ui.selectedImage;
      if (!selected || !library.images.some((i) => i.id === selected)) {
        await get().selectImage(library.images.at(-1)?.id);
      }
    },

    async selectImage(id) {
      set((s) => ({
        ui: { ...s.ui, selectedImage: id, selectedPath: undefined },
        explorer: {
          ...s.explorer,
          image: undefined,
          snapshot: undefined,
          file: undefined,
          error: undefined,
          container: undefined,
          containers: [],
        },
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
      const req = ++treeRequest;
      set((s) => ({ explorer: { ...s.explorer, treeLoading: true } }));
      try {
        let snapshot: TreeSnapshot;
        if (ui.selectedLayer === "container") {
          const c = await ensureContainer(image.image.id);
          snapshot = await workerClient().call("container.tree", { id: c.id });
        } else {
          const layer = ui.selectedLayer;
          snapshot = await workerClient().call("image.tree", { id: image.image.id, layer, mode: tree.mode });
        }
        if (req !== treeRequest) return;
        // A layer that changes little is shown opened up, so every change is in sight at once.
        const open = snapshot.names.length <= AUTO_EXPAND_NODES ? directoryPaths(snapshot) : [];
        set((s) => ({
          explorer: { ...s.explorer, snapshot, treeLoading: false },
          tree: open.length ? { ...s.tree, expanded: new Set([...s.tree.expanded, ...open]) } : s.tree,
        }));
      } catch (err) {
        if (req === treeRequest)
          set((s) => ({ explorer: { ...s.explorer, treeLoading: false, error: message(err) } }));
      }
    },

    async openFile(path, offset = 0) {
      const { ui, explorer } = get();
      const image = explorer.image;
      if (!image) return;
      set((s) => ({
        ui: { ...s.ui, selectedPath: path, detailsTab: "file" },
        explorer: { ...s.explorer, fileLoading: path },
      }));
      try {
        const container = explorer.container;
        const file =
          ui.selectedLayer === "container" && container
            ? await workerClient().call("container.file", { id: container.id, path, offset })
            : await workerClient().call("image.file", {
                id: image.image.id,
                layer: ui.selectedLayer === "container" ? image.layers.length - 1 : ui.selectedLayer,
                path,
                offset,
              });
        set((s) => ({
          explorer: { ...s.explorer, file, fileError: undefined, notice: undefined, fileLoading: undefined },
        }));
      } catch (err) {
        set((s) => ({
          explorer: { ...s.explorer, file: undefined, fileError: message(err), fileLoading: undefined },
        }));
      }
    },

    async readWholeFile(path) {
      const { ui, explorer } = get();
      const image = explorer.image;
      if (!image) return undefined;
      const length = Number.MAX_SAFE_INTEGER;
      const container = explorer.container;
      const f =
        ui.selectedLayer === "container" && container
          ? await workerClient().call("container.file", { id: container.id, path, offset: 0, length })
          : await workerClient().call("image.file", {
              id: image.image.id,
              layer: ui.selectedLayer === "container" ? image.layers.length - 1 : ui.selectedLayer,
              path,
              offset: 0,
              length,
            });
      return f.bytes;
    },

    async importArchive(file) {
      importAbort?.abort();
      const ac = new AbortController();
      importAbort = ac;
      const platform = get().importing.platform;
      set({
        importing: {
          running: true,
          name: file.name,
          platform,
          progress: { phase: "import", done: 0, total: file.size },
        },
      });
      try {
        const result = await workerClient().call(
          "archive.import",
          { file, name: file.name, ...(platform ? { platform } : {}) },
          {
            signal: ac.signal,
            onProgress: (progress) => set((s) => ({ importing: { ...s.importing, progress } })),
          },
        );
        set({ importing: { running: false, name: file.name, result, platform } });
        await get().refreshLibrary();
        const last = result.images.at(-1);
        if (last) await get().selectImage(last.id);
      } catch (err) {
        const cancelled = err instanceof WorkerCallError && err.code === "CANCELLED";
        set({ importing: { running: false, name: file.name, error: message(err), cancelled, platform } });
        get().noteStorageError(err);
      } finally {
        if (importAbort === ac) importAbort = undefined;
        void get().refreshStorage();
      }
    },

    setImportPlatform(platform) {
      set((s) => ({ importing: { ...s.importing, platform } }));
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
    async selectContainer(id) {
      const c = get().explorer.containers.find((x) => x.id === id);
      if (!c) return;
      set((s) => ({ explorer: { ...s.explorer, container: c } }));
      get().selectLayer("container");
    },

    async newContainer() {
      const image = get().explorer.image;
      if (!image) return;
      const container = await workerClient().call("container.create", { image: image.image.id });
      const containers = await workerClient().call("container.list", { image: image.image.id });
      set((s) => ({ explorer: { ...s.explorer, container, containers } }));
      get().selectLayer("container");
    },

    async editContainer(op) {
      const removing = op.kind === "rm" ? cleanPath(op.path) : undefined;
      if (removing !== undefined && get().ui.selectedPath === removing) {
        // The deleted file is no longer there to show: say what the delete did instead.
        set((s) => ({
          ui: { ...s.ui, selectedPath: undefined },
          explorer: {
            ...s.explorer,
            file: undefined,
            fileError: undefined,
            notice: `Deleted /${removing}: a whiteout in the container layer now hides it. The image's layers still hold it.`,
          },
        }));
      }
      // A renamed file that was open stays open under its new name (opened once, not twice).
      const moved =
        op.kind === "rename" && get().ui.selectedPath === cleanPath(op.from) ? cleanPath(op.to) : undefined;
      return containerAction((id) => workerClient().call("container.apply", { id, op }), moved);
    },
    undoContainer: async () => {
      await containerAction((id) => workerClient().call("container.undo", { id }));
    },
    resetContainer: async () => {
      await containerAction((id) => workerClient().call("container.reset", { id }));
    },

    async commitContainer(tag) {
      const c = get().explorer.container;
      if (!c) return false;
      try {
        const r = await workerClient().call("container.commit", { id: c.id, tag });
        await get().refreshLibrary();
        await get().selectImage(r.image);
        set((s) => ({ explorer: { ...s.explorer, container: r.container, containerError: undefined } }));
        const top = get().explorer.image?.layers.length;
        if (top) get().selectLayer(top - 1);
        void get().refreshStorage();
        return true;
      } catch (err) {
        set((s) => ({ explorer: { ...s.explorer, containerError: message(err) } }));
        get().noteStorageError(err);
        return false;
      }
    },
  };
};
