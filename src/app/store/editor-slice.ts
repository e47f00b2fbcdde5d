import type { StateCreator } from "zustand";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** The example from the document LayerLab grew from: the first thing a person sees. */
export const EXAMPLE_DOCKERFILE = `FROM ubuntu:20.04
RUN apt-get update && apt-get install -y python3
COPY . /app
`;

export interface EditorSlice {
  editor: { text: string; loaded: boolean };
  setDockerfile(text: string): void;
  loadDockerfile(): Promise<void>;
}

export const createEditorSlice: StateCreator<AppState, [], [], EditorSlice> = (set, get) => ({
  editor: { text: EXAMPLE_DOCKERFILE, loaded: false },
  setDockerfile(text) {
    set({ editor: { text, loaded: true } });
    void workerClient().call("kv.set", { key: "dockerfile", value: text });
  },
  async loadDockerfile() {
    // A Dockerfile that arrived with the page (a shared link) wins over the saved one.
    if (get().editor.loaded) return;
    const saved = await workerClient().call("kv.get", { key: "dockerfile" });
    set((s) => ({ editor: { text: typeof saved === "string" ? saved : s.editor.text, loaded: true } }));
  },
});
