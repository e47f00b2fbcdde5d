import type { StateCreator } from "zustand";
import type { Diagnostic } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** The example from the document LayerLab grew from: the first thing a person sees. */
export const EXAMPLE_DOCKERFILE = `FROM ubuntu:20.04
RUN apt-get update && apt-get install -y python3
COPY . /app
`;

const KEY = "layerlab.dockerfile";

export interface EditorSlice {
  editor: { text: string; loaded: boolean };
  setDockerfile(text: string): void;
  loadDockerfile(): Promise<void>;
  /** Parse errors and lint findings of a Dockerfile text, checked in the worker. */
  checkDockerfile(text: string): Promise<Diagnostic[]>;
}

/**
 * The Dockerfile is kept in localStorage: it is small, and a synchronous write survives a reload
 * even while the worker is busy with a build.
 */
export const createEditorSlice: StateCreator<AppState, [], [], EditorSlice> = (set, get) => ({
  editor: { text: EXAMPLE_DOCKERFILE, loaded: false },
  setDockerfile(text) {
    set({ editor: { text, loaded: true } });
    try {
      localStorage.setItem(KEY, text);
    } catch {
      // Storage full or disabled: the text still lives in the page.
    }
  },
  async loadDockerfile() {
    // A Dockerfile that arrived with the page (a shared link) wins over the saved one.
    if (get().editor.loaded) return;
    const saved = localStorage.getItem(KEY);
    set((s) => ({ editor: { text: saved ?? s.editor.text, loaded: true } }));
  },
  checkDockerfile(text) {
    return workerClient().call("dockerfile.check", { text });
  },
});
