import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateArchive } from "../bench/import.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { Store } from "../core/store/types.ts";
import { createWorkerClient, WorkerCallError } from "./client.ts";
import { createHandlers } from "./handlers.ts";
import {
  createIngestPool,
  type IngestPort,
  type IngestReply,
  type IngestRequest,
  serveIngest,
} from "./ingest-pool.ts";
import type { ResponseMessage } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

/** What a fake ingest worker was handed: the layer and its budget for reading it whole. */
interface IngestSeen {
  path: string;
  wholeMax: number | undefined;
}

/** An ingest worker run in-process: src/worker/ingest-worker.ts's own handler, over the same store. */
function fakeIngestWorker(store: Store, seen: IngestSeen[]): IngestPort {
  const listeners = new Set<(ev: MessageEvent<IngestReply>) => void>();
  const serve = serveIngest(Promise.resolve(store), (reply) => {
    for (const l of [...listeners]) l({ data: reply } as MessageEvent<IngestReply>);
  });
  return {
    postMessage(msg: IngestRequest) {
      if (msg.type === "ingest") {
        seen.push({ path: msg.job.path, wholeMax: msg.options.wholeDigestMaxBytes });
      }
      void serve(msg);
    },
    addEventListener: (_t, fn) => void listeners.add(fn),
    removeEventListener: (_t, fn) => void listeners.delete(fn),
  };
}

/** A client wired to the handlers in-process, as the page is to the worker. */
function connect(store = openMemoryStore(), seen?: IngestSeen[]) {
  const listeners: ((ev: MessageEvent<ResponseMessage>) => void)[] = [];
  // Started once and kept for every import, as src/worker/worker.ts keeps its helpers.
  const helpers = seen ? [fakeIngestWorker(store, seen), fakeIngestWorker(store, seen)] : [];
  const ingestWorkers = seen ? () => helpers : undefined;
  const handle = serveProtocol(createHandlers(store, { ingestWorkers }), (msg) => {
    for (const l of listeners) l({ data: structuredClone(msg) } as MessageEvent<ResponseMessage>);
  });
  const client = createWorkerClient({
    postMessage: (msg) => void handle(structuredClone(msg)),
    addEventListener: (_t, fn) => listeners.push(fn),
  });
  return { client, store };
}

const FIXTURE = new URL("../testdata/archives/skopeo-docker-archive.tar", import.meta.url);

