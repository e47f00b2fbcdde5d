import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { openIndexedDbStore } from "../store/indexeddb.ts";
import { openMemoryStore } from "../store/memory.ts";
import { createContainerFs } from "./container.ts";
import { loadContainer, saveContainer, storeContentReader } from "./container-store.ts";
import { changeset, dirEntry, fileEntry } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";

const enc = new TextEncoder();

describe("containers persisted in the store", () => {
  it("round-trips a container layer through IndexedDB across a reopen", async () => {
    const name = `containers-${Date.now()}`;
    let store = await openIndexedDbStore(name);
    // The image's file lives in a stored "layer tar": bytes 10..15 of a blob.
    const tar = await store.blobs.put(enc.encode("0123456789HELLO-rest of the tar"));
    const image = stackLayers([
      changeset([
        dirEntry("etc"),
        fileEntry("etc/motd", 5, { content: { kind: "tar", blob: tar.digest, offset: 10 } }),
        dirEntry("tmp"),
        fileEntry("tmp/x", 1),
      ]),
    ]).top;
    const fs = createContainerFs(image, storeContentReader(store), { now: () => 1_000_000 });
    expect(await fs.readTextFile("/etc/motd")).toBe("HELLO");
    await fs.writeFile("/etc/motd", "welcome\n");
    await fs.mkdir("/srv/app", { recursive: true });
    await fs.writeFile("/srv/app/data", new Uint8Array([1, 2, 3]));
    await fs.rm("/tmp", { recursive: true });
    await fs.mkdir("/tmp");
    await fs.chmod("/etc", 0o700);
    const record = await saveContainer(
      store,
      { id: "c1", name: "web", image: `sha256:${"a".repeat(64)}`, createdAt: 5 },
      fs,
    );
    expect(record.changes).toMatch(/^sha256:/);
    store.close();

    store = await openIndexedDbStore(name);
    const { record: back, fs: restored } = await loadContainer(store, "c1", image, storeContentReader(store));
    expect(back).toEqual(record);
    expect(await restored.readTextFile("/etc/motd")).toBe("welcome\n");
    expect(await restored.readFile("/srv/app/data")).toEqual(new Uint8Array([1, 2, 3]));
    expect(await restored.readdir("/tmp")).toEqual([]);
    expect((await restored.stat("/tmp")).opaque).toBe(true);
    expect((await restored.stat("/etc")).mode).toBe(0o700);
    expect((await restored.stat("/etc/motd")).copiedUpFrom).toBe(0);
    expect(restored.changeset().whiteouts).toEqual(fs.changeset().whiteouts);
    expect(restored.changeset().entries.map((e) => e.path)).toEqual(
      fs.changeset().entries.map((e) => e.path),
    );

    // Saving again replaces the layer blob; resetting and saving leaves no layer blob.
    await restored.writeFile("/more", "m");
    const second = await saveContainer(store, back, restored);
    expect(await store.blobs.has(record.changes!)).toBe(false);
    restored.reset();
    const third = await saveContainer(store, second, restored);
    expect(third.changes).toBeUndefined();
    expect(await store.blobs.has(second.changes!)).toBe(false);
    store.close();
  });

  it("says clearly when a container or its layer is missing or damaged", async () => {
    const store = openMemoryStore();
    const image = stackLayers([]).top;
    await expect(loadContainer(store, "nope", image, storeContentReader(store))).rejects.toThrow(
      /no container nope/,
    );
    const bad = await store.blobs.put(enc.encode("{not json"));
    await store.meta.put("containers", {
      id: "c2",
      name: "x",
      image: `sha256:${"b".repeat(64)}`,
      createdAt: 0,
      changes: bad.digest,
    });
    await expect(loadContainer(store, "c2", image, storeContentReader(store))).rejects.toThrow(
      /not valid JSON/,
    );
    await expect(storeContentReader(store)({ kind: "synthetic", seed: 1 }, 3)).rejects.toThrow(/synthesized/);
  });
});
