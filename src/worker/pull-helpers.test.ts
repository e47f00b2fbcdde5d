/**
 * A pull whose layers are ingested by the import's helper workers (createStreamIngest): each
 * helper here is src/worker/ingest-worker.ts's own handler behind a real MessageChannel, so the
 * layer's stream is transferred and its chunks, errors and replies are cloned as between threads.
 * The registry is the embedded one over HTTP (no binary needed), behind the fault proxy. Every
 * test runs with each layer streamed, and fetched by range as Blobs (the page's way), both read
 * whole by the helper and read piece by piece.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectBytes } from "../core/archive/bytes.ts";
import { type Digest, sha256 } from "../core/digest.ts";
import { CancelledError, StorageFullError } from "../core/errors.ts";
import { basicAuthorization, staticCredentials } from "../core/registry/auth.ts";
import { RegistryError } from "../core/registry/errors.ts";
import { type LayerPiecesOptions, type PullOptions, pieceSizer, pullImage } from "../core/registry/pull.ts";
import { pushImage } from "../core/registry/push.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { ImageRecord, Store } from "../core/store/types.ts";
import { type EmbeddedTestRegistry, startEmbeddedRegistry } from "../testdata/registry/embedded-server.ts";
import { registryMissing, startRegistry, type TestRegistry, USER } from "../testdata/registry/harness.ts";
import { storeImage } from "../testdata/registry/images.ts";
import { type FaultProxy, startFaultProxy } from "../testdata/registry/proxy.ts";
import { createWorkerClient } from "./client.ts";
import { createHandlers } from "./handlers.ts";
import {
  createStreamIngest,
  type IngestPort,
  type IngestReply,
  type IngestRequest,
  serveIngest,
} from "./ingest-pool.ts";
import type { RegistryEvent, ResponseMessage } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

/** Helper workers over `store`, each behind a MessageChannel; `jobs` lists the layers they were handed. */
function channelHelpers(store: Store, count = 2, doFetch: typeof fetch = fetch) {
  const jobs: string[] = [];
  /** What went between the pool and the helpers, in order: `hand ID`, `released ID`, `ok ID`, `error ID`. */
  const log: string[] = [];
  const ports: MessagePort[] = [];
  /** The URLs and ranges the helpers fetched themselves. */
  const fetched: string[] = [];
  const helperFetch: typeof fetch = (input, init) => {
    fetched.push(`${urlOf(input).split("/").pop()} ${rangeOf(init)}`);
    return doFetch(input, init);
  };
  const helpers = Array.from({ length: count }, (): IngestPort => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    const serve = serveIngest(
      Promise.resolve(store),
      (reply, transfer) => {
        log.push(`${"released" in reply ? "released" : "ok" in reply ? "ok" : "error"} ${reply.id}`);
        port2.postMessage(reply, transfer);
      },
      helperFetch,
    );
    port2.addEventListener("message", (ev: MessageEvent<IngestRequest>) => {
      if (ev.data.type === "ingest-stream" || ev.data.type === "ingest-pieces") {
        jobs.push(`${ev.data.type} ${ev.data.path}`);
        log.push(`hand ${ev.data.id}`);
      }
      void serve(ev.data);
    });
    return {
      postMessage: (msg, transfer) => port1.postMessage(msg, transfer ?? []),
      addEventListener: (_t, fn: (ev: MessageEvent<IngestReply>) => void) =>
        port1.addEventListener("message", fn),
      removeEventListener: (_t, fn: (ev: MessageEvent<IngestReply>) => void) =>
        port1.removeEventListener("message", fn),
    };
  });
  const close = () => {
    for (const p of ports) p.close();
  };
  return { helpers, jobs, log, fetched, close };
}

const LAYERS = [
  { seed: 61, bytes: 1_500_000 },
  { seed: 62, bytes: 3_000_000 },
  { seed: 63, bytes: 700_000 },
];

/** What a store holds of an image: its layer records and each layer's entry index, byte for byte. */
async function layersOf(store: Store, image: ImageRecord) {
  return Promise.all(
    image.layers.map(async (id) => {
      const rec = (await store.meta.get("layers", id))!;
      return { rec, index: await store.blobs.get(rec.index!) };
    }),
  );
}

