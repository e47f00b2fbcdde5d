import { describe, expect, it } from "vitest";
import { fixtureStream, snapshot } from "../../testdata/archives/fixtures.ts";
import { buildImage } from "../builder/builder.ts";
import { contextFromFiles } from "../builder/context.ts";
import type { Digest } from "../digest.ts";
import { importArchive } from "../image/import.ts";
import { deleteImage } from "../library/library.ts";
import { EmbeddedRegistry } from "../registry/embedded.ts";
import { blobSourcePuts, readCompressed } from "../registry/provenance.ts";
import { pushImage } from "../registry/push.ts";
import { readTransfers } from "../registry/transfer.ts";
import { pseudoRandomBytes } from "./conformance.ts";
import { collectGarbage, REGISTRY_KV } from "./gc.ts";
import { openMemoryStore } from "./memory.ts";
import type { Store } from "./types.ts";

const DOMAIN = "localhost:5998";

/** A store holding a built image (its layers are plain tars), pushed once to a registry over a second store. */
async function pushedStore(): Promise<{ local: Store; remote: Store; image: Digest; gz: Digest[] }> {
  const local = openMemoryStore();
  const remote = openMemoryStore();
  const reg = new EmbeddedRegistry(remote);
  const built = await buildImage({
    dockerfile: "FROM scratch\nCOPY a /a\nCOPY b /b\n",
    context: contextFromFiles({ a: pseudoRandomBytes(3000, 1), b: pseudoRandomBytes(2000, 2) }),
    store: local,
  });
  // Without its manifest, a push cannot send the tars as stored: it gzips each layer once and keeps that.
  const { manifest: _manifest, ...image } = (await local.meta.get("images", built.id))!;
  await local.meta.put("images", image);
  await local.blobs.delete(built.manifest);
  await pushImage(local, image.id, `${DOMAIN}/team/app:1`, { fetch: reg.fetch, retries: 0 });
  const gz: Digest[] = [];
  for (const l of image.layers) {
    const c = await readCompressed(local.meta, l);
    if (c) gz.push(c.digest);
  }
  return { local, remote, image: image.id, gz };
}

const kvKeys = async (s: Store, prefix: string) =>
  (await s.meta.list("kv")).map((r) => r.id).filter((id) => id.startsWith(prefix));

describe("collection and the registry's settings", () => {
  it("keeps the gzip a pushed layer was compressed to while the layer lives, and the registry's own blobs", async () => {
    const { local, remote, image, gz } = await pushedStore();
    // The push gzipped each tar-only layer once and kept it, so a second push sends the same digest.
    expect(gz.length).toBeGreaterThan(0);
    for (const d of gz) expect(await local.blobs.has(d)).toBe(true);
    expect(await readTransfers(local.meta, image)).toHaveLength(1);
    const before = await snapshot(local);
    expect(await collectGarbage(local)).toEqual({ blobs: 0, bytes: 0, layers: 0 });
    expect(await snapshot(local)).toEqual(before);
    // The registry's store: its blobs are named only by its repository settings.
    const remoteBlobs = await remote.blobs.list();
    expect(remoteBlobs.length).toBe(gz.length + 2);
    expect(await collectGarbage(remote)).toEqual({ blobs: 0, bytes: 0, layers: 0 });
    expect(await remote.blobs.list()).toEqual(remoteBlobs);
  });

  it("a manifest the registry holds by digest alone (no tag names it) is kept", async () => {
    const local = openMemoryStore();
    const remote = openMemoryStore();
    const reg = new EmbeddedRegistry(remote);
    const image = (await importArchive(local, fixtureStream("docker25.tar"))).images[0]!.record;
    const opts = { fetch: reg.fetch, retries: 0 };
    const { manifestDigest } = await pushImage(local, image.id, `${DOMAIN}/team/app:1`, opts);
    await pushImage(local, image.id, `${DOMAIN}/team/other@${manifestDigest}`, opts);
    // Only the digest push's repository names the manifest: drop the tagged one.
    await remote.meta.delete("kv", `${REGISTRY_KV.repo}team/app`);
    expect(await collectGarbage(remote)).toEqual({ blobs: 0, bytes: 0, layers: 0 });
    expect(await remote.blobs.has(manifestDigest)).toBe(true);
  });

  it("deleting the image removes the gzip copies of its layers and its transfers with it", async () => {
    const { local, image, gz } = await pushedStore();
    await deleteImage(local, image);
    for (const d of gz) expect(await local.blobs.has(d)).toBe(false);
    expect(await kvKeys(local, REGISTRY_KV.compressed)).toEqual([]);
    expect(await kvKeys(local, REGISTRY_KV.transfers)).toEqual([]);
    expect((await local.blobs.stats()).count).toBe(0);
  });

  it("collects the settings, and the gzip copies, that outlived their image (a tab closed mid-delete)", async () => {
    const { local, image, gz } = await pushedStore();
    const rec = (await local.meta.get("images", image))!;
    // What a delete cut short leaves: layer records, blobs and settings nothing uses.
    await local.meta.delete("images", image);
    // And the sources of a blob that is gone, beside those of one an image still uses.
    const live = await local.blobs.put(pseudoRandomBytes(100, 3));
    await local.meta.put("images", {
      id: live.digest,
      config: live.digest,
      layers: [],
      names: ["x"],
      source: "import",
      storedAt: 1,
    });
    await local.meta.apply({
      put: { kv: await blobSourcePuts(local.meta, [live.digest, gz[0]!], DOMAIN, "team/app") },
    });
    const registryKeys = async () =>
      (await local.meta.list("kv")).filter((r) => Object.values(REGISTRY_KV).some((p) => r.id.startsWith(p)));
    const settingsBefore = (await registryKeys()).length;
    const report = await collectGarbage(local);
    for (const d of gz) expect(await local.blobs.has(d)).toBe(false);
    expect(report.layers).toBe(rec.layers.length);
    // Every compressed copy, the transfer of the gone image, and the sources of the gone blobs.
    expect(await kvKeys(local, REGISTRY_KV.compressed)).toEqual([]);
    expect(await kvKeys(local, REGISTRY_KV.transfers)).toEqual([]);
    expect(await kvKeys(local, REGISTRY_KV.sources)).toEqual([`${REGISTRY_KV.sources}${live.digest}`]);
    expect(report.settings).toBe(settingsBefore - 1);
    // What is left: the one image nothing was taken from.
    expect((await local.blobs.list()).map((b) => b.digest)).toEqual([live.digest]);
  });
});
