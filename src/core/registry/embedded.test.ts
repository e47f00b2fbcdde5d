import { describe, expect, it } from "vitest";
import { storeImage } from "../../testdata/registry/images.ts";
import "fake-indexeddb/auto";
import { isStorageFull } from "../store/faults.ts";
import { openIndexedDbStore } from "../store/indexeddb.ts";
import { createMemoryBackend, openMemoryStore } from "../store/memory.ts";
import { EmbeddedRegistry } from "./embedded.ts";
import { RegistryError } from "./errors.ts";
import { pullImage } from "./pull.ts";
import { pushImage } from "./push.ts";

const BASE = [
  { seed: 61, bytes: 300_000 },
  { seed: 62, bytes: 40_000 },
];
const APP = [...BASE, { seed: 63, bytes: 200_000 }];
const APP2 = [...BASE, { seed: 64, bytes: 100_000 }];
const DOMAIN = "localhost:5999";

/** The client talking real HTTP semantics to a registry over a second store ("another machine"). */
function embedded() {
  const reg = new EmbeddedRegistry(openMemoryStore());
  return { reg, opts: { fetch: reg.fetch, retries: 0 } };
}

describe("the embedded registry (the same flows as against CNCF distribution)", () => {
  it("push, pull into an empty store identical, pull again receives nothing", async () => {
    const { reg, opts } = embedded();
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", APP);
    const pushed = await pushImage(local, img.id, `${DOMAIN}/team/app:1`, opts);
    expect(pushed.manifestDigest).toBe(img.manifest);
    const blobBytes = pushed.transfer.blobs
      .filter((b) => b.role !== "manifest")
      .reduce((a, b) => a + b.size, 0);
    const manifestBytes = pushed.transfer.blobs.find((b) => b.role === "manifest")!.size;
    expect(reg.counters.bytesReceived).toBe(blobBytes + manifestBytes);
    const other = openMemoryStore();
    const pulled = await pullImage(other, `${DOMAIN}/team/app:1`, opts);
    expect(pulled.record.id).toBe(img.id);
    expect(pulled.record.layers).toEqual(img.layers);
    const sent = reg.counters.bytesSent;
    const again = await pullImage(other, `${DOMAIN}/team/app:1`, opts);
    expect(again.transfer.totals.skipped.count).toBe(4);
    expect(reg.counters.bytesSent - sent).toBe(manifestBytes);
  });

  it("only the new layer, the config and the manifest move on a second push", async () => {
    const { reg, opts } = embedded();
    const local = openMemoryStore();
    const a = await storeImage(local, "app:1", APP);
    const b = await storeImage(local, "app:2", APP2);
    await pushImage(local, a.id, `${DOMAIN}/lesson/app:1`, opts);
    const before = reg.counters.bytesReceived;
    const r = await pushImage(local, b.id, `${DOMAIN}/lesson/app:2`, opts);
    const moved = r.transfer.blobs.filter((x) => x.outcome === "sent");
    expect(moved.map((x) => x.role).sort()).toEqual(["config", "layer", "manifest"]);
    expect(reg.counters.bytesReceived - before).toBe(moved.reduce((s, x) => s + x.size, 0));
  });

  it("mounts from another repository, and uploads large blobs in PATCH chunks", async () => {
    const { reg, opts } = embedded();
    const local = openMemoryStore();
    const a = await storeImage(local, "app:1", APP);
    await pushImage(local, a.id, `${DOMAIN}/one/app:1`, {
      ...opts,
      monolithicMaxBytes: 100_000,
      chunkBytes: 64 * 1024,
    });
    expect(reg.counters.requests.filter((q) => q.method === "PATCH").every((q) => q.status === 202)).toBe(
      true,
    );
    expect(reg.counters.requests.filter((q) => q.method === "PATCH").length).toBeGreaterThan(4);
    const r = await pushImage(local, a.id, `${DOMAIN}/two/app:1`, opts);
    expect(r.transfer.totals.mounted.count).toBe(4);
    expect(reg.counters.requests.filter((q) => q.path.includes("mount=")).map((q) => q.status)).toEqual([
      201, 201, 201, 201,
    ]);
  });

  it("honours OCI-Chunk-Min-Length: chunks grow to the size the registry asks for", async () => {
    const reg = new EmbeddedRegistry(openMemoryStore(), { chunkMinLength: 256 * 1024 });
    const local = openMemoryStore();
    const img = await storeImage(local, "big:1", [{ seed: 65, bytes: 700_000 }]);
    await pushImage(local, img.id, `${DOMAIN}/min/app:1`, {
      fetch: reg.fetch,
      retries: 0,
      monolithicMaxBytes: 100_000,
      chunkBytes: 64 * 1024,
    });
    const patches = reg.counters.requests.filter((q) => q.method === "PATCH");
    expect(patches.map((q) => q.status)).toEqual([202, 202, 202]);
  });

  it("answers unknown names and manifests as distribution does", async () => {
    const { reg, opts } = embedded();
    // A repository it does not know: MANIFEST_UNKNOWN for its manifests, NAME_UNKNOWN for its tags.
    const err = await pullImage(openMemoryStore(), `${DOMAIN}/nobody/here:1`, opts).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("manifest-unknown");
    const tags = await reg.fetch(`http://${DOMAIN}/v2/nobody/here/tags/list`);
    expect(tags.status).toBe(404);
    expect((await tags.json()).errors[0].code).toBe("NAME_UNKNOWN");
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    await pushImage(local, img.id, `${DOMAIN}/some/app:1`, opts);
    const err2 = await pullImage(openMemoryStore(), `${DOMAIN}/some/app:2`, opts).catch((e) => e);
    expect(err2.kind).toBe("manifest-unknown");
  });

  it("serves under a path prefix with absolute Locations, lists repositories and tags, and says what it holds", async () => {
    const reg = new EmbeddedRegistry(openMemoryStore(), { prefix: "/embedded-registry" });
    const at = "http://localhost:4173/embedded-registry";
    const opts = { fetch: reg.fetch, retries: 0, endpoint: () => at };
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    await pushImage(local, img.id, `${DOMAIN}/team/app:1`, opts);
    await pushImage(local, img.id, `${DOMAIN}/team/app:2`, opts);
    expect(reg.counters.requests.filter((q) => q.path.includes("mount=")).map((q) => q.status)).toEqual([]);
    const outside = await reg.fetch("http://localhost:4173/v2/");
    expect(outside.status).toBe(404);
    const opened = await reg.fetch(`${at}/v2/team/app/blobs/uploads/`, { method: "POST" });
    expect(opened.headers.get("location")).toMatch(
      /^http:\/\/localhost:4173\/embedded-registry\/v2\/team\/app\/blobs\/uploads\/[\w-]+$/,
    );
    const catalog = await (await reg.fetch(`${at}/v2/_catalog`)).json();
    expect(catalog).toEqual({ repositories: ["team/app"] });
    const tags = await (await reg.fetch(`${at}/v2/team/app/tags/list?n=1`)).json();
    expect(tags).toEqual({ name: "team/app", tags: ["1"] });
    const status = await (await reg.fetch(`${at}/status`)).json();
    expect(status).toMatchObject({ blobs: 4, repositories: [{ name: "team/app", tags: ["1", "2"] }] });
    const manifestBytes = (await local.blobs.get(img.manifest!))!;
    const m = JSON.parse(new TextDecoder().decode(manifestBytes));
    const sum = m.layers.reduce((n: number, l: { size: number }) => n + l.size, m.config.size);
    expect(status.bytes).toBe(sum + manifestBytes.byteLength);
    const cleared = await (await reg.fetch(`${at}/clear`, { method: "POST" })).json();
    expect(cleared).toMatchObject({ blobs: 0, bytes: 0, repositories: [] });
  });

  it("refuses a PATCH out of order with 416, as the OCI distribution spec asks", async () => {
    const { reg } = embedded();
    const opened = await reg.fetch(`http://${DOMAIN}/v2/a/blobs/uploads/`, { method: "POST" });
    const loc = opened.headers.get("location")!;
    const first = await reg.fetch(loc, {
      method: "PATCH",
      headers: { "Content-Range": "0-3" },
      body: new Uint8Array(4),
    });
    expect([first.status, first.headers.get("range")]).toEqual([202, "0-3"]);
    const skip = await reg.fetch(loc, {
      method: "PATCH",
      headers: { "Content-Range": "8-11" },
      body: new Uint8Array(4),
    });
    expect(skip.status).toBe(416);
    expect((await skip.json()).errors[0].code).toBe("BLOB_UPLOAD_INVALID");
    const unknown = await reg.fetch(`http://${DOMAIN}/v2/a/blobs/uploads/nope`, {
      method: "PATCH",
      body: new Uint8Array(1),
    });
    expect([unknown.status, (await unknown.json()).errors[0].code]).toEqual([404, "BLOB_UPLOAD_UNKNOWN"]);
  });

  it("deletes manifests by digest (their tags with them) and removes blobs no repository links", async () => {
    const { reg, opts } = embedded();
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    await pushImage(local, img.id, `${DOMAIN}/del/app:1`, opts);
    const base = `http://${DOMAIN}/v2/del/app`;
    expect((await reg.fetch(`${base}/manifests/${img.manifest}`, { method: "DELETE" })).status).toBe(202);
    expect((await reg.fetch(`${base}/manifests/1`)).status).toBe(404);
    const before = (await reg.status()).blobs;
    expect((await reg.fetch(`${base}/blobs/${img.config}`, { method: "DELETE" })).status).toBe(202);
    expect((await reg.status()).blobs).toBe(before - 1);
    expect((await reg.fetch(`${base}/blobs/${img.config}`, { method: "HEAD" })).status).toBe(404);
  });

  it("streams uploads in chunks into IndexedDB and serves byte ranges across its chunks", async () => {
    const store = await openIndexedDbStore(`embedded-test-${Math.random()}`);
    const reg = new EmbeddedRegistry(store);
    const local = openMemoryStore();
    const img = await storeImage(local, "big:1", [{ seed: 66, bytes: 2_500_000 }]);
    await pushImage(local, img.id, `${DOMAIN}/idb/app:1`, {
      fetch: reg.fetch,
      retries: 0,
      monolithicMaxBytes: 100_000,
      chunkBytes: 700_000,
    });
    const manifest = JSON.parse(new TextDecoder().decode((await local.blobs.get(img.manifest!))!));
    const layer = manifest.layers[0].digest as `sha256:${string}`;
    const whole = (await local.blobs.get(layer))!;
    expect(await store.blobs.has(layer)).toBe(true);
    const start = (1 << 20) - 10;
    const res = await reg.fetch(`http://${DOMAIN}/v2/idb/app/blobs/${layer}`, {
      headers: { Range: `bytes=${start}-${start + 29}` },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${start + 29}/${whole.byteLength}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(whole.slice(start, start + 30));
    const pulled = await pullImage(openMemoryStore(), `${DOMAIN}/idb/app:1`, {
      fetch: reg.fetch,
      retries: 0,
    });
    expect(pulled.record.id).toBe(img.id);
    store.close();
  });

  it("drops an upload left idle, with the bytes it had stored", async () => {
    let now = 0;
    const store = openMemoryStore();
    const reg = new EmbeddedRegistry(store, { uploadIdleMs: 1000, now: () => now });
    const bytes = new Uint8Array(5000).fill(7);
    const opened = await reg.fetch(`http://${DOMAIN}/v2/a/blobs/uploads/`, { method: "POST" });
    const loc = opened.headers.get("location")!;
    expect((await reg.fetch(loc, { method: "PATCH", body: bytes })).status).toBe(202);
    // A PUT with the wrong digest stores the bytes and keeps the upload open for a retry.
    const wrong = await reg.fetch(`${loc}?digest=sha256:${"0".repeat(64)}`, { method: "PUT" });
    expect(wrong.status).toBe(400);
    expect((await store.blobs.stats()).count).toBe(1);
    now = 500;
    expect((await reg.fetch(loc)).status).toBe(204);
    now = 2000;
    expect((await reg.fetch(`http://${DOMAIN}/v2/`)).status).toBe(200);
    expect((await reg.fetch(loc)).status).toBe(404);
    expect((await store.blobs.stats()).count).toBe(0);
  });
});

describe("a server that is not a registry", () => {
  it("answering every HEAD with its fallback page is refused, and no manifest is sent", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", APP);
    const sent: string[] = [];
    // A static server's single-page fallback: 200 and index.html for any path.
    const fallback: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      sent.push(`${req.method} ${new URL(req.url).pathname}`);
      return new Response(req.method === "HEAD" ? null : "<!doctype html>", {
        status: 200,
        headers: { "content-type": "text/html", "content-length": "15" },
      });
    };
    const err = await pushImage(local, img.id, `${DOMAIN}/team/app:1`, { fetch: fallback, retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(
      /answered a HEAD of layer sha256:[0-9a-f]+ with 15 bytes.*does not look like a registry/,
    );
    expect(sent.some((s) => s.startsWith("PUT") && s.includes("/manifests/"))).toBe(false);
  });
});

describe("a pull the store has no room for", () => {
  it("stops with a storage-full error and leaves nothing it stored behind", async () => {
    const { opts } = embedded();
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", APP);
    await pushImage(local, img.id, `${DOMAIN}/team/app:1`, opts);
    // Room for the first layers, not for all of them.
    const small = openMemoryStore(createMemoryBackend(), { quotaBytes: 400_000 });
    const err = await pullImage(small, `${DOMAIN}/team/app:1`, opts).catch((e: unknown) => e);
    expect(isStorageFull(err)).toBe(true);
    expect(await small.meta.list("images")).toEqual([]);
    expect(await small.blobs.list()).toEqual([]);
    // With room, the same pull works.
    const roomy = openMemoryStore();
    expect((await pullImage(roomy, `${DOMAIN}/team/app:1`, opts)).record.id).toBe(img.id);
  });
});