/** Every blob the store holds is whole: its bytes hash to its digest, and it is one `allowed` names. */
async function expectOnlyWholeBlobs(store: Store, allowed: string[]) {
  for (const { digest } of await store.blobs.list()) {
    expect(allowed).toContain(digest);
    expect(await sha256(await collectBytes(store.blobs.stream(digest)))).toBe(digest);
  }
}

/** Ranges small enough that every layer here comes in several. */
const PIECES: LayerPiecesOptions = { pieceBytes: 256 * 1024, maxLayerBytes: 64 * 2 ** 20 };

/** The Range header of a request, if it has one. */
function rangeOf(init: RequestInit | undefined): string | undefined {
  return (init?.headers as Record<string, string> | undefined)?.Range;
}

/** The URL of a fetch's input. */
function urlOf(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : String(input);
}

/** The same, with every range after each layer's first fetched by the helper itself. */
const HANDED_OFF: LayerPiecesOptions = { ...PIECES, handOff: () => true };

const MODES = [
  { name: "each layer streamed", pieces: undefined, whole: undefined, job: "ingest-stream" },
  { name: "layers by range, read whole", pieces: PIECES, whole: undefined, job: "ingest-pieces" },
  { name: "layers by range, read piece by piece", pieces: PIECES, whole: 0, job: "ingest-pieces" },
  { name: "layers by range, fetched by the helpers", pieces: HANDED_OFF, whole: 0, job: "ingest-pieces" },
] as const;

