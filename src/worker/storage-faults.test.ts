import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { storeTestImage } from "../core/explore/shell-testing.ts";
import { pseudoRandomBytes } from "../core/store/conformance.ts";
import { createMemoryBackend, type MemoryBackend, openMemoryStore } from "../core/store/memory.ts";
import { createWorkerClient, WorkerCallError } from "./client.ts";
import { createHandlers } from "./handlers.ts";
import type { ResponseMessage, StoreChanged } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

const FIXTURE = new URL("../testdata/archives/skopeo-docker-archive.tar", import.meta.url);
const OTHER = new URL("../testdata/archives/oci.tar", import.meta.url);

/** A client over handlers of a memory store with a quota, as the page is to the worker. */
function connect(backend: MemoryBackend, quotaBytes?: number) {
  const store = openMemoryStore(backend, { quotaBytes });
  const changes: StoreChanged[] = [];
  const listeners: ((ev: MessageEvent<ResponseMessage>) => void)[] = [];
  const handle = serveProtocol(createHandlers(store, { onChanged: (c) => changes.push(c) }), (msg) => {
    for (const l of listeners) l({ data: structuredClone(msg) } as MessageEvent<ResponseMessage>);
  });
  const client = createWorkerClient({
    postMessage: (msg) => void handle(structuredClone(msg)),
    addEventListener: (_t, fn) => listeners.push(fn),
  });
  return { client, store, changes };
}

