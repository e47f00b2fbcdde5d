import { describe, expect, it } from "vitest";
import { collectBytes, streamBytes } from "../archive/bytes.ts";
import { gzip } from "../archive/compression.ts";
import { type TarWriteEntry, writeTar } from "../archive/tar-writer.ts";
import { sha256 } from "../digest.ts";
import { openMemoryStore } from "../store/memory.ts";
import { describeImage, readLayerIndex } from "./describe.ts";
import { exportImage } from "./export.ts";
import { importArchive, ingestArchiveEntry } from "./import.ts";
import { cleanEntryPath } from "./layer-index.ts";
import {
  type ArchiveImage,
  memoryBlob,
  minimalConfig,
  qualifiedName,
  taggedName,
  writeDockerArchive,
  writeLegacyDockerArchive,
  writeOciArchive,
} from "./layout-writer.ts";

const te = new TextEncoder();

async function image(layers: TarWriteEntry[][], compress = false): Promise<ArchiveImage> {
  const tars = await Promise.all(layers.map((l) => collectBytes(writeTar(l))));
  const blobs = await Promise.all(tars.map((t) => (compress ? collectBytes(gzip(streamBytes(t))) : t)));
  const config = minimalConfig(await Promise.all(tars.map((t) => sha256(t))), {
    history: [
      { created_by: "ADD a" },
      { created_by: "ENV X=1", empty_layer: true },
      { created_by: "RUN rm" },
    ],
    config: { Env: ["X=1"], Cmd: ["sh"] },
  });
  return {
    names: ["demo:1"],
    config: te.encode(JSON.stringify(config)),
    layers: await Promise.all(
      blobs.map(async (b) => ({
        ...(await memoryBlob(b)),
        mediaType: compress
          ? "application/vnd.oci.image.layer.v1.tar+gzip"
          : "application/vnd.oci.image.layer.v1.tar",
      })),
    ),
  };
}

const layers: TarWriteEntry[][] = [
  [
    { name: "./etc/", type: "dir" },
    { name: "./etc/hosts", body: te.encode("127.0.0.1 localhost\n") },
    { name: "./var/cache/", type: "dir" },
    { name: "./var/cache/a", body: te.encode("a") },
  ],
  [
    { name: "etc/.wh.hosts", body: new Uint8Array(0) },
    { name: "var/cache/.wh..wh..opq", body: new Uint8Array(0) },
    { name: "var/cache/b", body: te.encode("b") },
  ],
];

describe("importArchive", () => {
  for (const [label, write, compress] of [
    ["legacy docker save", writeLegacyDockerArchive, false],
    ["Docker 25+ save", writeDockerArchive, false],
    ["OCI layout, gzip", writeOciArchive, true],
  ] as const) {
    it(`reads a ${label} written by the layout writer, whiteouts and all`, async () => {
      const store = openMemoryStore();
      const archive = await collectBytes(write([await image(layers, compress)]));
      const r = await importArchive(store, streamBytes(archive, [3000]));
      expect(r.images).toHaveLength(1);
      expect(r.images[0]!.record.names).toContain("demo:1");
      const top = await readLayerIndex(store, r.images[0]!.layers[1]!);
      expect(top.whiteouts).toEqual([
        { path: "etc/hosts", opaque: false },
        { path: "var/cache", opaque: true },
      ]);
      expect(top.entries.map((e) => e.path)).toEqual(["var/cache/b"]);
      const d = await describeImage(store, r.images[0]!.record);
      expect(d.layers.map((l) => l.createdBy)).toEqual(["ADD a", "RUN rm"]);
      expect(d.config).toEqual({ Env: ["X=1"], Cmd: ["sh"] });
    });
  }

  it("reads a layer whose tar happens to start with '{' (held as JSON first)", async () => {
    const store = openMemoryStore();
    const odd = [[{ name: "{weird}", body: te.encode("x") }], layers[1]!];
    const archive = await collectBytes(writeDockerArchive([await image(odd)]));
    const r = await importArchive(store, streamBytes(archive));
    const first = await readLayerIndex(store, r.images[0]!.layers[0]!);
    expect(first.entries.map((e) => e.path)).toEqual(["{weird}"]);
  });

  it("exports the same bytes twice and re-imports to the same image", async () => {
    const store = openMemoryStore();
    const archive = await collectBytes(writeOciArchive([await image(layers, true)]));
    const r = await importArchive(store, streamBytes(archive));
    const id = r.images[0]!.record.id;
    for (const format of ["docker", "oci"] as const) {
      const a = await collectBytes(exportImage(store, id, { format }));
      const b = await collectBytes(exportImage(store, id, { format }));
      expect(a).toEqual(b);
      const back = await importArchive(openMemoryStore(), streamBytes(a));
      expect(back.images[0]!.record.id).toBe(id);
      expect(back.images[0]!.record.layers).toEqual(r.images[0]!.record.layers);
    }
  });

  it("counts shared bytes when a layer is already stored", async () => {
    const store = openMemoryStore();
    const archive = await collectBytes(writeOciArchive([await image(layers, true)]));
    const first = await importArchive(store, streamBytes(archive));
    expect(first.bytesShared).toBe(0);
    const again = await importArchive(store, streamBytes(archive));
    expect(again.bytesAdded).toBe(0);
    expect(again.bytesShared).toBe(first.bytesAdded);
  });
});