describe.each(MODES)("a pull whose layers the helper workers ingest ($name)", (mode) => {
  let reg: EmbeddedTestRegistry;
  let proxy: FaultProxy;
  let image: ImageRecord;
  let layerDigests: Digest[];
  /** The layer blobs and their entry indexes: all a failed pull may leave (whole and verified). */
  let layerBlobs: string[];
  const ref = () => `${proxy.domain}/helpers/app:1`;

  beforeAll(async () => {
    reg = await startEmbeddedRegistry();
    proxy = await startFaultProxy(reg.domain);
    const source = openMemoryStore();
    image = await storeImage(source, "helpers:1", LAYERS);
    await pushImage(source, image.id, `${reg.domain}/helpers/app:1`);
    const manifest = JSON.parse(new TextDecoder().decode((await source.blobs.get(image.manifest!))!));
    layerDigests = manifest.layers.map((l: { digest: Digest }) => l.digest);
    const reference = openMemoryStore();
    const pulled = await pullImage(reference, `${reg.domain}/helpers/app:1`);
    layerBlobs = [...layerDigests, ...pulled.layers.map((l) => l.index!)];
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  /** Pulls into `store` with its layers on two channel helpers. */
  async function pullOnHelpers(store: Store, options: PullOptions = {}) {
    const h = channelHelpers(store, 2, options.fetch);
    try {
      const r = await pullImage(store, ref(), {
        retries: 2,
        backoffMs: 10,
        ingestLayer: createStreamIngest(
          h.helpers,
          mode.whole === undefined ? {} : { wholeDigestMaxBytes: mode.whole },
        ),
        concurrency: 2,
        ...(mode.pieces ? { layerPieces: mode.pieces } : {}),
        ...options,
      });
      return { r, jobs: h.jobs, fetched: h.fetched };
    } finally {
      h.close();
    }
  }

  it("stores the same layers, entry indexes, image and transfer as a pull on the store's own thread", async () => {
    const onHelpers = openMemoryStore();
    const ranges: string[] = [];
    const recording: typeof fetch = (input, init) => {
      if (urlOf(input).includes("/blobs/")) ranges.push(`${urlOf(input).split("/").pop()} ${rangeOf(init)}`);
      return fetch(input, init);
    };
    const { r: a, jobs, fetched } = await pullOnHelpers(onHelpers, { fetch: recording });
    // Handed off, the helpers fetch every range but the first of each layer the pull started
    // before the registry had answered a range (two at once here): those the pull sent itself.
    // The third layer's first range is a helper's too. Else the helpers fetch none.
    if (mode.pieces?.handOff) {
      const ranged = ranges.filter((r) => r.includes(" bytes="));
      const byPull = ranged.filter((r) => !fetched.includes(r));
      expect(fetched.every((r) => ranged.includes(r))).toBe(true);
      expect(byPull.every((r) => r.endsWith(" bytes=0-262143"))).toBe(true);
      expect(byPull.length).toBeGreaterThanOrEqual(1);
      expect(byPull.length).toBeLessThanOrEqual(2);
      expect(fetched.filter((r) => r.endsWith(" bytes=0-262143")).length).toBe(LAYERS.length - byPull.length);
    } else {
      expect(fetched).toEqual([]);
    }
    expect(jobs).toHaveLength(LAYERS.length);
    expect(jobs.every((j) => j.startsWith(`${mode.job} `))).toBe(true);
    // By range: each layer is asked for range after range, each range once, up to its size.
    for (const digest of layerDigests) {
      const asked = ranges.filter((r) => r.startsWith(`${digest} `)).map((r) => r.split(" ")[1]);
      const size = (await onHelpers.blobs.size(digest))!;
      const want = mode.pieces
        ? Array.from({ length: Math.ceil(size / mode.pieces.pieceBytes) }, (_, k) => {
            const from = k * mode.pieces.pieceBytes;
            return `bytes=${from}-${Math.min(size, from + mode.pieces.pieceBytes) - 1}`;
          })
        : ["undefined"];
      expect(asked).toEqual(want);
    }
    const onThread = openMemoryStore();
    const b = await pullImage(onThread, ref());

    expect(a.record.id).toBe(image.id);
    expect({ ...a.record, storedAt: 0 }).toEqual({ ...b.record, storedAt: 0 });
    const fromHelpers = await layersOf(onHelpers, a.record);
    expect(fromHelpers).toEqual(await layersOf(onThread, b.record));
    // The diffIds are the config's, and each index lists the layer's file.
    expect(fromHelpers.map((l) => l.rec.id)).toEqual(image.layers);
    expect(fromHelpers.every((l) => l.rec.size > 0 && l.index && l.index.byteLength > 0)).toBe(true);
    const moved = (t: typeof a.transfer) => t.blobs.map((x) => [x.role, x.outcome, x.bytesMoved]);
    expect(moved(a.transfer)).toEqual(moved(b.transfer));
    expect((await onHelpers.blobs.list()).map((x) => x.digest).sort()).toEqual(
      (await onThread.blobs.list()).map((x) => x.digest).sort(),
    );
  });

  it("refuses a blob whose bytes do not match its digest and keeps nothing of it; the layers verified before stay", async () => {
    const bad = layerDigests[1]!;
    proxy.fault = (m, p) => (m === "GET" && p.endsWith(`/blobs/${bad}`) ? { kind: "corrupt" } : undefined);
    const store = openMemoryStore();
    const err = await pullOnHelpers(store, { concurrency: 1 }).catch((e: unknown) => e);
    proxy.fault = () => undefined;
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).kind).toBe("digest-mismatch");
    expect((err as RegistryError).message).toMatch(
      new RegExp(`layer ${bad}: the bytes received hash to sha256:[0-9a-f]{64}, not the digest`),
    );
    expect(await store.meta.list("images")).toEqual([]);
    expect(await store.meta.list("layers")).toEqual([]);
    expect(await store.blobs.has(bad)).toBe(false);
    expect(await store.blobs.has(layerDigests[0]!)).toBe(true);
    await expectOnlyWholeBlobs(store, layerBlobs);
  });

  it("retries a layer whose connection broke mid-stream, fetching again only what is missing, then completes", async () => {
    const target = layerDigests[1]!;
    let broken = 0;
    const asked: string[] = [];
    // The first download of one layer (by range: of its third range) ends in a network error
    // after 100 kB.
    const breaking: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = urlOf(input);
      if (url.endsWith(`/blobs/${target}`)) asked.push(String(rangeOf(init)));
      const third = mode.pieces ? `bytes=${2 * mode.pieces.pieceBytes}-` : "";
      if (broken > 0 || !url.endsWith(`/blobs/${target}`) || !res.body) return res;
      if (!String(rangeOf(init)).startsWith(third)) return res;
      broken++;
      const reader = res.body.getReader();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader.read();
          if (r.done || sent > 100_000) {
            await reader.cancel();
            c.error(new TypeError("network error"));
            return;
          }
          sent += r.value.byteLength;
          c.enqueue(r.value);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const store = openMemoryStore();
    reg.mark();
    const { r } = await pullOnHelpers(store, { fetch: breaking });
    expect(broken).toBe(1);
    expect(r.record.id).toBe(image.id);
    const gets = reg.requests().filter((q) => q.method === "GET" && q.path.endsWith(`/blobs/${target}`));
    if (mode.pieces) {
      // Every range once, the broken one twice: what was received before it is not fetched again.
      const ranges = Math.ceil(LAYERS[1]!.bytes / mode.pieces.pieceBytes);
      expect(gets.length).toBeGreaterThanOrEqual(ranges + 1);
      expect(asked.filter((r) => r === asked[2])).toHaveLength(2);
      expect(new Set(asked).size).toBe(asked.length - 1);
      expect(asked[3]).toBe(asked[2]);
    } else expect(gets).toHaveLength(2);
    await expectOnlyWholeBlobs(store, [...layerBlobs, image.config, image.manifest!]);
  });

  it("refuses a body longer than the manifest says as a mismatch, keeping nothing of it", async () => {
    const target = layerDigests[2]!;
    const longer: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (!url.endsWith(`/blobs/${target}`)) return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      const extra = new Uint8Array(bytes.byteLength + 10);
      extra.set(bytes);
      return new Response(extra, { status: res.status, headers: res.headers });
    };
    const store = openMemoryStore();
    const err = await pullOnHelpers(store, { fetch: longer }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).kind).toBe("digest-mismatch");
    expect((err as RegistryError).message).toMatch(
      mode.pieces
        ? /sent more than the \d+ bytes asked for \(from byte 0 of \d+\)/
        : /sent more than the \d+ bytes the manifest says/,
    );
    expect(await store.blobs.has(target)).toBe(false);
    expect(await store.meta.list("images")).toEqual([]);
    await expectOnlyWholeBlobs(store, layerBlobs);
  });

  it("a registry that ignores Range: each layer streams from its whole answer, one request each", async () => {
    const store = openMemoryStore();
    const noRanges: typeof fetch = (input, init) => {
      const headers = { ...(init?.headers as Record<string, string> | undefined) };
      delete headers.Range;
      return fetch(input, { ...init, headers });
    };
    reg.mark();
    const { r, jobs } = await pullOnHelpers(store, { fetch: noRanges });
    expect(r.record.id).toBe(image.id);
    expect(jobs).toHaveLength(LAYERS.length);
    expect(jobs.every((j) => j.startsWith("ingest-stream "))).toBe(true);
    for (const d of layerDigests) {
      const gets = reg.requests().filter((q) => q.method === "GET" && q.path.endsWith(`/blobs/${d}`));
      expect(gets.map((q) => q.status)).toEqual([200]);
    }
    await expectOnlyWholeBlobs(store, [...layerBlobs, image.config, image.manifest!]);
  });

  it("cancelled mid-pull: CancelledError, no image or layer record, only whole verified blobs left", async () => {
    const store = openMemoryStore();
    const ac = new AbortController();
    const err = await pullOnHelpers(store, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.state === "moving" && p.bytes > 0) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(await store.meta.list("images")).toEqual([]);
    expect(await store.meta.list("layers")).toEqual([]);
    await expectOnlyWholeBlobs(store, layerBlobs);
  });

  it("a pull the store has no room for removes every blob it stored", async () => {
    // Room for the first layer and its index, not for the second.
    const store = openMemoryStore(undefined, { quotaBytes: 2_000_000 });
    const err = await pullOnHelpers(store, { concurrency: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect(await store.blobs.list()).toEqual([]);
    expect(await store.meta.list("images")).toEqual([]);
  });

  it("a helper takes the next layer as soon as it has read one, while the store still writes that one", async () => {
    const store = openMemoryStore();
    // The store's writes after a layer is read (its entry index) are slow: each waits until the
    // one helper has been handed another layer (or every layer has been), or two seconds. Without
    // the early release the helper is busy until those writes end, so each would wait it out.
    const blobs = Object.create(store.blobs, {
      put: {
        value: async (bytes: Uint8Array, options?: { signal?: AbortSignal }) => {
          const handed = h.jobs.length;
          const t0 = Date.now();
          while (h.jobs.length === handed && handed < LAYERS.length && Date.now() - t0 < 2000)
            await new Promise((r) => setTimeout(r, 5));
          return store.blobs.put(bytes, options);
        },
      },
    });
    const gated: Store = { ...store, blobs };
    const h = channelHelpers(gated, 1);
    try {
      const r = await pullImage(gated, ref(), {
        retries: 2,
        backoffMs: 10,
        ingestLayer: createStreamIngest(
          h.helpers,
          mode.whole === undefined ? {} : { wholeDigestMaxBytes: mode.whole },
        ),
        concurrency: 2,
        ...(mode.pieces ? { layerPieces: mode.pieces } : {}),
      });
      expect(h.jobs).toHaveLength(LAYERS.length);
      // Every layer but the last: the helper said it had read it, then was handed the next one,
      // and only then finished storing it.
      const hands = h.log.filter((e) => e.startsWith("hand ")).map((e) => e.slice(5));
      expect(hands).toHaveLength(LAYERS.length);
      for (let i = 0; i + 1 < hands.length; i++) {
        const at = (e: string) => h.log.indexOf(e);
        expect(at(`released ${hands[i]}`)).toBeGreaterThan(at(`hand ${hands[i]}`));
        expect(at(`hand ${hands[i + 1]}`)).toBeGreaterThan(at(`released ${hands[i]}`));
        expect(at(`ok ${hands[i]}`)).toBeGreaterThan(at(`hand ${hands[i + 1]}`));
      }
      // And nothing was lost by the overlap: the image and every layer are whole.
      expect(r.record.id).toBe(image.id);
      const onThread = openMemoryStore();
      const b = await pullImage(onThread, ref());
      expect(await layersOf(store, r.record)).toEqual(await layersOf(onThread, b.record));
      await expectOnlyWholeBlobs(store, [...layerBlobs, r.record.manifest!, r.record.config]);
    } finally {
      h.close();
    }
  });

  it("the worker's Pull hands layers to its helpers, with per-layer progress up to each size", async () => {
    const store = openMemoryStore();
    const h = channelHelpers(store);
    const listeners: ((ev: MessageEvent<ResponseMessage>) => void)[] = [];
    const handlers = createHandlers(store, {
      ingestWorkers: () => h.helpers,
      ...(mode.pieces ? { registryLayerPieces: mode.pieces } : {}),
      ...(mode.pieces?.handOff ? { registryHelperFetches: mode.pieces.handOff } : {}),
    });
    const handle = serveProtocol(handlers, (msg) => {
      for (const l of listeners) l({ data: structuredClone(msg) } as MessageEvent<ResponseMessage>);
    });
    const client = createWorkerClient({
      postMessage: (msg) => void handle(structuredClone(msg)),
      addEventListener: (_t, fn) => listeners.push(fn),
    });
    const events: RegistryEvent[] = [];
    try {
      const r = await client.call(
        "registry.pull",
        { reference: ref() },
        { onEvent: (e) => events.push(e as RegistryEvent) },
      );
      expect(r.image).toBe(image.id);
    } finally {
      h.close();
    }
    expect(h.jobs).toHaveLength(LAYERS.length);
    // The page's pull always asks by range (PAGE_LAYER_PIECES unless the test sets smaller ones).
    expect(h.jobs.every((j) => j.startsWith("ingest-pieces "))).toBe(true);
    // A range ends at a whole number of steps, or at the layer's end: the test's fixed ranges, or
    // the page's, sized to the rate in 64 KiB steps (its first range is 1 MiB).
    const step = mode.pieces?.pieceBytes ?? 64 * 1024;
    for (let i = 0; i < LAYERS.length; i++) {
      const mine = events.filter((e) => e.role === "layer" && e.index === i);
      const last = mine.at(-1)!;
      expect(last).toMatchObject({ state: "done", outcome: "received" });
      expect(last.bytes).toBe(last.size);
      // Progress moves a range at a time, forward, never past the size.
      const moving = mine.filter((x) => x.state === "moving");
      for (const [k, e] of moving.entries()) {
        expect(e.bytes === e.size || e.bytes % step === 0).toBe(true);
        expect(e.bytes).toBeLessThanOrEqual(e.size);
        expect(e.bytes).toBeGreaterThanOrEqual(moving[k - 1]?.bytes ?? 0);
      }
    }
    expect(await client.call("registry.transfers", { image: image.id })).toHaveLength(1);
  });
});

