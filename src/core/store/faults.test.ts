import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { fixtureStream, snapshot } from "../../testdata/archives/fixtures.ts";
import { sha256 } from "../digest.ts";
import { StorageFullError } from "../errors.ts";
import { importArchive } from "../image/import.ts";
import { findLostImages, verifyBlobs } from "./check.ts";
import { pseudoRandomBytes } from "./conformance.ts";
import { describeStorageFull, isStorageFull } from "./faults.ts";
import { collectGarbage } from "./gc.ts";
import { CHUNK_SIZE, openIndexedDbStore } from "./indexeddb.ts";
import { createMemoryBackend, openMemoryStore } from "./memory.ts";

/**
 * Makes IndexedDB (fake-indexeddb) behave as a browser at its quota: once the values written
 * pass `bytes`, the transaction that wrote the last one aborts with QuotaExceededError.
 */
function limitIndexedDb(bytes: number): () => void {
  const proto = IDBObjectStore.prototype as unknown as { put: (...a: unknown[]) => IDBRequest };
  const put = proto.put;
  let used = 0;
  proto.put = function (this: IDBObjectStore, value: unknown, ...rest: unknown[]) {
    const request = put.call(this, value, ...rest);
    used += value instanceof Uint8Array ? value.byteLength : value instanceof Blob ? value.size : 64;
    if (used > bytes) {
      // As a browser does: the transaction aborts when it would commit, not at the put.
      const tx = this.transaction as unknown as { _state: string; _abort(name: string): void };
      queueMicrotask(() => {
        if (tx._state === "finished") return;
        tx._state = "active";
        tx._abort("QuotaExceededError");
      });
    }
    return request;
  };
  return () => {
    proto.put = put;
  };
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});
let dbs = 0;

describe("a full quota", () => {
  it("a put the quota refuses fails as StorageFullError and leaves no chunk and the earlier blobs as they were", async () => {
    const store = await openIndexedDbStore(`faults-${++dbs}`);
    const first = await store.blobs.put(pseudoRandomBytes(3000, 1));
    const before = await snapshot(store);
    restore = limitIndexedDb(3 * CHUNK_SIZE);
    const err = await store.blobs
      .putStream(
        (async function* () {
          for (let i = 0; i < 40; i++) yield pseudoRandomBytes(CHUNK_SIZE / 2, i + 2);
        })(),
      )
      .catch((e: unknown) => e);
    restore();
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as StorageFullError).code).toBe("STORAGE_FULL");
    expect((err as StorageFullError).facts.written).toBeGreaterThan(0);
    expect(await store.blobs.countOrphanChunks()).toBe(0);
    expect(await snapshot(store)).toEqual(before);
    expect(await store.blobs.get(first.digest)).toEqual(pseudoRandomBytes(3000, 1));
    store.close();
  });

  it("a one-chunk put and a record write the quota refuses fail the same way", async () => {
    const store = await openIndexedDbStore(`faults-${++dbs}`);
    restore = limitIndexedDb(10);
    await expect(store.blobs.put(pseudoRandomBytes(1000))).rejects.toBeInstanceOf(StorageFullError);
    await expect(store.meta.put("kv", { id: "x", value: "y" })).rejects.toBeInstanceOf(StorageFullError);
    await expect(store.meta.apply({ put: { kv: [{ id: "z", value: 1 }] } })).rejects.toBeInstanceOf(
      StorageFullError,
    );
    restore();
    expect(await store.blobs.list()).toEqual([]);
    store.close();
  });

  it("an import the quota refuses removes all it wrote; the images before stay; a smaller one then fits", async () => {
    const backend = createMemoryBackend();
    const small = fixtureStream("oci.tar");
    await importArchive(openMemoryStore(backend), small);
    const used = (await openMemoryStore(backend).blobs.stats()).bytes;
    const store = openMemoryStore(backend, { quotaBytes: used + 2000 });
    const before = await snapshot(store);
    const err = await importArchive(store, fixtureStream("skopeo-docker-archive.tar")).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageFullError);
    expect(isStorageFull(err)).toBe(true);
    expect(await snapshot(store)).toEqual(before);
    const roomy = openMemoryStore(backend, { quotaBytes: used + 200_000 });
    const r = await importArchive(roomy, fixtureStream("skopeo-docker-archive.tar"));
    expect(r.images).toHaveLength(1);
  });

  it("says in words what was needed, what the browser allows, what uses it and what to do", () => {
    const text = describeStorageFull({
      operation: "the import of debian.tar",
      needed: 121_000_000,
      written: 39_000_000,
      quota: 40_000_000,
      usage: 1_200_000,
      using: [{ name: "layerlab/example:latest", bytes: 1_100_000 }],
      sharedBytes: 0,
    });
    expect(text).toBe(
      "Not enough storage: the import of debian.tar was refused after writing 39.0 MB (it needs about 121 MB). Nothing of it was kept. The browser allows this site 40.0 MB, 1.20 MB of it in use. Stored: layerlab/example:latest 1.10 MB. To make room, delete images you no longer need or clear the store, or let the browser keep LayerLab's data (persistent storage).",
    );
  });

  it("says up front that an import cannot fit, with the room left, before anything is written", () => {
    const text = describeStorageFull({
      operation: "the import of debian.tar",
      needed: 121_000_000,
      upFront: true,
      quota: 40_000_000,
      usage: 1_200_000,
      using: [{ name: "layerlab/example:latest", bytes: 1_100_000 }],
    });
    expect(text).toBe(
      "Not enough storage: the import of debian.tar needs about 121 MB, but the browser has only 38.8 MB left for this site (it allows 40.0 MB, 1.20 MB of it in use), so it was not started. Nothing was written. Stored: layerlab/example:latest 1.10 MB. To make room, delete images you no longer need or clear the store, or let the browser keep LayerLab's data (persistent storage).",
    );
  });

  it("says so when the browser refused less than the quota it reports", () => {
    const text = describeStorageFull({
      operation: "the build",
      written: 5_000_000,
      quota: 10e9,
      usage: 12e6,
    });
    expect(text).toContain(
      "The browser refused it with 12.0 MB in use, though it reports 10.0 GB allowed: the limit it enforces is lower",
    );
  });

  it("recognises the platform's refusals: QuotaExceededError, ENOSPC, and an abort that names the quota", () => {
    expect(isStorageFull(new DOMException("", "QuotaExceededError"))).toBe(true);
    expect(isStorageFull(Object.assign(new Error("write failed"), { code: "ENOSPC" }))).toBe(true);
    expect(isStorageFull(new DOMException("Quota exceeded", "UnknownError"))).toBe(true);
    expect(isStorageFull(new Error("x", { cause: new DOMException("", "QuotaExceededError") }))).toBe(true);
    expect(isStorageFull(new DOMException("", "AbortError"))).toBe(false);
    expect(isStorageFull(new Error("disk is fine"))).toBe(false);
  });
});

