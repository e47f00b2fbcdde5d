import { describe, expect, it } from "vitest";
import { create } from "zustand";
import type { WorkerClient } from "../../worker/client.ts";
import type { EfficiencyReport, FileVersionDiff, MethodName } from "../../worker/protocol.ts";
import { createDetailsSlice } from "./details-slice.ts";
import { createImagesSlice } from "./images-slice.ts";
import type { AppState } from "./index.ts";

/** One call the fake worker received, answered when the test says so. */
interface PendingCall {
  method: MethodName;
  params: unknown;
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/** A worker client whose calls wait until the test answers them, in any order. */
function fakeWorker() {
  const calls: PendingCall[] = [];
  const client: WorkerClient = {
    call: (method, params) =>
      new Promise((resolve, reject) => {
        calls.push({ method, params, resolve: resolve as (r: unknown) => void, reject });
      }),
    onNotice: () => () => undefined,
  };
  return { calls, client: () => client };
}

/**
 * A store of the details and images slices alone, over the fake worker: they read and write only
 * their own state, so the rest of AppState is left out.
 */
function storeWith(client: () => WorkerClient) {
  return create<AppState>()(
    (...a) => ({ ...createDetailsSlice(client)(...a), ...createImagesSlice(client)(...a) }) as AppState,
  );
}

function report(wastedBytes: number): EfficiencyReport {
  return { score: 0.5, wastedBytes, totalBytes: 100, finalBytes: 50, inefficiencies: [] } as EfficiencyReport;
}

/** Lets the slice's awaits after an answer run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("details slice: efficiency", () => {
  it("drops a late answer for image A once image B is asked for", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const a = store.getState().loadEfficiency("sha256:a");
    const b = store.getState().loadEfficiency("sha256:b");
    expect(worker.calls.map((c) => c.params)).toEqual([{ id: "sha256:a" }, { id: "sha256:b" }]);
    worker.calls[1]!.resolve(report(2));
    await b;
    worker.calls[0]!.resolve(report(1));
    await a;
    expect(store.getState().details.efficiency).toEqual({ image: "sha256:b", report: report(2) });
  });

  it("drops a late error for image A too", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const a = store.getState().loadEfficiency("sha256:a");
    const b = store.getState().loadEfficiency("sha256:b");
    worker.calls[1]!.resolve(report(2));
    worker.calls[0]!.reject(new Error("blob missing"));
    await Promise.all([a, b]);
    expect(store.getState().details.efficiency).toEqual({ image: "sha256:b", report: report(2) });
  });

  it("clears an error when a new request starts, and keeps none after a successful load", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const failed = store.getState().loadEfficiency("sha256:a");
    worker.calls[0]!.reject(new Error("the image has no layer 3"));
    await failed;
    expect(store.getState().details.efficiency).toEqual({
      image: "sha256:a",
      error: "the image has no layer 3",
    });
    const again = store.getState().loadEfficiency("sha256:a");
    // While the worker computes, the earlier error is no longer shown.
    expect(store.getState().details.efficiency).toEqual({ image: "sha256:a" });
    worker.calls[1]!.resolve(report(7));
    await again;
    expect(store.getState().details.efficiency).toEqual({ image: "sha256:a", report: report(7) });
  });

  it("asks the worker once per image while its report is kept", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const first = store.getState().loadEfficiency("sha256:a");
    worker.calls[0]!.resolve(report(1));
    await first;
    await store.getState().loadEfficiency("sha256:a");
    expect(worker.calls).toHaveLength(1);
  });
});

describe("details slice: file diff", () => {
  const lines: FileVersionDiff = { kind: "lines", lines: [{ op: "add", text: "x", b: 1 }] };
  const request = (other: number) => ({ id: "sha256:a", path: "etc/os-release", layer: 2, other });

  it("asks the worker for the diff and keeps only the latest request's answer", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const first = store.getState().diffFile(request(0));
    const second = store.getState().diffFile(request(1));
    expect(worker.calls.map((c) => [c.method, c.params])).toEqual([
      ["image.diff", request(0)],
      ["image.diff", request(1)],
    ]);
    worker.calls[1]!.resolve({ kind: "missing", layer: 1 });
    await second;
    worker.calls[0]!.resolve(lines);
    await first;
    expect(store.getState().details.diff).toEqual({
      request: request(1),
      result: { kind: "missing", layer: 1 },
    });
  });

  it("reports a failed diff, and clearing the choice drops a diff still on its way", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const failed = store.getState().diffFile(request(0));
    worker.calls[0]!.reject(new Error("blob sha256:x is missing from the store"));
    await failed;
    expect(store.getState().details.diff.error).toBe("blob sha256:x is missing from the store");
    const pending = store.getState().diffFile(request(1));
    expect(store.getState().details.diff).toEqual({ request: request(1) });
    await store.getState().diffFile(undefined);
    worker.calls[1]!.resolve(lines);
    await pending;
    await settle();
    expect(store.getState().details.diff).toEqual({ request: undefined });
  });
});

describe("images slice: export", () => {
  it("exports through the worker under the image's name and says why an export failed", async () => {
    const worker = fakeWorker();
    const store = storeWith(worker.client);
    const done = store.getState().exportImage("sha256:0123456789abcdef", "docker.io/library/demo:1", "oci");
    expect(store.getState().exporting).toEqual({ image: "sha256:0123456789abcdef", running: true });
    expect(worker.calls[0]).toMatchObject({
      method: "image.export",
      params: { id: "sha256:0123456789abcdef", format: "oci" },
    });
    const blob = new Blob(["tar"]);
    worker.calls[0]!.resolve(blob);
    expect(await done).toEqual({ blob, fileName: "demo_1.oci.tar" });
    expect(store.getState().exporting.running).toBe(false);

    const failed = store.getState().exportImage("sha256:0123456789abcdef", undefined, "docker");
    worker.calls[1]!.reject(new Error("layer blob missing"));
    expect(await failed).toBeUndefined();
    expect(store.getState().exporting).toEqual({
      image: "sha256:0123456789abcdef",
      running: false,
      error: "Export failed: layer blob missing",
    });
  });
});
