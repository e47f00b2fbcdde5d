import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureStream } from "../../testdata/archives/fixtures.ts";
import { writeTar } from "../archive/tar-writer.ts";
import { buildImage } from "../builder/builder.ts";
import { builtinResolver } from "../builder/builtins.ts";
import { contextFromFiles } from "../builder/context.ts";
import { fakeResolver } from "../builder/testing.ts";
import { sha256 } from "../digest.ts";
import type { Changeset } from "../fs/types.ts";
import { withDerivedTars } from "../store/derived.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { changesetTar } from "./changeset-tar.ts";
import { importArchive } from "./import.ts";
import {
  formatMode,
  formatRawEntry,
  listLayerEntries,
  listTarEntries,
  markerOf,
  openLayerTar,
  readRawImageDocuments,
} from "./raw-layer.ts";

async function collect(s: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of s) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** GNU tar's own listing of a tar, in UTC with numeric owners, fields split on runs of spaces. */
function gnuListing(bytes: Uint8Array): string[][] {
  const dir = mkdtempSync(join(tmpdir(), "raw-layer-"));
  const file = join(dir, "layer.tar");
  writeFileSync(file, bytes);
  const text = execFileSync("tar", ["--numeric-owner", "-tvf", file], {
    env: { ...process.env, TZ: "UTC", LC_ALL: "C" },
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
  });
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(/ +/));
}

const split = (line: string) => line.split(/ +/);

async function layerTarOf(store: Store, image: string, layer: number): Promise<Uint8Array> {
  const img = (await store.meta.get("images", image))!;
  const rec = (await store.meta.get("layers", img.layers[layer]!))!;
  return collect(await openLayerTar(store, rec));
}