describe("worker protocol", () => {
  it("answers calls with typed results", async () => {
    const { client } = connect();
    const stats = await client.call("storage.stats", undefined);
    expect(stats).toMatchObject({ blobs: 0, images: 0 });
    await client.call("kv.set", { key: "x", value: { a: 1 } });
    expect(await client.call("kv.get", { key: "x" })).toEqual({ a: 1 });
  });

  it("reports errors with their code", async () => {
    const { client } = connect();
    const err = await client.call("image.view", { id: "sha256:nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCallError);
    expect((err as WorkerCallError).code).toBe("NOT_FOUND");
  });

  it("streams import progress, then the image is browsable", async () => {
    const { client } = connect();
    const progress: number[] = [];
    const file = new Blob([readFileSync(FIXTURE)]);
    const r = await client.call(
      "archive.import",
      { file, name: "fixture.tar" },
      { onProgress: (p) => progress.push(p.done) },
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(r.images[0]!.layers).toBe(2);
    const lib = await client.call("library.list", undefined);
    expect(lib.images).toHaveLength(1);
  });

  it("diffs a file between two layers in the worker", async () => {
    const { client } = connect();
    const r = await client.call("archive.import", { file: new Blob([readFileSync(FIXTURE)]), name: "f.tar" });
    const id = r.images[0]!.id;
    const d = await client.call("image.diff", { id, path: "etc/os-release", layer: 1, other: 0 });
    expect(d.kind === "lines" && d.lines.map((l) => `${l.op} ${l.text}`)).toEqual([
      "del base-os 1.0",
      "add base-os 2.0",
    ]);
    expect(await client.call("image.diff", { id, path: "srv/app/main.py", layer: 1, other: 0 })).toEqual({
      kind: "missing",
      layer: 0,
    });
  });

  it("pages through a layer's raw tar entries in archive order, with the image's JSON as stored", async () => {
    const { client } = connect();
    const r = await client.call("archive.import", {
      file: new Blob([readFileSync(FIXTURE)]),
      name: "fixture.tar",
    });
    const id = r.images[0]!.id;
    const all = await client.call("layer.raw", { id, layer: 0, start: 0, count: 10_000 });
    expect(all.total).toBeGreaterThan(3);
    expect(all.entries).toHaveLength(all.total);
    expect(all.info.diffId).toMatch(/^sha256:/);
    const page = await client.call("layer.raw", { id, layer: 0, start: 2, count: 2 });
    expect(page.entries).toEqual(all.entries.slice(2, 4));
    expect(page.start).toBe(2);
    const raw = await client.call("image.raw", { id });
    expect(raw.config.digest).toBe(id);
    expect(raw.layers.map((l) => l.diffId)).toEqual(JSON.parse(raw.config.text).rootfs.diff_ids);
    const err = await client.call("layer.raw", { id, layer: 9, start: 0, count: 1 }).catch((e: unknown) => e);
    expect((err as WorkerCallError).code).toBe("NOT_FOUND");
  });

  it("streams build events and reuses the cache on the second build", async () => {
    const { client } = connect();
    const events: { kind: string; cached?: boolean }[] = [];
    const params = {
      dockerfile: "FROM scratch\nCOPY . /app\nENV A=b\n",
      context: { "hello.txt": "hi\n" },
      tag: "t:1",
    };
    const first = await client.call("image.build", params, { onEvent: (e) => events.push(e as never) });
    expect(events.some((e) => e.kind === "step")).toBe(true);
    expect(first.layers).toBe(1);
    events.length = 0;
    const second = await client.call("image.build", params, { onEvent: (e) => events.push(e as never) });
    expect(second.id).toBe(first.id);
    // Every step after FROM (which only names the base) comes from the cache.
    const done = events.filter((e) => e.kind === "step-done");
    expect(done.slice(1).every((e) => e.cached)).toBe(true);
    expect(second.cachedSteps).toBe(second.totalSteps - 1);
  });

  it("hands an archive's layers to ingest workers and stores the same image", async () => {
    const seen: IngestSeen[] = [];
    const store = openMemoryStore();
    const { client } = connect(store, seen);
    const dir = mkdtempSync(join(tmpdir(), "layerlab-pool-"));
    const { archive } = await generateArchive(
      dir,
      { layers: 3, files: 300, bytes: 30 << 20, seed: 5 },
      "gzip",
    );
    const r = await client.call("archive.import", {
      file: new Blob([readFileSync(archive)]),
      name: "big.tar",
    });
    expect(r.images[0]!.layers).toBe(3);
    expect(seen).toHaveLength(3);
    // Two helpers share the budget of layers read whole: 32 MiB each.
    expect(seen.map((s) => s.wholeMax)).toEqual([32 << 20, 32 << 20, 32 << 20]);
    const alone = connect();
    const again = await alone.client.call("archive.import", {
      file: new Blob([readFileSync(archive)]),
      name: "big.tar",
    });
    expect(again.images[0]!.id).toBe(r.images[0]!.id);
    expect((await store.blobs.stats()).bytes).toBe((await alone.store.blobs.stats()).bytes);
  });

  it("runs two imports at once on the same ingest workers, each getting its own layers", async () => {
    const seen: IngestSeen[] = [];
    const store = openMemoryStore();
    const { client } = connect(store, seen);
    const dir = mkdtempSync(join(tmpdir(), "layerlab-pool-"));
    const specs = [
      { layers: 3, files: 90, bytes: 15 << 20, seed: 11 },
      { layers: 2, files: 60, bytes: 10 << 20, seed: 12 },
    ];
    const archives = await Promise.all(
      specs.map(async (spec, i) => {
        const sub = join(dir, String(i));
        mkdirSync(sub);
        return (await generateArchive(sub, spec, "gzip")).archive;
      }),
    );
    const both = await Promise.all(
      archives.map((a, i) =>
        client.call("archive.import", { file: new Blob([readFileSync(a)]), name: `${i}.tar` }),
      ),
    );
    expect(seen).toHaveLength(5);
    expect(both.map((r) => r.images[0]!.layers)).toEqual([3, 2]);
    // Each matches the same archive imported alone.
    for (const [i, a] of archives.entries()) {
      const alone = await connect().client.call("archive.import", {
        file: new Blob([readFileSync(a)]),
        name: `${i}.tar`,
      });
      expect(alone.images[0]!.id).toBe(both[i]!.images[0]!.id);
    }
  });

  it("does not start a layer that waited in the pool past a cancellation", async () => {
    // One worker that holds its job until told to answer.
    const posted: IngestRequest[] = [];
    const listeners = new Set<(ev: MessageEvent<IngestReply>) => void>();
    const port: IngestPort = {
      postMessage: (msg) => void posted.push(msg),
      addEventListener: (_t, fn) => void listeners.add(fn),
      removeEventListener: (_t, fn) => void listeners.delete(fn),
    };
    const ac = new AbortController();
    const file = new Blob([new Uint8Array(4096)]);
    const pool = createIngestPool([port], file, { signal: ac.signal, wholeDigestMaxBytes: 1 << 20 });
    const first = pool.run({ path: "a", start: 0, end: 2048 }).catch((e: unknown) => e);
    const second = pool.run({ path: "b", start: 2048, end: 4096 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    expect(posted.map((m) => m.type === "ingest" && m.job.path)).toEqual(["a"]);
    ac.abort();
    // The worker gets a cancel for the job it holds, and answers it as cancelled.
    expect(posted.at(-1)).toMatchObject({ type: "cancel" });
    const id = (posted[0] as { id: number }).id;
    for (const l of [...listeners]) {
      l({ data: { id, error: { code: "CANCELLED", message: "cancelled" } } } as MessageEvent<IngestReply>);
    }
    expect(await first).toMatchObject({ code: "CANCELLED" });
    expect(await second).toMatchObject({ code: "CANCELLED" });
    // "b" never reached the worker.
    expect(posted.filter((m) => m.type === "ingest")).toHaveLength(1);
  });

  it("keeps the build cache across a reload (a new worker over the same store)", async () => {
    const store = openMemoryStore();
    const params = { dockerfile: "FROM scratch\nCOPY . /app\n", context: { "a.txt": "a\n" } };
    await connect(store).client.call("image.build", params);
    const events: { kind: string; cached?: boolean }[] = [];
    const again = await connect(store).client.call("image.build", params, {
      onEvent: (e) => events.push(e as never),
    });
    expect(again.cachedSteps).toBe(1);
    expect(events.find((e) => e.kind === "step-done" && e.cached)).toBeDefined();
  });

  it("cancels a call when its signal aborts", async () => {
    const { client } = connect();
    const ac = new AbortController();
    ac.abort();
    const file = new Blob([readFileSync(FIXTURE)]);
    const err = await client
      .call("archive.import", { file, name: "f.tar" }, { signal: ac.signal })
      .catch((e: unknown) => e);
    expect((err as WorkerCallError).code).toBe("CANCELLED");
    expect((await client.call("storage.stats", undefined)).blobs).toBe(0);
  });
});
