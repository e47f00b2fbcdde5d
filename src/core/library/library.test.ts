import { describe, expect, it } from "vitest";
import type { Digest } from "../digest.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { compareImages, deleteImage, findImage, summarizeLibrary } from "./library.ts";

async function putLayer(store: Store, text: string, size: number): Promise<LayerRecord> {
  const tar = await store.blobs.put(new TextEncoder().encode(`${text}`.padEnd(size, ".")));
  const rec: LayerRecord = {
    id: tar.digest,
    blob: tar.digest,
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    blobSize: size,
    size,
  };
  await store.meta.put("layers", rec);
  return rec;
}

async function putImage(
  store: Store,
  names: string[],
  layers: LayerRecord[],
  at: number,
): Promise<ImageRecord> {
  const cfg = await store.blobs.put(
    new TextEncoder().encode(JSON.stringify({ names, layers: layers.map((l) => l.id) })),
  );
  const img: ImageRecord = {
    id: cfg.digest,
    names,
    source: "build",
    layers: layers.map((l) => l.id),
    config: cfg.digest,
    storedAt: at,
  };
  await store.meta.put("images", img);
  return img;
}

describe("image library", () => {
  it("counts shared layers once and reports the bytes saved", async () => {
    const store = openMemoryStore();
    const base = await putLayer(store, "base", 1000);
    const run = await putLayer(store, "run", 300);
    const copy = await putLayer(store, "copy", 20);
    const edit = await putLayer(store, "edit", 5);
    const demo = await putImage(store, ["demo:latest"], [base, run, copy], 1);
    await putImage(store, ["demo:edited"], [base, run, copy, edit], 2);
    const lib = summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers"));
    expect(lib.images.map((i) => i.names[0])).toEqual(["demo:latest", "demo:edited"]);
    expect(lib.images[0]!.layers.map((l) => l.sharedWith)).toEqual([1, 1, 1]);
    expect(lib.images[1]!.layers.map((l) => l.sharedWith)).toEqual([1, 1, 1, 0]);
    expect(lib.logicalBytes).toBe(1320 + 1325);
    expect(lib.storedBytes).toBe(1325);
    expect(lib.savedBytes).toBe(1320);
    expect(findImage(await store.meta.list("images"), "demo")?.id).toBe(demo.id);
    expect(findImage(await store.meta.list("images"), demo.id.slice(7, 19))?.id).toBe(demo.id);
  });

  it("deleting an image removes only the blobs no other image uses", async () => {
    const store = openMemoryStore();
    const base = await putLayer(store, "base", 1000);
    const mine = await putLayer(store, "mine", 50);
    const a = await putImage(store, ["a:1"], [base], 1);
    const b = await putImage(store, ["b:1"], [base, mine], 2);
    const r = await deleteImage(store, b.id);
    expect(r.removedBlobs).toBe(2); // its config and its own layer
    expect(await store.blobs.has(base.id)).toBe(true);
    expect(await store.blobs.has(mine.id)).toBe(false);
    expect(await store.meta.get("layers", base.id)).toBeDefined();
    expect(await store.meta.get("layers", mine.id)).toBeUndefined();
    await deleteImage(store, a.id);
    expect((await store.blobs.stats()).count).toBe(0);
    await expect(deleteImage(store, a.id)).rejects.toThrow(/no image/);
  });

  it("refuses to delete an image whose container has changes; clean containers go with it", async () => {
    const store = openMemoryStore();
    const img = await putImage(store, ["x:1"], [await putLayer(store, "l", 10)], 1);
    const changes = (await store.blobs.put(new TextEncoder().encode("{}"))).digest;
    await store.meta.put("containers", {
      id: "c1",
      name: "busy",
      image: img.id as Digest,
      createdAt: 1,
      changes,
    });
    await store.meta.put("containers", { id: "c2", name: "idle", image: img.id as Digest, createdAt: 2 });
    await expect(deleteImage(store, img.id)).rejects.toThrow(/used by container busy, which has changes/);
    expect(await store.meta.get("images", img.id)).toBeDefined();
    await store.meta.delete("containers", "c1");
    await deleteImage(store, img.id);
    expect(await store.meta.list("containers")).toEqual([]);
  });
});

describe("comparing two images", () => {
  it("lines up their layers and says what only one of them has", async () => {
    const store = openMemoryStore();
    const base = await putLayer(store, "base", 1000);
    const run = await putLayer(store, "run", 300);
    const a1 = await putLayer(store, "copy-a", 20);
    const b1 = await putLayer(store, "copy-b", 25);
    const b2 = await putLayer(store, "extra", 5);
    await putImage(store, ["a:1"], [base, run, a1], 1);
    await putImage(store, ["b:1"], [base, run, b1, b2], 2);
    const lib = summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers"));
    const c = compareImages(lib.images[0]!, lib.images[1]!);
    expect(c.rows.map((r) => r.shared)).toEqual([true, true, false, false]);
    expect(c.rows[3]!.a).toBeUndefined();
    expect(c.sharedBytes).toBe(1300);
    expect(c.onlyA).toBe(20);
    expect(c.onlyB).toBe(30);
  });
});