describe("importArchive and layers stored before", () => {
  it("keeps a stored layer's record and index, leaving no orphan blob from a re-import", async () => {
    const store = openMemoryStore();
    const archive = await collectBytes(writeOciArchive([await image(layers, true)]));
    await importArchive(store, streamBytes(archive), { hashFiles: false });
    const before = (await store.blobs.list()).length;
    const layerBefore = await store.meta.list("layers");
    const again = await importArchive(store, streamBytes(archive), { hashFiles: true });
    expect((await store.blobs.list()).length).toBe(before);
    expect(await store.meta.list("layers")).toEqual(layerBefore);
    expect(again.blobsAdded).toBe(0);
  });
});

describe("importArchive sources and platforms", () => {
  it("reads a browser-style File stream, with or without async iteration", async () => {
    const archive = await collectBytes(writeOciArchive([await image(layers, true)]));
    const file = new Blob([archive as Uint8Array<ArrayBuffer>]);
    const a = await importArchive(openMemoryStore(), file.stream());
    const plain = { getReader: () => file.stream().getReader() } as unknown as ReadableStream<Uint8Array>;
    const b = await importArchive(openMemoryStore(), plain);
    expect(b.images[0]!.record.id).toBe(a.images[0]!.record.id);
  });

  it("skips a platform whose manifest is present but whose layers were never pulled", async () => {
    const amd = await image(layers, true);
    const armConfig = JSON.parse(new TextDecoder().decode(amd.config));
    armConfig.architecture = "arm64";
    const arm: ArchiveImage = { ...amd, config: te.encode(JSON.stringify(armConfig)) };
    const missingLayer = await memoryBlob(te.encode("never pulled"));
    const armManifest = te.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: await sha256(arm.config),
          size: arm.config.byteLength,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: missingLayer.digest, size: 12 },
        ],
      }),
    );
    // Write both images, then drop the arm layer blob and wrap both manifests in one index.
    const entries = new Map<string, Uint8Array>();
    const { readTar, readAll } = await import("../archive/tar-reader.ts");
    const both = await collectBytes(writeOciArchive([{ ...arm, manifest: armManifest, layers: [] }, amd]));
    for await (const e of readTar(streamBytes(both))) {
      if (e.header.type === "file") entries.set(e.header.name, await readAll(e.body, 1 << 20));
    }
    const amdManifest = JSON.parse(new TextDecoder().decode(entries.get("index.json"))).manifests[1];
    const nested = te.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: await sha256(armManifest),
            size: armManifest.byteLength,
            platform: { os: "linux", architecture: "arm64" },
          },
          { ...amdManifest, platform: { os: "linux", architecture: "amd64" } },
        ],
      }),
    );
    entries.set(`blobs/sha256/${(await sha256(nested)).slice(7)}`, nested);
    entries.set(
      "index.json",
      te.encode(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: "application/vnd.oci.image.index.v1+json",
              digest: await sha256(nested),
              size: nested.byteLength,
            },
          ],
        }),
      ),
    );
    const archive = await collectBytes(writeTar([...entries].map(([name, body]) => ({ name, body }))));
    const r = await importArchive(openMemoryStore(), streamBytes(archive), { platform: undefined });
    expect(r.images[0]!.record.platform).toBe("linux/amd64");
    await expect(
      importArchive(openMemoryStore(), streamBytes(archive), { platform: "linux/arm64" }),
    ).rejects.toThrow(/linux\/arm64 is not in the archive \(present: linux\/amd64\)/);
  });
});