describe("raw layer listing", () => {
  it("lists a built layer with a whiteout exactly as GNU tar -tv does", async () => {
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile:
        "FROM base\nRUN mkdir -p /work/cache && echo x > /work/cache/a && echo y > /work/notes && ln -s notes /work/link\nRUN rm /work/notes && rm -rf /work/cache && mkdir /work/cache && echo z > /work/cache/b\n",
      context: contextFromFiles({}),
      store,
      images: fakeResolver(store),
    });
    const top = r.layers.length - 1;
    const tar = await layerTarOf(store, r.id, top);
    const entries = await listTarEntries([tar]);
    expect(entries.find((e) => e.name === "work/.wh.notes")?.marker).toBe("whiteout");
    expect(entries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(tar));
    expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));

    // The layer before it, with a symlink, lists the same way too.
    const lower = await layerTarOf(store, r.id, top - 1);
    const lowerEntries = await listTarEntries([lower]);
    expect(lowerEntries.some((e) => e.type === "symlink" && e.linkname === "notes")).toBe(true);
    expect(lowerEntries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(lower));
  });

  it("lists a layer tar with an opaque directory and whiteouts exactly as GNU tar -tv does", async () => {
    // Written by the same writer the builder takes its layers' diffIds from.
    const cs: Changeset = {
      entries: [
        { path: "var", type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 },
        { path: "var/cache", type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 },
        {
          path: "var/cache/new",
          type: "file",
          mode: 0o640,
          uid: 1000,
          gid: 1000,
          size: 5,
          mtime: 0,
          content: { kind: "inline", bytes: new TextEncoder().encode("fresh") },
        },
      ],
      whiteouts: [
        { path: "var/cache", opaque: true },
        { path: "var/log", opaque: false },
      ],
    };
    const tar = await collect(
      changesetTar(cs, async (ref) => (ref.kind === "inline" ? ref.bytes : new Uint8Array(0)), 1_700_000_000),
    );
    const entries = await listTarEntries([tar]);
    expect(entries.filter((e) => e.marker).map((e) => [e.name, e.marker])).toEqual([
      ["var/.wh.log", "whiteout"],
      ["var/cache/.wh..wh..opq", "opaque"],
    ]);
    expect(entries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(tar));
  });

  it("lists the whiteouts umoci wrote in a real OCI archive exactly as GNU tar -tv does", async () => {
    const store = withDerivedTars(openMemoryStore());
    await importArchive(store, fixtureStream("oci.tar"));
    const images = await store.meta.list("images");
    const img = images.find((i) => i.layers.length === 3)!;
    const tar = await layerTarOf(store, img.id, 2);
    const entries = await listTarEntries([tar]);
    expect(entries.some((e) => e.marker === "whiteout")).toBe(true);
    expect(entries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(tar));
  });

  it("keeps archive order, PAX records, hardlinks and special modes as written", async () => {
    const long = `dir/${"n".repeat(120)}`;
    const tar = await collect(
      writeTar(
        (async function* () {
          yield {
            name: "z-first",
            type: "file" as const,
            mode: 0o4755,
            mtime: 86_400,
            body: new Uint8Array(3),
          };
          yield { name: "a-second/", type: "dir" as const, mode: 0o1777, mtime: 86_400 };
          yield { name: long, type: "file" as const, mode: 0o644, mtime: 86_400, body: new Uint8Array(0) };
          yield { name: "hard", type: "hardlink" as const, mode: 0o644, mtime: 86_400, linkname: "z-first" };
          yield {
            name: "x",
            type: "file" as const,
            mode: 0o600,
            mtime: 86_400,
            xattrs: { "user.k": "v" },
            body: new Uint8Array(0),
          };
        })(),
      ),
    );
    const entries = await listTarEntries([tar]);
    expect(entries.map((e) => e.name)).toEqual(["z-first", "a-second/", long, "hard", "x"]);
    expect(entries[4]!.pax?.["SCHILY.xattr.user.k"]).toBe("v");
    expect(formatMode("file", 0o4755)).toBe("-rwsr-xr-x");
    expect(formatMode("dir", 0o1777)).toBe("drwxrwxrwt");
    expect(entries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(tar));
  });

  it("lists a synthesized layer (a built-in base) as the tar its diffId names, without making its contents", async () => {
    const store = openMemoryStore();
    const catalog = async (file: string) =>
      new Uint8Array(await readFile(new URL(`../../../public/catalog/${file}`, import.meta.url)));
    const r = await buildImage({
      dockerfile: "FROM ubuntu:20.04\nRUN rm -rf /usr/share/doc\n",
      context: contextFromFiles({}),
      store,
      builtins: builtinResolver(catalog),
    });
    const rec = (await store.meta.get("layers", r.layers[0]!))!;
    expect(rec.synthesized).toBeDefined();
    const fast = await listLayerEntries(store, rec);
    const tar = await collect(await openLayerTar(store, rec));
    expect(await sha256(tar)).toBe(rec.id);
    expect(fast).toEqual(await listTarEntries([tar]));
    expect(fast.length).toBeGreaterThan(1000);
    const top = (await store.meta.get("layers", r.layers.at(-1)!))!;
    expect((await listLayerEntries(store, top)).some((e) => e.marker)).toBe(true);
  });

  it("lists a 50,000-entry layer in archive order, every entry GNU tar lists", async () => {
    const tar = await collect(
      writeTar(
        (async function* () {
          for (let d = 0; d < 500; d++) {
            yield { name: `d${d}/`, type: "dir" as const };
            for (let f = 0; f < 99; f++)
              yield { name: `d${d}/f${f}`, type: "file" as const, body: new Uint8Array(f % 3) };
          }
        })(),
      ),
    );
    const entries = await listTarEntries([tar]);
    expect(entries).toHaveLength(50_000);
    expect(entries.map((e) => split(formatRawEntry(e)))).toEqual(gnuListing(tar));
  });

  it("names markers by their base name only", () => {
    expect(markerOf("a/.wh..wh..opq")).toBe("opaque");
    expect(markerOf("a/.wh.b")).toBe("whiteout");
    expect(markerOf(".wh.x/y")).toBeUndefined();
    expect(markerOf("a/b.wh.c")).toBeUndefined();
  });

  it("reads the image's config and manifest as stored, pretty-printed", async () => {
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: "FROM base\nRUN echo hi > /f\n",
      context: contextFromFiles({}),
      store,
      images: fakeResolver(store),
    });
    const img = (await store.meta.get("images", r.id))!;
    const docs = await readRawImageDocuments(store, img);
    expect(docs.config.digest).toBe(img.config);
    expect(JSON.parse(docs.config.text).rootfs.diff_ids).toEqual(r.layers);
    expect(docs.config.text).toContain('\n  "rootfs": {');
    // A built image has no archive it came in: nothing to show as its index.json.
    expect(docs.archive).toEqual([]);
    expect(docs.source).toBe("build");
  });
});
