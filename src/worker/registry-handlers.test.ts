import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMemoryStore } from "../core/store/memory.ts";
import type { Store } from "../core/store/types.ts";
import {
  freePort,
  registryMissing,
  startRegistry,
  type TestRegistry,
  USER,
} from "../testdata/registry/harness.ts";
import { storeImage } from "../testdata/registry/images.ts";
import { WorkerCallError } from "./client.ts";
import { connectInProcess } from "./in-process.ts";
import type { RegistryEvent, StoreChanged } from "./protocol.ts";
import { createRegistryHandlers, REMEMBERED_LOGINS_KEY } from "./registry-handlers.ts";

if (registryMissing) console.warn(`worker registry tests skipped: ${registryMissing}`);

const LAYERS = [
  { seed: 11, bytes: 200_000 },
  { seed: 12, bytes: 30_000 },
];

/** A client wired to the real handlers over `store`, as the page is to the worker. */
function connect(store: Store) {
  const changes: StoreChanged[] = [];
  const client = connectInProcess(store, { onChanged: (c) => changes.push(c) });
  return { client, changes };
}

/** The final event of each blob of a transfer: role, outcome, and whether all its bytes were counted. */
function finals(events: unknown[]) {
  return (events as RegistryEvent[])
    .filter((e) => e.kind === "blob" && e.state === "done")
    .map((e) => ({ role: e.role, outcome: e.outcome, index: e.index }));
}

describe.skipIf(registryMissing !== undefined)("the worker's registry methods (basic auth)", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry("basic");
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it("pushes with per-blob events, pushes again with everything already there, and pulls into an empty store", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", LAYERS);
    const { client } = connect(local);
    const ref = `${reg.domain}/worker/app:1`;
    const login = { ...USER, remember: false };

    const events: unknown[] = [];
    const pushed = await client.call(
      "registry.push",
      { image: img.id, reference: ref, login },
      { onEvent: (e) => events.push(e) },
    );
    expect(pushed.manifestDigest).toBe(img.manifest);
    // Layers are pushed at once: their last events come in either order.
    const layerFinals = finals(events).filter((e) => e.role === "layer");
    expect(layerFinals.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))).toEqual([
      { role: "layer", outcome: "sent", index: 0 },
      { role: "layer", outcome: "sent", index: 1 },
    ]);
    expect(finals(events).filter((e) => e.role !== "layer")).toEqual([
      { role: "config", outcome: "sent", index: undefined },
      { role: "manifest", outcome: "sent", index: undefined },
    ]);
    expect(pushed.transfer.totals.sent.count).toBe(4);

    // The session's credentials are held: the second push gives none.
    const again = await client.call("registry.push", { image: img.id, reference: ref });
    expect(again.transfer.blobs.filter((b) => b.role !== "manifest").map((b) => b.outcome)).toEqual([
      "skipped",
      "skipped",
      "skipped",
    ]);
    const history = await client.call("registry.transfers", { image: img.id });
    expect(history.map((t) => [t.kind, t.totals.sent.count, t.totals.skipped.count])).toEqual([
      ["push", 4, 0],
      ["push", 1, 3],
    ]);
    // Not remembered: nothing of the password is in the store.
    expect(await local.meta.get("kv", REMEMBERED_LOGINS_KEY)).toBeUndefined();
    expect(await client.call("registry.logins", undefined)).toEqual([
      { registry: reg.domain, username: USER.username, remembered: false },
    ]);

    const other = openMemoryStore();
    const { client: page2, changes } = connect(other);
    const pullEvents: unknown[] = [];
    const pulled = await page2.call(
      "registry.pull",
      { reference: ref, login },
      { onEvent: (e) => pullEvents.push(e) },
    );
    expect(pulled.image).toBe(img.id);
    expect(pulled.names).toEqual([ref]);
    expect(finals(pullEvents).filter((e) => e.role === "layer")).toHaveLength(2);
    expect(finals(pullEvents).every((e) => e.outcome === "received")).toBe(true);
    // Moving events count up to the blob's size.
    const moving = (pullEvents as RegistryEvent[]).filter((e) => e.role === "layer" && e.index === 0);
    expect(moving.at(-1)!.bytes).toBe(moving.at(-1)!.size);
    expect(changes).toEqual([{ kind: "image", id: img.id }]);
    const library = await page2.call("library.list", undefined);
    expect(library.images.map((i) => i.id)).toEqual([img.id]);
  });

  it("a cancelled pull leaves no image", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "cancel:1", LAYERS);
    const { client } = connect(local);
    const ref = `${reg.domain}/worker/cancel:1`;
    await client.call("registry.push", {
      image: img.id,
      reference: ref,
      login: { ...USER, remember: false },
    });

    const other = openMemoryStore();
    const { client: page2 } = connect(other);
    const ac = new AbortController();
    const err = await page2
      .call(
        "registry.pull",
        { reference: ref, login: { ...USER, remember: false } },
        { signal: ac.signal, onEvent: () => ac.abort() },
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCallError);
    expect(err.code).toBe("CANCELLED");
    expect(await other.meta.list("images")).toEqual([]);
    expect(await other.meta.list("layers")).toEqual([]);
  });

  it("remembers a login only when asked, and forgets it", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "remember:1", LAYERS);
    const ref = `${reg.domain}/worker/remember:1`;
    const first = connect(local).client;
    await first.call("registry.push", { image: img.id, reference: ref, login: { ...USER, remember: true } });
    expect((await local.meta.get("kv", REMEMBERED_LOGINS_KEY))?.value).toEqual({ [reg.domain]: USER });

    // A new session (a reload) over the same store pushes with the remembered login.
    const second = connect(local).client;
    expect(await second.call("registry.logins", undefined)).toEqual([
      { registry: reg.domain, username: USER.username, remembered: true },
    ]);
    await second.call("registry.push", { image: img.id, reference: ref });
    await second.call("registry.forget", { registry: reg.domain });
    expect((await local.meta.get("kv", REMEMBERED_LOGINS_KEY))?.value).toEqual({});
    const refused = await connect(local)
      .client.call("registry.push", { image: img.id, reference: ref })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(WorkerCallError);
    expect(refused.message).toMatch(/Not signed in/);
  });

  it("wrong credentials are refused with the registry's message and not remembered", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "wrong:1", LAYERS);
    const { client } = connect(local);
    const err = await client
      .call("registry.push", {
        image: img.id,
        reference: `${reg.domain}/worker/wrong:1`,
        login: { username: USER.username, password: "not it", remember: true },
      })
      .catch((e) => e);
    expect(err.code).toBe("REGISTRY");
    expect(err.message).toMatch(/Check the user name and password/);
    expect(await local.meta.get("kv", REMEMBERED_LOGINS_KEY)).toBeUndefined();
  });
});