/** CNCF distribution with htpasswd, where it is installed (the ranges' credentials need a registry that asks for them). */
const WITH_AUTH = registryMissing === undefined ? [{ label: "distribution with htpasswd" }] : [];

describe.each(WITH_AUTH)(
  "ranges the helpers fetch themselves, from $label redirecting blobs to storage",
  () => {
    let reg: TestRegistry;
    let proxy: FaultProxy;
    let image: ImageRecord;

    beforeAll(async () => {
      reg = await startRegistry("basic");
      proxy = await startFaultProxy(reg.domain, basicAuthorization(USER));
      const source = openMemoryStore();
      image = await storeImage(source, "ranged:1", LAYERS);
      await pushImage(source, image.id, `${reg.domain}/ranged/app:1`, {
        credentials: staticCredentials({ [reg.domain]: USER }),
      });
    });
    afterAll(async () => {
      await proxy?.stop();
      await reg?.stop();
    });

    it("sends the credentials with each range to the registry only, never to the storage host it redirects to", async () => {
      const store = openMemoryStore();
      const sentAuth: boolean[] = [];
      const helperFetch: typeof fetch = (input, init) => {
        sentAuth.push((init?.headers as Record<string, string> | undefined)?.Authorization !== undefined);
        return fetch(input, init);
      };
      const h = channelHelpers(store, 2, helperFetch);
      proxy.storageHits.length = 0;
      proxy.fault = (m, p) =>
        m === "GET" && p.includes("/blobs/sha256:") ? { kind: "redirect" } : undefined;
      try {
        const r = await pullImage(store, `${proxy.domain}/ranged/app:1`, {
          credentials: staticCredentials({ [proxy.domain]: USER }),
          retries: 2,
          backoffMs: 10,
          ingestLayer: createStreamIngest(h.helpers, { wholeDigestMaxBytes: 0 }),
          concurrency: 2,
          layerPieces: HANDED_OFF,
        });
        expect(r.record.id).toBe(image.id);
      } finally {
        proxy.fault = () => undefined;
        h.close();
      }
      // The helpers fetched ranges themselves, each sent to the registry with its credentials...
      expect(h.fetched.length).toBeGreaterThan(LAYERS.length);
      expect(sentAuth.every(Boolean)).toBe(true);
      // ...and every range was redirected to storage (the helpers', the pull's first ones before
      // the registry answered a range, and the config alike), which never saw them.
      expect(proxy.storageHits.length).toBeGreaterThanOrEqual(h.fetched.length + 2);
      expect(proxy.storageHits.every((x) => !x.authorization)).toBe(true);
    });
  },
);