describe("storage faults through the worker", () => {
  it("an import the quota refuses fails with the numbers and what uses the store; nothing of it stays", async () => {
    const backend = createMemoryBackend();
    const roomy = connect(backend);
    await roomy.client.call("archive.import", { file: new Blob([readFileSync(OTHER)]), name: "oci.tar" });
    const before = await roomy.client.call("storage.stats", undefined);
    const { client, changes } = connect(backend, before.bytes + 1500);
    const file = new Blob([readFileSync(FIXTURE)]);
    const err = await client.call("archive.import", { file, name: "big.tar" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCallError);
    const e = err as WorkerCallError;
    expect(e.code).toBe("STORAGE_FULL");
    expect(e.storage).toMatchObject({ operation: "the import of big.tar", needed: file.size });
    expect(e.storage?.using?.map((u) => u.name).sort()).toEqual(
      (await client.call("library.list", undefined)).images.map((i) => i.names[0]).sort(),
    );
    expect(e.message).toMatch(/^Not enough storage: the import of big\.tar was refused/);
    expect(e.message).toContain("delete images you no longer need or clear the store");
    const after = await client.call("storage.stats", undefined);
    expect({ blobs: after.blobs, bytes: after.bytes, images: after.images }).toEqual({
      blobs: before.blobs,
      bytes: before.bytes,
      images: before.images,
    });
    expect(changes).toEqual([]);
  });

  it("a build the quota refuses removes the layers it stored; the images before stay", async () => {
    const backend = createMemoryBackend();
    const { client: roomy } = connect(backend);
    await roomy.call("archive.import", { file: new Blob([readFileSync(OTHER)]), name: "oci.tar" });
    const before = await roomy.call("storage.stats", undefined);
    const { client } = connect(backend, before.bytes + 4000);
    // Two layers: the first fits, the second does not; the first must go too.
    const dockerfile = "FROM scratch\nCOPY a.bin /a\nCOPY b.bin /b\n";
    const context = { "a.bin": pseudoRandomBytes(2500, 1), "b.bin": pseudoRandomBytes(9000, 2) };
    const err = await client
      .call("image.build", { dockerfile, context, tag: "big:1" })
      .catch((e: unknown) => e);
    expect((err as WorkerCallError).code).toBe("STORAGE_FULL");
    expect((err as WorkerCallError).message).toMatch(/^Not enough storage: the build of big:1 was refused/);
    const after = await client.call("storage.stats", undefined);
    expect([after.blobs, after.bytes, after.images, after.layers]).toEqual([
      before.blobs,
      before.bytes,
      before.images,
      before.layers,
    ]);
  });

  it("a commit the quota refuses leaves the images as they were and the container layer intact", async () => {
    const backend = createMemoryBackend();
    const { client: roomy } = connect(backend);
    const r = await roomy.call("archive.import", { file: new Blob([readFileSync(OTHER)]), name: "oci.tar" });
    const c = await roomy.call("container.create", { image: r.images[0]!.id });
    // Random text, so nothing compresses it away: the commit's layer tar cannot fit what is left.
    const text = Array.from(pseudoRandomBytes(6000, 3), (b) => String.fromCharCode(97 + (b % 26))).join("");
    await roomy.call("container.apply", { id: c.id, op: { kind: "write", path: "/big.txt", text } });
    const before = await roomy.call("storage.stats", undefined);
    const { client } = connect(backend, before.bytes + 2000);
    const err = await client.call("container.commit", { id: c.id, tag: "big:1" }).catch((e: unknown) => e);
    expect((err as WorkerCallError).code).toBe("STORAGE_FULL");
    expect((err as WorkerCallError).message).toMatch(/^Not enough storage: the commit of big:1 was refused/);
    const after = await client.call("storage.stats", undefined);
    expect([after.blobs, after.bytes, after.images, after.layers]).toEqual([
      before.blobs,
      before.bytes,
      before.images,
      before.layers,
    ]);
    // Once there is room, the same container commits with its change.
    const done = await roomy.call("container.commit", { id: c.id, tag: "big:1" });
    expect((await roomy.call("library.list", undefined)).images.map((i) => i.id)).toContain(done.image);
  });

  it("a container edit the quota refuses leaves the container layer as it was", async () => {
    const backend = createMemoryBackend();
    const { client: roomy } = connect(backend);
    const r = await roomy.call("archive.import", { file: new Blob([readFileSync(OTHER)]), name: "oci.tar" });
    const c = await roomy.call("container.create", { image: r.images[0]!.id });
    await roomy.call("container.apply", {
      id: c.id,
      op: { kind: "write", path: "/small.txt", text: "hi\n" },
    });
    const before = await roomy.call("storage.stats", undefined);
    const { client } = connect(backend, before.bytes + 2000);
    const text = Array.from(pseudoRandomBytes(6000, 6), (b) => String.fromCharCode(97 + (b % 26))).join("");
    const err = (await client
      .call("container.apply", { id: c.id, op: { kind: "write", path: "/big.txt", text } })
      .catch((e: unknown) => e)) as WorkerCallError;
    expect(err.code).toBe("STORAGE_FULL");
    expect(err.message).toMatch(/^Not enough storage: the change to the container layer was refused/);
    expect((await client.call("container.diff", { id: c.id })).changes.map((d) => d.path)).toEqual([
      "/small.txt",
    ]);
    const after = await client.call("storage.stats", undefined);
    expect([after.blobs, after.bytes]).toEqual([before.blobs, before.bytes]);
  });

  it("a shell command whose writes the quota refuses leaves the container layer as it was", async () => {
    const backend = createMemoryBackend();
    const { client: roomy, store } = connect(backend);
    const c = await roomy.call("container.create", { image: await storeTestImage(store) });
    const before = await roomy.call("storage.stats", undefined);
    const { client } = connect(backend, before.bytes + 2000);
    const err = (await client
      // Shell built-ins only: the image has no programs. 13 kB, more than the room left.
      .call("shell.exec", {
        id: c.id,
        line: `for i in {1..200}; do echo ${"0123456789abcdef".repeat(4)} >> /big.bin; done`,
      })
      .catch((e: unknown) => e)) as WorkerCallError;
    expect(err.code).toBe("STORAGE_FULL");
    expect(err.message).toMatch(/^Not enough storage: the command in the container was refused/);
    expect(await client.call("container.diff", { id: c.id })).toEqual({ changes: [], total: 0 });
    const ls = await client.call("shell.exec", { id: c.id, line: "ls /big.txt" }).catch((e: unknown) => e);
    expect(ls).toMatchObject({ exitCode: 2 });
    const after = await client.call("storage.stats", undefined);
    expect([after.blobs, after.bytes]).toEqual([before.blobs, before.bytes]);
  });

  it("a setting the browser refuses (the build context) fails with what it was saving", async () => {
    const { client, store } = connect(createMemoryBackend());
    const put = store.meta.put.bind(store.meta);
    store.meta.put = async (collection, record) => {
      if (collection === "kv") throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      return put(collection, record);
    };
    const err = (await client
      .call("kv.set", { key: "context", value: { "big.bin": pseudoRandomBytes(5000, 4) } })
      .catch((e: unknown) => e)) as WorkerCallError;
    expect(err.code).toBe("STORAGE_FULL");
    expect(err.message).toMatch(/^Not enough storage: saving the build context was refused/);
    expect(await client.call("kv.get", { key: "context" })).toBeUndefined();
  });

  it("at load, removes images whose bytes are gone, says which, and collects what nothing uses", async () => {
    const backend = createMemoryBackend();
    const { client, store, changes } = connect(backend);
    await client.call("archive.import", { file: new Blob([readFileSync(FIXTURE)]), name: "a.tar" });
    expect(changes.map((c) => c.kind)).toEqual(["image"]);
    const image = (await store.meta.list("images"))[0]!;
    const layer = (await store.meta.get("layers", image.layers.at(-1)!))!;
    await store.blobs.delete(layer.blob);
    await store.blobs.delete(layer.id);
    const orphan = await store.blobs.put(pseudoRandomBytes(1234, 5));
    const report = await client.call("storage.repair", undefined);
    expect(report.ran).toBe(true);
    expect(report.lost.map((l) => [l.id, l.missing.length])).toEqual([[image.id, 1]]);
    expect(report.collected.blobs).toBeGreaterThan(0);
    expect(await store.blobs.has(orphan.digest)).toBe(false);
    expect((await client.call("library.list", undefined)).images).toEqual([]);
    expect(await client.call("storage.stats", undefined)).toMatchObject({ blobs: 0, bytes: 0, layers: 0 });
  });

  it("deleting a built image and collecting keeps the build cache whole: a rebuild reuses every step, files intact", async () => {
    const backend = createMemoryBackend();
    const { client } = connect(backend);
    const base = gunzipSync(readFileSync(new URL("../testdata/builds/bbase.tar.gz", import.meta.url)));
    await client.call("archive.import", { file: new Blob([base]), name: "bbase.tar" });
    const dockerfile = "FROM bbase\nCOPY a.bin /a\nRUN seq 1 30000 > /s && cp /a /c\n";
    const context = { "a.bin": pseudoRandomBytes(2500, 1) };
    const first = await client.call("image.build", { dockerfile, context, tag: "x:1" });
    const read = async (id: string, path: string) =>
      (await client.call("image.file", { id, layer: 2, path, offset: 0, length: 200_000 })).bytes;
    const before = [await read(first.id, "/s"), await read(first.id, "/c")];
    await client.call("image.delete", { id: first.id });
    const report = await client.call("storage.repair", undefined);
    expect(report.ran).toBe(true);
    const again = await client.call("image.build", { dockerfile, context, tag: "x:2" });
    expect(again.cachedSteps).toBe(2); // COPY and RUN: every step after FROM
    expect(again.id).toBe(first.id);
    expect([await read(again.id, "/s"), await read(again.id, "/c")]).toEqual(before);
    const exported = await client.call("image.export", { id: again.id, format: "docker" });
    expect(exported.size).toBeGreaterThan(0);
  });

  it("Check store reports a corrupted blob with progress", async () => {
    const backend = createMemoryBackend();
    const { client } = connect(backend);
    await client.call("archive.import", { file: new Blob([readFileSync(FIXTURE)]), name: "a.tar" });
    const [victim] = [...backend.blobs.keys()];
    const bytes = backend.blobs.get(victim!)!.slice();
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    backend.blobs.set(victim!, bytes);
    const progress: number[] = [];
    const report = await client.call("storage.check", undefined, {
      onProgress: (p) => progress.push(p.done),
    });
    expect(report.damaged.map((d) => d.digest)).toEqual([victim]);
    expect(progress.at(-1)).toBe(report.bytes);
  });
});

describe("before a large import", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("an archive larger than what the browser has left is refused up front, with nothing written", async () => {
    const backend = createMemoryBackend();
    const { client, store } = connect(backend);
    const file = new Blob([readFileSync(FIXTURE)]);
    vi.stubGlobal("navigator", {
      storage: {
        estimate: async () => ({ usage: 1_000_000, quota: 1_000_000 + file.size - 1 }),
        persisted: async () => false,
      },
    });
    const err = (await client
      .call("archive.import", { file, name: "big.tar" })
      .catch((e: unknown) => e)) as WorkerCallError;
    expect(err.code).toBe("STORAGE_FULL");
    expect(err.storage).toMatchObject({
      needed: file.size,
      quota: 1_000_000 + file.size - 1,
      usage: 1_000_000,
    });
    expect(err.storage?.written).toBeUndefined();
    expect(err.storage?.upFront).toBe(true);
    expect(err.message).toMatch(
      /^Not enough storage: the import of big\.tar needs about .* but the browser has only .* left for this site/,
    );
    expect(err.message).toContain("so it was not started. Nothing was written.");
    expect(await store.blobs.list()).toEqual([]);
  });
});