describe("interrupted writes", () => {
  it("collects blobs and layer records no image, container or setting refers to, and keeps the rest", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("oci.tar"));
    const kept = await snapshot(store);
    // What a tab closed mid-import leaves: blobs no record names, and a layer no image lists.
    const orphan = await store.blobs.put(pseudoRandomBytes(5000, 9));
    const orphanLayerBlob = await store.blobs.put(pseudoRandomBytes(700, 10));
    await store.meta.put("layers", {
      id: await sha256(new Uint8Array([1])),
      blob: orphanLayerBlob.digest,
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      blobSize: 700,
      size: 700,
    });
    // Kept: a blob only a setting names (the build cache names layers and contents by digest),
    // and a content blob only a container's saved layer names.
    const cached = await store.blobs.put(pseudoRandomBytes(300, 11));
    await store.meta.put("kv", {
      id: "build-cache",
      value: [{ layer: { changeset: { blob: cached.digest } } }],
    });
    const content = await store.blobs.put(pseudoRandomBytes(400, 12));
    const changes = await store.blobs.put(new TextEncoder().encode(JSON.stringify({ blob: content.digest })));
    const image = (await store.meta.list("images"))[0]!;
    await store.meta.put("containers", {
      id: "c1",
      name: "c1",
      image: image.id,
      createdAt: 1,
      changes: changes.digest,
    });
    const report = await collectGarbage(store);
    expect(report).toEqual({ blobs: 2, bytes: 5700, layers: 1 });
    expect(await store.blobs.has(orphan.digest)).toBe(false);
    for (const d of [cached, content, changes]) expect(await store.blobs.has(d.digest)).toBe(true);
    const after = await snapshot(store);
    expect(after.images).toEqual(kept.images);
    expect(after.layers).toEqual(kept.layers);
    for (const b of kept.blobs) expect(after.blobs).toContain(b);
  });

  it("collects nothing from a sound store", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("docker25.tar"));
    const before = await snapshot(store);
    expect(await collectGarbage(store)).toEqual({ blobs: 0, bytes: 0, layers: 0 });
    expect(await snapshot(store)).toEqual(before);
  });
});

describe("eviction and damage", () => {
  it("finds the images whose blobs are gone, naming what is missing", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("oci.tar"));
    await importArchive(store, fixtureStream("docker25.tar"));
    expect(await findLostImages(store)).toEqual([]);
    const all = await store.meta.list("images");
    // The layer fewest images stack, so some images stay whole.
    const users = (id: string) => all.filter((i) => i.layers.includes(id as never)).length;
    const victim = all.find((i) => i.layers.some((l) => users(l) < all.length))!;
    const at = victim.layers.findIndex((l) => users(l) < all.length);
    const layer = (await store.meta.get("layers", victim.layers[at]!))!;
    await store.blobs.delete(layer.blob);
    await store.blobs.delete(layer.id);
    await store.blobs.delete(victim.config);
    const lost = await findLostImages(store);
    const images = await store.meta.list("images");
    // Every image stacking that layer lost it too (layers are shared); the others are whole.
    const sharing = images.filter((i) => i.layers.includes(layer.id)).map((i) => i.id);
    expect(lost.map((l) => l.id).sort()).toEqual(sharing.sort());
    expect(images.length).toBeGreaterThan(sharing.length);
    expect(lost.find((l) => l.id === victim.id)!.missing).toEqual([
      `config ${victim.config}`,
      `layer ${at + 1} bytes ${layer.blob}`,
    ]);
  });

  it("Check store finds a blob whose content no longer hashes to its name", async () => {
    const backend = createMemoryBackend();
    const store = openMemoryStore(backend);
    await importArchive(store, fixtureStream("oci.tar"));
    const [victim] = [...backend.blobs.keys()];
    const bytes = backend.blobs.get(victim!)!.slice();
    bytes[0] = (bytes[0]! + 1) & 0xff;
    backend.blobs.set(victim!, bytes);
    const seen: number[] = [];
    const report = await verifyBlobs(store, { onProgress: (done) => seen.push(done) });
    expect(report.checked).toBe(backend.blobs.size);
    expect(report.damaged.map((d) => d.digest)).toEqual([victim]);
    expect(report.damaged[0]!.problem).toMatch(/^its content hashes to sha256:/);
    expect(seen.at(-1)).toBe(report.bytes);
    const ac = new AbortController();
    ac.abort();
    await expect(verifyBlobs(store, { signal: ac.signal })).rejects.toMatchObject({ code: "CANCELLED" });
  });
});