describe("the worker's registry methods without a registry", () => {
  it("a registry that cannot be reached names CORS, the proxy and the README", async () => {
    const store = openMemoryStore();
    const handlers = createRegistryHandlers({
      store,
      write: (_op, run) => run(),
      changed: () => undefined,
      retry: { retries: 0 },
    });
    const port = await freePort();
    const ctx = { signal: new AbortController().signal, progress: () => undefined, emit: () => undefined };
    const err = await handlers["registry.pull"]({ reference: `127.0.0.1:${port}/nothing:1` }, ctx).catch(
      (e) => e,
    );
    expect(err.code).toBe("REGISTRY");
    expect(err.message).toMatch(/CORS/);
    expect(err.message).toMatch(/proxy/);
    expect(err.message).toMatch(/README's "Registries" section/);
  });

  it("a non-loopback host is reached over https unless plain HTTP is allowed for it", async () => {
    const seen: string[] = [];
    const store = openMemoryStore();
    const handlers = createRegistryHandlers({
      store,
      write: (_op, run) => run(),
      changed: () => undefined,
      retry: { retries: 0 },
    });
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      seen.push(String(input));
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    try {
      const ctx = { signal: new AbortController().signal, progress: () => undefined, emit: () => undefined };
      await handlers["registry.pull"]({ reference: "registry.example:5000/a:1" }, ctx).catch(() => undefined);
      await handlers["registry.pull"]({ reference: "registry.example:5000/a:1", allowHttp: true }, ctx).catch(
        () => undefined,
      );
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen).toEqual([
      "https://registry.example:5000/v2/a/manifests/1",
      "http://registry.example:5000/v2/a/manifests/1",
    ]);
  });
});
