import { describe, expect, it, vi } from "vitest";
import { create } from "zustand";
import { buildTreeSnapshot } from "../../core/view/tree.ts";
import type { WorkerClient } from "../../worker/client.ts";
import type { ContainerSummary, ImageView } from "../../worker/protocol.ts";
import { createExplorerSlice } from "./explorer-slice.ts";
import type { AppState } from "./index.ts";

/** The worker methods this slice calls, each answered at once; the calls recorded. */
const calls: { method: string; params: Record<string, unknown> }[] = [];
const container = { id: "c1", image: "sha256:img" } as unknown as ContainerSummary;
const answers: Record<string, (params: Record<string, unknown>) => unknown> = {
  "container.apply": () => container,
  "container.tree": () => buildTreeSnapshot([]),
  "container.file": (p) => ({ path: p.path, offset: 0, size: 0, bytes: new Uint8Array(), entry: {} }),
};
vi.mock("./worker.ts", () => ({
  workerClient: (): WorkerClient => ({
    call: (async (method: string, params: Record<string, unknown>) => {
      calls.push({ method, params });
      return answers[method]!(params);
    }) as WorkerClient["call"],
    onNotice: () => () => undefined,
  }),
}));

/** The explorer slice showing an image's container layer with one file open. */
function storeWithOpen(path: string) {
  const store = create<AppState>()(
    (...a) =>
      ({
        ...createExplorerSlice(...a),
        ui: { selectedLayer: "container", selectedPath: path },
        tree: { expanded: new Set<string>(), mode: "changes" },
        noteStorageError: () => undefined,
      }) as unknown as AppState,
  );
  store.setState((s) => ({
    explorer: {
      ...s.explorer,
      container,
      image: { image: { id: "sha256:img" }, layers: [{}] } as unknown as ImageView,
    },
  }));
  return store;
}

describe("explorer slice: the container layer", () => {
  it("a rename of the open file opens it under its new name, once", async () => {
    calls.length = 0;
    const store = storeWithOpen("srv/app/main.py");
    const ok = await store
      .getState()
      .editContainer({ kind: "rename", from: "srv/app/main.py", to: "/srv/app/server.py" });
    expect(ok).toBe(true);
    expect(store.getState().ui.selectedPath).toBe("srv/app/server.py");
    const opened = calls.filter((c) => c.method === "container.file").map((c) => c.params.path);
    expect(opened).toEqual(["srv/app/server.py"]);
    expect(store.getState().explorer.file?.path).toBe("srv/app/server.py");
  });

  it("a rename of another file leaves the open one open", async () => {
    calls.length = 0;
    const store = storeWithOpen("etc/hosts");
    await store.getState().editContainer({ kind: "rename", from: "srv/a", to: "/srv/b" });
    expect(store.getState().ui.selectedPath).toBe("etc/hosts");
    const opened = calls.filter((c) => c.method === "container.file").map((c) => c.params.path);
    expect(opened).toEqual(["etc/hosts"]);
  });
});
