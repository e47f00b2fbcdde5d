/**
 * Differential tests against a real builder: every case in src/testdata/builds/cases was built by
 * buildah over the busybox base (regenerate.sh); LayerLab builds it over the same base, imported
 * from the committed fixture, and the normalised results must be equal (compare-changes.py rules).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { contextFromDirectory } from "../../cli/commands/build.ts";
import { readTar } from "../archive/tar-reader.ts";
import { importArchive } from "../image/import.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { buildImage } from "./builder.ts";
import { compareNormal, type NormalImage, normaliseImage } from "./reference.ts";

const root = fileURLToPath(new URL("../../testdata/builds/", import.meta.url));
const cases = readdirSync(join(root, "cases")).sort();
/** The fixture base replaces bin/busybox's bytes by a placeholder (make-fixture-base.py). */
const SKIP = ["bin/busybox"];

async function baseStore(): Promise<Store> {
  const store = openMemoryStore();
  const bytes = new Uint8Array(gunzipSync(readFileSync(join(root, "bbase.tar.gz"))));
  await importArchive(
    store,
    (async function* () {
      yield bytes;
    })(),
  );
  return store;
}

describe("builds match buildah's (src/testdata/builds)", () => {
  let store: Store;
  beforeAll(async () => {
    store = await baseStore();
  });

  it("has goldens for every case", () => {
    const goldens = readdirSync(join(root, "golden")).map((f) => f.replace(/\.json$/, ""));
    expect(goldens.sort()).toEqual(cases);
  });

  it.each(cases)("%s", async (name) => {
    const dir = join(root, "cases", name);
    const result = await buildImage({
      dockerfile: readFileSync(join(dir, "Dockerfile"), "utf8"),
      context: contextFromDirectory(dir),
      store,
    });
    const golden = JSON.parse(readFileSync(join(root, "golden", `${name}.json`), "utf8")) as NormalImage;
    // buildah's vfs driver writes a whiteout per old child where LayerLab writes an opaque marker.
    const actual = await normaliseImage(store, result.id, { expandOpaque: true });
    expect(compareNormal(golden, actual, SKIP)).toEqual([]);
  });

  it("writes an opaque directory as an overlay builder does (src/testdata/builds/overlay)", async () => {
    const dir = join(root, "overlay");
    const result = await buildImage({
      dockerfile: readFileSync(join(dir, "Dockerfile"), "utf8"),
      context: contextFromDirectory(dir),
      store,
    });
    type Listed = { name: string; type: string; mode: string; size: number };
    const golden = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as { layers: Listed[][] };
    const image = await store.meta.get("images", result.id);
    const layers: Listed[][] = [];
    for (const id of (image?.layers ?? []).slice(1)) {
      const listed: Listed[] = [];
      for await (const { header } of readTar(store.blobs.stream(id))) {
        listed.push({
          name: header.name.replace(/\/$/, ""),
          type: header.type,
          mode: `0o${header.mode.toString(8)}`,
          size: header.size,
        });
      }
      layers.push(listed);
    }
    // Order inside a layer and the whiteout files' own modes differ by design (see the README).
    const comparable = (l: Listed[]) =>
      l
        .map((e) => (e.name.split("/").at(-1)?.startsWith(".wh.") ? { ...e, mode: "whiteout" } : e))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    expect(layers.map(comparable)).toEqual(golden.layers.map(comparable));
    const names = layers[1]?.map((e) => e.name);
    expect(names?.indexOf("opt/data/.wh..wh..opq")).toBe((names?.indexOf("opt/data") ?? -2) + 1);
  });
});
