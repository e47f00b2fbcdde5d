import type { StateCreator } from "zustand";
import type { ContainerSummary, DockerChange, ShellInfo, ShellOutput } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** The container whose terminal was open, so a reload opens it again. */
const OPEN_KEY = "layerlab.terminal";

/** The terminal attached to a container (`docker run -it`), its `docker diff`, and the containers list. */
export interface ContainerSlice {
  terminal: {
    /** The container the terminal is attached to. */
    id?: string;
    info?: ShellInfo;
    /** True while a command line runs. */
    busy: boolean;
    /** The first `changesLimit` lines of `docker diff`. */
    changes: DockerChange[];
    /** How many lines of `docker diff` the page asks for: DIFF_LINES_FIRST, more on request. */
    changesLimit: number;
    /** How many lines `docker diff` has in all. */
    changesTotal: number;
    /** Every container of the shown image. */
    all: ContainerSummary[];
    /** True when the terminal was opened again after a reload (what ran then did not survive). */
    restored: boolean;
    error?: string;
  };
  /** `docker run -it IMAGE`: a new container of the shown image, with its terminal open. */
  runImage(): Promise<void>;
  /** Attaches the terminal to a container (and shows its layer). */
  attachTerminal(id: string, restored?: boolean): Promise<void>;
  /** Opens the terminal of the container a reload left open, if it still exists. */
  restoreTerminal(): Promise<void>;
  /** Runs a command line; its output is handed to `onOutput` piece by piece as it comes. */
  runLine(
    line: string,
    onOutput: (text: string, stream: "stdout" | "stderr") => void,
  ): Promise<{ exitCode: number; cwd: string } | { error: string }>;
  /** Ctrl+C: cancels the running command. */
  interruptLine(): void;
  /** Tab: what the path before the cursor completes to. */
  completeLine(before: string): Promise<{ candidates: string[]; common: string }>;
  /** `exit` / Ctrl+D: the shell was the container's process, so the container stops. */
  endSession(): Promise<void>;
  stopContainer(id: string): Promise<void>;
  startContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Commits a container of the list as a new image (the container layer's commit). */
  commitContainerAs(id: string, tag: string): Promise<boolean>;
  /** Lists the containers of an image (default: the shown one). */
  refreshContainers(image?: string): Promise<void>;
  /** Asks for DIFF_LINES_MORE more lines of the attached container's `docker diff`. */
  showMoreChanges(): Promise<void>;
}

/**
 * Lines of `docker diff` the page holds and draws at first: a loop that writes 10,000 files would
 * otherwise send, keep and draw them all after every command while the learner types (and the
 * frame that draws 200 new lines was the longest of a refresh). The side panel shows about a
 * dozen; the learner asks for more, DIFF_LINES_MORE at a time.
 */
export const DIFF_LINES_FIRST = 50;
/** Lines each "Show more" adds. */
export const DIFF_LINES_MORE = 200;

let running: AbortController | undefined;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const createContainerSlice: StateCreator<AppState, [], [], ContainerSlice> = (set, get) => {
  /** Shows a container's new summary everywhere it appears: the stack, the bar, the list. */
  function showSummary(c: ContainerSummary): void {
    set((s) => ({
      explorer: {
        ...s.explorer,
        container: s.explorer.container?.id === c.id ? c : s.explorer.container,
        containers: s.explorer.containers.map((x) => (x.id === c.id ? c : x)),
      },
      terminal: { ...s.terminal, all: s.terminal.all.map((x) => (x.id === c.id ? c : x)) },
    }));
  }

  /** Tree and docker diff refreshes in flight, per container: at most one runs, one more waits. */
  const refreshing = new Map<string, { again: boolean }>();

  /**
   * Live: the container layer's tree and docker diff follow each command. This runs after the
   * prompt is back, so typing never waits for it; commands in quick succession coalesce.
   */
  async function refreshAfterCommand(id: string): Promise<void> {
    const inFlight = refreshing.get(id);
    if (inFlight) {
      inFlight.again = true;
      return;
    }
    const mark = { again: false };
    refreshing.set(id, mark);
    try {
      do {
        mark.again = false;
        const tasks: Promise<unknown>[] = [refreshChanges(id)];
        if (get().ui.selectedLayer === "container" && get().explorer.container?.id === id)
          tasks.push(get().loadTree());
        await Promise.all(tasks);
      } while (mark.again);
    } catch (err) {
      set((s) => ({ terminal: { ...s.terminal, error: message(err) } }));
    } finally {
      refreshing.delete(id);
    }
  }

  async function refreshChanges(id: string): Promise<void> {
    const page = await workerClient().call("container.diff", { id, limit: get().terminal.changesLimit });
    if (get().terminal.id === id)
      set((s) => ({ terminal: { ...s.terminal, changes: page.changes, changesTotal: page.total } }));
  }

  return {
    terminal: {
      busy: false,
      changes: [],
      changesTotal: 0,
      changesLimit: DIFF_LINES_FIRST,
      all: [],
      restored: false,
    },

    async showMoreChanges() {
      const id = get().terminal.id;
      if (!id) return;
      set((s) => ({ terminal: { ...s.terminal, changesLimit: s.terminal.changesLimit + DIFF_LINES_MORE } }));
      try {
        await refreshChanges(id);
      } catch (err) {
        set((s) => ({ terminal: { ...s.terminal, error: message(err) } }));
      }
    },

    async refreshContainers(of) {
      const image = of ?? get().explorer.image?.image.id;
      const all = image ? await workerClient().call("container.list", { image }) : [];
      set((s) => ({ terminal: { ...s.terminal, all }, explorer: { ...s.explorer, containers: all } }));
    },

    async runImage() {
      const image = get().explorer.image;
      if (!image) return;
      try {
        const c = await workerClient().call("container.create", { image: image.image.id });
        await get().refreshContainers();
        await get().attachTerminal(c.id);
      } catch (err) {
        set((s) => ({ terminal: { ...s.terminal, error: message(err) } }));
        get().noteStorageError(err);
      }
    },

    async attachTerminal(id, restored = false) {
      try {
        const info = await workerClient().call("shell.open", { id });
        localStorage.setItem(OPEN_KEY, id);
        set((s) => ({
          terminal: {
            ...s.terminal,
            id,
            info,
            restored,
            error: undefined,
            busy: false,
            // Another container's diff starts short again.
            changesLimit: s.terminal.id === id ? s.terminal.changesLimit : DIFF_LINES_FIRST,
          },
        }));
        const c =
          get().terminal.all.find((x) => x.id === id) ?? get().explorer.containers.find((x) => x.id === id);
        if (c) set((s) => ({ explorer: { ...s.explorer, container: c } }));
        get().setBottomTab("terminal");
        get().selectLayer("container");
        await refreshChanges(id);
      } catch (err) {
        set((s) => ({ terminal: { ...s.terminal, id: undefined, info: undefined, error: message(err) } }));
      }
    },

    async restoreTerminal() {
      const id = localStorage.getItem(OPEN_KEY);
      if (!id) return;
      const c = (await workerClient().call("container.list", {})).find((x) => x.id === id);
      if (!c) {
        localStorage.removeItem(OPEN_KEY);
        return;
      }
      if (get().ui.selectedImage !== c.image || !get().explorer.image) await get().selectImage(c.image);
      await get().refreshContainers(c.image);
      await get().attachTerminal(id, true);
    },

    async runLine(line, onOutput) {
      const id = get().terminal.id;
      if (!id) return { error: "no container is attached" };
      running = new AbortController();
      set((s) => ({ terminal: { ...s.terminal, busy: true } }));
      try {
        const r = await workerClient().call(
          "shell.exec",
          { id, line },
          {
            signal: running.signal,
            onEvent: (e) => {
              const o = e as ShellOutput;
              if (o.kind === "output") onOutput(o.text, o.stream);
            },
          },
        );
        showSummary(r.container);
        void refreshAfterCommand(id);
        return { exitCode: r.exitCode, cwd: r.cwd };
      } catch (err) {
        // A command whose writes the browser refused: the notice says what uses the store.
        get().noteStorageError(err);
        return { error: message(err) };
      } finally {
        running = undefined;
        set((s) => ({ terminal: { ...s.terminal, busy: false } }));
      }
    },

    interruptLine() {
      running?.abort();
    },

    async completeLine(before) {
      const id = get().terminal.id;
      if (!id) return { candidates: [], common: "" };
      return workerClient().call("shell.complete", { id, before });
    },

    async endSession() {
      const id = get().terminal.id;
      if (!id) return;
      await get().stopContainer(id);
      localStorage.removeItem(OPEN_KEY);
    },

    async stopContainer(id) {
      const c = await workerClient().call("container.stop", { id });
      showSummary(c);
      if (get().terminal.id === id)
        set((s) => ({
          terminal: {
            ...s.terminal,
            info: s.terminal.info ? { ...s.terminal.info, state: "exited" } : undefined,
          },
        }));
    },

    async startContainer(id) {
      const c = await workerClient().call("container.start", { id });
      showSummary(c);
      await get().attachTerminal(id);
    },

    async commitContainerAs(id, tag) {
      await get().selectContainer(id);
      const ok = await get().commitContainer(tag);
      if (ok) await get().refreshContainers();
      return ok;
    },

    async removeContainer(id) {
      await workerClient().call("container.remove", { id });
      if (get().terminal.id === id) {
        localStorage.removeItem(OPEN_KEY);
        set((s) => ({
          terminal: { ...s.terminal, id: undefined, info: undefined, changes: [], changesTotal: 0 },
        }));
      }
      const wasShown = get().explorer.container?.id === id;
      if (wasShown) set((s) => ({ explorer: { ...s.explorer, container: undefined } }));
      await get().refreshContainers();
      if (wasShown) {
        const next = get().terminal.all.at(-1);
        if (next) await get().selectContainer(next.id);
      }
    },
  };
};
