import { describe, expect, it, vi } from "vitest";
import { create } from "zustand";
import { type CallOptions, WorkerCallError, type WorkerClient } from "../../worker/client.ts";
import type { MethodName, RegistryEvent, TransferRecord } from "../../worker/protocol.ts";
import type { AppState } from "./index.ts";
import { applyBlobEvent, createRegistrySlice, PROGRESS_DRAW_MS, transferSpeed } from "./registry-slice.ts";

interface PendingCall {
  method: MethodName;
  params: unknown;
  options?: CallOptions;
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/** A worker client whose calls wait until the test answers them. */
function fakeWorker() {
  const calls: PendingCall[] = [];
  const client: WorkerClient = {
    call: (method, params, options) =>
      new Promise((resolve, reject) => {
        calls.push({ method, params, options, resolve: resolve as (r: unknown) => void, reject });
      }),
    onNotice: () => () => undefined,
  };
  return { calls, client: () => client };
}

/** The registry slice with the few actions of other slices it calls, recorded. */
function storeWith(client: () => WorkerClient, now: () => number) {
  const called: string[] = [];
  const store = create<AppState>()(
    (...a) =>
      ({
        ...createRegistrySlice(client, now)(...a),
        ui: { selectedImage: "sha256:img" },
        refreshLibrary: async () => void called.push("refreshLibrary"),
        selectImage: async (id: string) => void called.push(`selectImage ${id}`),
        refreshStorage: async () => void called.push("refreshStorage"),
        noteStorageError: () => void called.push("noteStorageError"),
      }) as unknown as AppState,
  );
  return { store, called };
}

const D = (n: number) => `sha256:${String(n).repeat(64)}` as const;
const settle = () => new Promise((r) => setTimeout(r, 0));

function event(p: Partial<RegistryEvent>): RegistryEvent {
  return { kind: "blob", role: "layer", digest: D(1), size: 100, bytes: 0, state: "checking", ...p };
}

function record(kind: "pull" | "push"): TransferRecord {
  const blobs = [
    { role: "layer", digest: D(1), mediaType: "m", size: 100, outcome: "received", bytesMoved: 100 },
  ] as TransferRecord["blobs"];
  return {
    kind,
    reference: "127.0.0.1:5000/a:1",
    registry: "127.0.0.1:5000",
    repository: "a",
    manifestDigest: D(9),
    image: "sha256:img",
    startedAt: 0,
    finishedAt: 2000,
    blobs,
    totals: {
      received: { count: 1, bytes: 100 },
      sent: { count: 0, bytes: 0 },
      skipped: { count: 0, bytes: 0 },
      mounted: { count: 0, bytes: 0 },
    },
    requests: {},
  };
}

describe("applyBlobEvent", () => {
  it("keeps one row per blob, layers bottom first, then the config and the manifest", () => {
    let rows = applyBlobEvent([], event({ role: "manifest", digest: D(9) }));
    rows = applyBlobEvent(rows, event({ index: 1, digest: D(2) }));
    rows = applyBlobEvent(rows, event({ role: "config", digest: D(8) }));
    rows = applyBlobEvent(rows, event({ index: 0, digest: D(1) }));
    rows = applyBlobEvent(rows, event({ index: 0, digest: D(1), bytes: 50, state: "moving" }));
    expect(rows.map((r) => [r.role, r.index, r.bytes])).toEqual([
      ["layer", 0, 50],
      ["layer", 1, 0],
      ["config", undefined, 0],
      ["manifest", undefined, 0],
    ]);
  });

  it("speed is bytes over elapsed time, 0 before any time has passed", () => {
    expect(transferSpeed(1000, 500)).toBe(2000);
    expect(transferSpeed(1000, 0)).toBe(0);
  });
});

describe("registry slice", () => {
  it("a pull shows each blob's progress and speed, then the record, and selects the image it stored", async () => {
    const worker = fakeWorker();
    let t = 1000;
    const { store, called } = storeWith(worker.client, () => t);
    const done = store.getState().pullFromRegistry("127.0.0.1:5000/a:1", {
      login: { username: "u", password: "p", remember: false },
    });
    const call = worker.calls[0]!;
    expect(call.method).toBe("registry.pull");
    expect(call.params).toEqual({
      reference: "127.0.0.1:5000/a:1",
      login: { username: "u", password: "p", remember: false },
    });
    t = 1500;
    call.options!.onEvent!(event({ bytes: 50, state: "moving" }));
    const running = store.getState().registry.transfer!;
    expect(running.running).toBe(true);
    expect(running.blobs).toHaveLength(1);
    expect(running.bytesMoved).toBe(50);
    expect(running.bytesPerSecond).toBe(100);
    call.resolve({ image: "sha256:img", names: ["127.0.0.1:5000/a:1"], transfer: record("pull") });
    await settle();
    // The logins are read again, then the history of the pulled image.
    worker.calls.find((c) => c.method === "registry.logins")!.resolve([]);
    await settle();
    worker.calls.find((c) => c.method === "registry.transfers")!.resolve([record("pull")]);
    expect(await done).toBe(true);
    const ended = store.getState().registry.transfer!;
    expect(ended.running).toBe(false);
    expect(ended.record?.kind).toBe("pull");
    expect(ended.bytesPerSecond).toBe(50);
    expect(called).toEqual(["refreshStorage", "refreshLibrary", "selectImage sha256:img"]);
    expect(store.getState().registry.history).toEqual({ image: "sha256:img", records: [record("pull")] });
  });

  it("progress is drawn at most every PROGRESS_DRAW_MS: the first event at once, the next ones together, all before the end", async () => {
    vi.useFakeTimers();
    try {
      const worker = fakeWorker();
      let t = 1000;
      const { store } = storeWith(worker.client, () => t);
      void store.getState().pullFromRegistry("127.0.0.1:5000/a:1");
      const call = worker.calls[0]!;
      const moved = () => store.getState().registry.transfer!.bytesMoved;
      t = 1100;
      call.options!.onEvent!(event({ bytes: 10, state: "moving" }));
      expect(moved()).toBe(10);
      t = 1150;
      call.options!.onEvent!(event({ bytes: 20, state: "moving" }));
      t = 1200;
      call.options!.onEvent!(event({ bytes: 30, state: "moving" }));
      // Not drawn yet: the page drew 50 ms ago.
      expect(moved()).toBe(10);
      t = 1100 + PROGRESS_DRAW_MS;
      vi.advanceTimersByTime(PROGRESS_DRAW_MS);
      expect(moved()).toBe(30);
      // One more, waiting, then the end: the record's figures follow every event.
      t += 10;
      call.options!.onEvent!(event({ bytes: 100, size: 100, state: "done", outcome: "received" }));
      expect(moved()).toBe(30);
      call.resolve({ image: "sha256:img", names: ["127.0.0.1:5000/a:1"], transfer: record("pull") });
      await vi.advanceTimersByTimeAsync(0);
      const ended = store.getState().registry.transfer!;
      expect(ended.running).toBe(false);
      expect(ended.blobs[0]!.state).toBe("done");
    } finally {
      vi.useRealTimers();
    }
  });

  it("Cancel aborts the call; the transfer says it was cancelled", async () => {
    const worker = fakeWorker();
    const { store } = storeWith(worker.client, () => 0);
    const done = store.getState().pushToRegistry("sha256:img", "127.0.0.1:5000/a:1");
    const call = worker.calls[0]!;
    expect(call.params).toEqual({ image: "sha256:img", reference: "127.0.0.1:5000/a:1" });
    store.getState().cancelTransfer();
    expect(call.options!.signal!.aborted).toBe(true);
    call.reject(new WorkerCallError("CANCELLED", "push was cancelled"));
    expect(await done).toBe(false);
    expect(store.getState().registry.transfer).toMatchObject({
      kind: "push",
      running: false,
      cancelled: true,
      error: "push was cancelled",
    });
  });

  it("an error is kept with its message, and a full store is noted", async () => {
    const worker = fakeWorker();
    const { store, called } = storeWith(worker.client, () => 0);
    const done = store.getState().pullFromRegistry("127.0.0.1:5000/a:1", { allowHttp: true });
    expect(worker.calls[0]!.params).toEqual({ reference: "127.0.0.1:5000/a:1", allowHttp: true });
    worker.calls[0]!.reject(new WorkerCallError("REGISTRY", "Not signed in for manifest 1"));
    expect(await done).toBe(false);
    expect(store.getState().registry.transfer?.error).toBe("Not signed in for manifest 1");
    expect(store.getState().registry.transfer?.cancelled).toBe(false);
    expect(called).toContain("noteStorageError");
  });

  it("drops a late history answer for image A once image B is asked for", async () => {
    const worker = fakeWorker();
    const { store } = storeWith(worker.client, () => 0);
    const a = store.getState().loadTransfers("sha256:a");
    const b = store.getState().loadTransfers("sha256:b");
    worker.calls[1]!.resolve([record("push")]);
    await b;
    worker.calls[0]!.resolve([record("pull")]);
    await a;
    expect(store.getState().registry.history).toEqual({ image: "sha256:b", records: [record("push")] });
  });
});