describe("names in written archives", () => {
  it("makes tags explicit for docker load and qualifies names as containerd does", () => {
    expect(taggedName("bbase")).toBe("bbase:latest");
    expect(taggedName("localhost:5000/x")).toBe("localhost:5000/x:latest");
    expect(qualifiedName("bbase")).toBe("docker.io/library/bbase:latest");
    expect(qualifiedName("me/app:1")).toBe("docker.io/me/app:1");
    expect(qualifiedName("ghcr.io/me/app:1")).toBe("ghcr.io/me/app:1");
  });
});

describe("cleanEntryPath", () => {
  it("cleans ./ prefixes, double and trailing slashes; refuses .. and absolute paths", () => {
    expect(cleanEntryPath("./etc//passwd")).toBe("etc/passwd");
    expect(cleanEntryPath("usr/bin/")).toBe("usr/bin");
    expect(cleanEntryPath("./")).toBe("");
    expect(() => cleanEntryPath("a/../../b")).toThrow(/'\.\.' in path refused/);
    expect(() => cleanEntryPath("/etc/passwd")).toThrow(/absolute path refused/);
  });
});

describe("a layer slice that reads short (the file changed on disk after it was picked)", () => {
  it.each([
    ["read whole", undefined],
    ["streamed", 0],
  ])("is refused as truncated when %s, and nothing is stored", async (_how, wholeDigestMaxBytes) => {
    const tar = await collectBytes(writeTar([{ name: "a.txt", body: te.encode("hello\n") }]));
    const layer = await collectBytes(gzip(streamBytes(tar)));
    // A Blob whose size promises more bytes than it holds, as a File does when it shrank.
    class ShortBlob extends Blob {
      override get size() {
        return super.size + 100;
      }
    }
    const store = openMemoryStore();
    const r = await ingestArchiveEntry(store, new ShortBlob([layer as Uint8Array<ArrayBuffer>]), "l.gz", {
      wholeDigestMaxBytes,
    });
    // Not a readable layer: the import refuses it, naming the entry, if a manifest lists it.
    expect(r.digest).toBeUndefined();
    expect("failed" in r && r.failed.message).toMatch(/truncated: read \d+ of its \d+ bytes/);
    expect(await store.blobs.list()).toEqual([]);
  });
});

describe("importArchive with blobsOnly (what `layerlab push` reads an archive with)", () => {
  it("stores compressed layers as they came, never decompressed, under the config's diffIds", async () => {
    const img = await image(layers, true);
    const archive = await collectBytes(writeOciArchive([img]));
    const store = openMemoryStore();
    const r = await importArchive(store, streamBytes(archive, [3000]), { blobsOnly: true });
    const got = r.images[0]!.layers;
    const config = JSON.parse(new TextDecoder().decode(img.config));
    expect(got.map((l) => l.id)).toEqual(config.rootfs.diff_ids);
    expect(got.map((l) => l.blob)).toEqual(img.layers.map((l) => l.digest));
    // No entry index and no uncompressed tar: the contents were never read.
    expect(got.every((l) => l.index === undefined)).toBe(true);
    for (const l of got) expect(await store.blobs.has(l.id)).toBe(false);
  });

  it("still refuses a layer whose bytes do not match the digest it is stored under", async () => {
    const img = await image(layers, true);
    const archive = await collectBytes(writeOciArchive([img]));
    // Flip a byte inside the first layer blob (past its gzip header).
    const victim = img.layers[0]!;
    const bytes = await collectBytes(victim.open());
    const at = indexOf(archive, bytes.subarray(0, 64));
    expect(at).toBeGreaterThan(0);
    archive[at + 20] = archive[at + 20]! ^ 0xff;
    const store = openMemoryStore();
    await expect(importArchive(store, streamBytes(archive, [3000]), { blobsOnly: true })).rejects.toThrow(
      /digest|sha256/,
    );
    expect(await store.meta.list("images")).toEqual([]);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
