import { describe, expect, it } from "vitest";
import { storeImage } from "../../testdata/registry/images.ts";
import { openMemoryStore } from "../store/memory.ts";
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
  const reg = new EmbeddedRegistry(openMemoryStore(), `http://${DOMAIN}`);
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
    const reg = new EmbeddedRegistry(openMemoryStore(), `http://${DOMAIN}`, 256 * 1024);
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
    const { opts } = embedded();
    const err = await pullImage(openMemoryStore(), `${DOMAIN}/nobody/here:1`, opts).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("name-unknown");
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    await pushImage(local, img.id, `${DOMAIN}/some/app:1`, opts);
    const err2 = await pullImage(openMemoryStore(), `${DOMAIN}/some/app:2`, opts).catch((e) => e);
    expect(err2.kind).toBe("manifest-unknown");
  });
});
