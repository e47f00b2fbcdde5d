import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { exportImage } from "../image/export.ts";
import { importArchive } from "../image/import.ts";
import { openMemoryStore } from "../store/memory.ts";
import { buildImage } from "./builder.ts";
import { builtinResolver } from "./builtins.ts";
import { contextFromFiles } from "./context.ts";

const catalog = async (file: string) =>
  new Uint8Array(await readFile(new URL(`../../../public/catalog/${file}`, import.meta.url)));

describe("layers of synthesized contents", () => {
  it("cost no storage, yet export writes the very tars their diffIds name", async () => {
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n",
      context: contextFromFiles({ "app.py": 'print("hi")\n' }),
      store,
      builtins: builtinResolver(catalog),
    });
    const layers = await Promise.all(r.layers.map((id) => store.meta.get("layers", id)));
    expect(layers.map((l) => Boolean(l?.synthesized))).toEqual([true, true, false]);
    const logical = layers.reduce((n, l) => n + (l?.size ?? 0), 0);
    const stored = (await store.blobs.stats()).bytes;
    expect(logical).toBeGreaterThan(100_000_000);
    expect(stored).toBeLessThan(logical / 20);

    for (const format of ["docker", "oci"] as const) {
      const parts: Uint8Array[] = [];
      for await (const c of exportImage(store, r.id, { format })) parts.push(c);
      const again = openMemoryStore();
      // The importer checks every layer's diffId against the config as the bytes stream past.
      const imported = await importArchive(
        again,
        (async function* () {
          yield* parts;
        })(),
      );
      expect(imported.images[0]!.record.layers).toEqual(r.layers);
    }
    // Two exports and re-imports of 145 MB of synthesized content: about 17 s alone, longer on a loaded machine.
  }, 180_000);
});
