import "fake-indexeddb/auto";
import { openAsBlob } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectBytes } from "../../core/archive/bytes.ts";
import { buildImage } from "../../core/builder/builder.ts";
import { contextFromFiles } from "../../core/builder/context.ts";
import { storeContentReader, storeResolver } from "../../core/builder/resolver.ts";
import { createSha256, sha256 } from "../../core/digest.ts";
import { DigestMismatchError } from "../../core/errors.ts";
import { readLayerIndex } from "../../core/image/describe.ts";
import { exportImage } from "../../core/image/export.ts";
import { importArchive } from "../../core/image/import.ts";
import { deleteImage } from "../../core/library/library.ts";
import { openIndexedDbStore } from "../../core/store/indexeddb.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import type { Store } from "../../core/store/types.ts";
import { FIXTURES, fixtureStream } from "./fixtures.ts";

let dbs = 0;
const kinds: [string, () => Promise<Store>][] = [
  ["memory", async () => openMemoryStore()],
  ["indexeddb", async () => openIndexedDbStore(`ll-derived-${++dbs}`)],
];

/** The first regular file of a layer with some content, and its bytes read through the store. */
async function readFirstFile(store: Store, layer: Parameters<typeof readLayerIndex>[1]) {
  const index = await readLayerIndex(store, layer);
  const e = index.entries.find((x) => x.type === "file" && x.size > 0)!;
  const bytes = await store.blobs.read(layer.id, (e.content as { offset: number }).offset, e.size);
  return { entry: e, bytes };
}

describe.each(kinds)("a compressed layer keeps only its blob as it came (%s store)", (_kind, open) => {
  it("stores no tar at import; the first read decodes, verifies and keeps it", async () => {
    const store = await open();
    const r = await importArchive(store, await openAsBlob(join(FIXTURES, "oci.tar")));
    const img = r.images.find((i) => i.record.names.includes("latest"))!;
    const layer = img.layers[0]!;
    expect(layer.blob).not.toBe(layer.id);
    expect(await store.blobs.has(layer.blob)).toBe(true);
    expect(await store.blobs.has(layer.id), "no tar stored at import").toBe(false);
    // Reads of one layer at once decode it once.
    const [a, b] = await Promise.all([readFirstFile(store, layer), readFirstFile(store, layer)]);
    expect(a.bytes).toEqual(b.bytes);
    expect(await sha256(a.bytes)).toBe(a.entry.digest);
    expect(await store.blobs.has(layer.id), "kept once read").toBe(true);
    const h = await createSha256();
    for await (const c of store.blobs.stream(layer.id)) h.update(c);
    expect(h.finish()).toBe(layer.id);
    store.close();
  });

  it("exports a docker-archive with the tars decoded on the way, storing nothing more", async () => {
    const store = await open();
    const r = await importArchive(store, fixtureStream("oci.tar"));
    const img = r.images.find((i) => i.record.names.includes("latest"))!;
    const before = await store.blobs.stats();
    const bytes = await collectBytes(exportImage(store, img.record.id, { format: "docker" }));
    expect(await store.blobs.stats()).toEqual(before);
    const back = await importArchive(
      openMemoryStore(),
      (async function* () {
        yield bytes;
      })(),
    );
    expect(back.images[0]!.record.layers).toEqual(img.record.layers);
    store.close();
  });

  it("deleting the image removes the decoded tar too", async () => {
    const store = await open();
    const r = await importArchive(store, fixtureStream("skopeo-docker-archive.tar"));
    const gz = await importArchive(store, fixtureStream("oci.tar"));
    for (const i of gz.images) for (const l of i.layers) if (l.blob !== l.id) await readFirstFile(store, l);
    for (const i of gz.images) await deleteImage(store, i.record.id).catch(() => undefined);
    for (const i of r.images) await deleteImage(store, i.record.id).catch(() => undefined);
    expect(await store.blobs.stats()).toEqual({ count: 0, bytes: 0 });
    store.close();
  });

  it("a build reads the image's files through the decoded tars", async () => {
    const store = await open();
    const r = await importArchive(store, fixtureStream("oci.tar"));
    const base = r.images.find((i) => i.record.names.includes("latest"))!;
    const built = await buildImage({
      // The fixture has no shell, so its files are read by COPY --from (as RUN's reads would be);
      // layer 2 rewrote /etc/os-release, so the merged file is its version.
      dockerfile: `FROM scratch\nCOPY --from=${base.record.id} /etc/os-release /seen\n`,
      context: contextFromFiles({}),
      store,
    });
    const img = await storeResolver(store).resolve(built.id);
    const seen = img!.layers.at(-1)!.changeset.entries.find((e) => e.path === "seen")!;
    const bytes = await storeContentReader(store)(seen.content!, seen.size);
    expect(new TextDecoder().decode(bytes)).toBe("base-os 2.0\n");
    store.close();
  });

  it("a stored blob that no longer decodes to its diffId is refused, and no tar is kept", async () => {
    const store = await open();
    const r = await importArchive(store, fixtureStream("oci.tar"));
    const layer = r.images[0]!.layers[0]!;
    // Point the layer at another gzip blob, as a damaged store would.
    const other = r.images.flatMap((i) => i.layers).find((l) => l.blob !== layer.blob && l.blob !== l.id)!;
    await store.meta.put("layers", { ...layer, blob: other.blob });
    const err = await store.blobs.read(layer.id, 0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(await store.blobs.has(layer.id)).toBe(false);
    store.close();
  });
});