describe("ranges sized to the rate they come at (the page's way: PAGE_LAYER_PIECES)", () => {
  let reg: EmbeddedTestRegistry;
  let image: ImageRecord;
  /** The bytes of the image's layer blobs. */
  let blobBytes = 0;
  const KiB = 1024;
  const SIZED: LayerPiecesOptions = {
    pieceBytes: 512 * KiB,
    minPieceBytes: 64 * KiB,
    maxLayerBytes: 64 * 2 ** 20,
  };
  /** The store the image was pushed from (its layer blobs). */
  let source: Store;
  beforeAll(async () => {
    reg = await startEmbeddedRegistry();
    source = openMemoryStore();
    image = await storeImage(source, "sized:1", [
      { seed: 81, bytes: 900_000 },
      { seed: 82, bytes: 2_500_000 },
    ]);
    await pushImage(source, image.id, `${reg.domain}/sized/app:1`);
    const manifest = JSON.parse(new TextDecoder().decode((await source.blobs.get(image.manifest!))!));
    blobBytes = manifest.layers.reduce((n: number, l: { size: number }) => n + l.size, 0);
  });
  afterAll(async () => {
    await reg?.stop();
  });

  /** Pulls with `pieces`, each layer range answered `delayMs` late; the lengths of the ranges asked for, in order. */
  async function rangesAsked(pieces: LayerPiecesOptions, delayMs: number, helpers: boolean) {
    const asked: number[] = [];
    const slow: typeof fetch = async (input, init) => {
      const range = rangeOf(init);
      if (range) {
        const [from, to] = range.slice("bytes=".length).split("-").map(Number);
        asked.push(to! - from! + 1);
        await new Promise((r) => setTimeout(r, delayMs));
      }
      return fetch(input, init);
    };
    const store = openMemoryStore();
    const h = channelHelpers(store, 2, slow);
    try {
      const r = await pullImage(store, `${reg.domain}/sized/app:1`, {
        fetch: slow,
        concurrency: 1,
        ...(helpers ? { ingestLayer: createStreamIngest(h.helpers, { wholeDigestMaxBytes: 0 }) } : {}),
        layerPieces: helpers ? { ...pieces, handOff: () => true } : pieces,
      });
      expect(r.record.id).toBe(image.id);
      expect(r.transfer.totals.received.count).toBe(image.layers.length + 2);
    } finally {
      h.close();
    }
    return asked;
  }

  for (const helpers of [false, true]) {
    const where = helpers ? "fetched by the helpers" : "fetched by the pull";
    it(`on a fast link, ranges grow from the smallest to the largest (${where})`, async () => {
      // 64 KiB in well under 10 s: the next range is as large as allowed.
      const asked = await rangesAsked({ ...SIZED, pieceSeconds: 10 }, 0, helpers);
      expect(asked.slice(0, 2)).toContain(64 * KiB);
      expect(asked.filter((n) => n === 512 * KiB).length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...asked)).toBe(512 * KiB);
      // The ranges cover both layers, each byte once (the first range of each is its own size).
      expect(asked.reduce((a, b) => a + b, 0)).toBe(blobBytes);
    });
    it(`on a slow link, ranges stay small, so progress still moves (${where})`, async () => {
      // Each range takes 20 ms or more: at most 64 KiB / 20 ms, so 1 ms of it is far under 64 KiB.
      const asked = await rangesAsked({ ...SIZED, pieceSeconds: 0.001 }, 20, helpers);
      expect(Math.max(...asked)).toBe(64 * KiB);
    });
  }
  it("a layer's first range, answered before the layer waited for a helper, does not shrink the next", async () => {
    // The pull asks for each layer's first range as soon as it starts the layer; the layer may
    // then wait for a helper (the page keeps more layers in flight than it has helpers). Timed,
    // that wait would read as a slow link and make the next ranges the smallest.
    const asked: { layer: string; bytes: number }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const range = rangeOf(init);
      if (range) {
        const [from, to] = range.slice("bytes=".length).split("-").map(Number);
        asked.push({
          layer: String(input instanceof Request ? input.url : input)
            .split("/")
            .pop()!,
          bytes: to! - from! + 1,
        });
      }
      return fetch(input, init);
    };
    const store = openMemoryStore();
    const h = channelHelpers(store, 1, recording);
    const ingest = createStreamIngest(h.helpers, { wholeDigestMaxBytes: 0 });
    try {
      await pullImage(store, `${reg.domain}/sized/app:1`, {
        fetch: recording,
        concurrency: 1,
        // Each layer waits 1.5 s for its helper after its first range was answered.
        ingestLayer: async (body, path, options) => {
          await new Promise((r) => setTimeout(r, 1500));
          return ingest(body, path, options);
        },
        // A second at the rate of loopback (the first layer's last range, about 240 KB, in well
        // under 450 ms) is more than the largest range; the second layer's first range, 512 KiB
        // timed with the wait (1.5 s), would make it 320 KiB.
        layerPieces: { ...SIZED, pieceSeconds: 1, handOff: () => true },
      });
    } finally {
      h.close();
    }
    const second = asked.filter((a) => a.layer === asked.at(-1)!.layer).map((a) => a.bytes);
    // The second layer (2.5 MB): its first range, then the largest ranges the first layer's rate allows.
    expect(second.length).toBeGreaterThanOrEqual(4);
    expect(second[1]).toBe(512 * KiB);
    expect(second.slice(1, -1).every((n) => n === 512 * KiB)).toBe(true);
  });
  it("a later layer the registry will not send by range is asked for again as the first was, and streams", async () => {
    // The first layer's range is answered (206), so the second's ranges all go to the helper with
    // no first request from the pull; but this registry sends that blob whole (200) whatever the
    // Range. The helper's range and the pull's try of it are refused, then the layer is asked for
    // with a first range again, and streams.
    const manifest = JSON.parse(new TextDecoder().decode((await source.blobs.get(image.manifest!))!));
    const second: string = manifest.layers[1].digest;
    const whole = (await source.blobs.get(second as Digest))!;
    const proxy = await startFaultProxy(reg.domain);
    const asked: (string | undefined)[] = [];
    proxy.fault = (m, p) => {
      if (m !== "GET" || !p.endsWith(second)) return undefined;
      asked.push(p);
      return {
        kind: "serve",
        status: 200,
        headers: { "content-type": "application/octet-stream" },
        body: whole,
      };
    };
    const store = openMemoryStore();
    const h = channelHelpers(store, 1);
    try {
      const r = await pullImage(store, `${proxy.domain}/sized/app:1`, {
        concurrency: 1,
        retries: 1,
        backoffMs: 10,
        ingestLayer: createStreamIngest(h.helpers, { wholeDigestMaxBytes: 0 }),
        layerPieces: { ...SIZED, pieceSeconds: 10, handOff: () => true },
      });
      expect(r.record.id).toBe(image.id);
      expect(r.transfer.totals.received.count).toBe(image.layers.length + 2);
    } finally {
      h.close();
      await proxy.stop();
    }
    // The helper's range, the pull's try of it, then the layer streamed whole.
    expect(asked).toHaveLength(3);
    expect(h.fetched.filter((f) => f.startsWith(second))).toHaveLength(1);
    expect(await store.blobs.has(second as Digest)).toBe(true);
  });
  it("without pieceSeconds every range is pieceBytes", async () => {
    const asked = await rangesAsked({ pieceBytes: 256 * KiB, maxLayerBytes: 64 * 2 ** 20 }, 0, false);
    // Each layer's last range is what is left of it.
    expect(Math.max(...asked)).toBe(256 * KiB);
    expect(asked.filter((n) => n !== 256 * KiB).length).toBeLessThanOrEqual(2);
    expect(asked.reduce((a, b) => a + b, 0)).toBe(blobBytes);
  });
  it("the size follows the last rate, in 64 KiB steps, between the smallest and the largest", () => {
    const s = pieceSizer({ ...SIZED, pieceSeconds: 0.5 });
    expect(s.next()).toBe(64 * KiB);
    s.took(512 * KiB, 1000); // 512 KiB/s: 256 KiB in half a second
    expect(s.next()).toBe(256 * KiB);
    s.took(100 * KiB, 1000); // 50 KiB in half a second: the smallest
    expect(s.next()).toBe(64 * KiB);
    s.took(100 * 2 ** 20, 10); // far faster than the largest needs
    expect(s.next()).toBe(512 * KiB);
    s.took(300 * KiB, 1000); // 150 KiB: down to 128 KiB, a whole step
    expect(s.next()).toBe(128 * KiB);
  });
});
