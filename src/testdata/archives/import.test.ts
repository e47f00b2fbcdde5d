import "fake-indexeddb/auto";
import { openAsBlob } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAll, readTar } from "../../core/archive/tar-reader.ts";
import { createSha256, sha256 } from "../../core/digest.ts";
import { ArchiveError, CancelledError } from "../../core/errors.ts";
import { describeImage, readLayerIndex } from "../../core/image/describe.ts";
import { type EntryJob, importArchive, ingestArchiveEntry } from "../../core/image/import.ts";
import { readRawImageDocuments } from "../../core/image/raw-layer.ts";
import { deleteImage } from "../../core/library/library.ts";
import { collectGarbage } from "../../core/store/gc.ts";
import { openIndexedDbStore } from "../../core/store/indexeddb.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import { FIXTURES, fixtureStream, snapshot } from "./fixtures.ts";

const DIFF_IDS = [
  "sha256:fdb505f0c618a2f7f0187eb62a0f62e75f28d8868f7af7d91dfbd5c5b4d14360",
  "sha256:df0b3022ea333cd834104e94dbb79e47f5156b62903be7d6f546f216234cdf22",
];

describe("importing real archives", () => {
  it("reads skopeo's docker-archive: tags, layers, config, entries with readable contents", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("skopeo-docker-archive.tar"));
    expect(r.images).toHaveLength(1);
    const im = r.images[0]!.record;
    expect(im.names).toEqual(["docker.io/library/ll-fix-app:latest"]);
    expect(im.layers).toEqual(DIFF_IDS);
    expect(im.platform).toBe("linux/amd64");
    const d = await describeImage(store, im, { files: true });
    expect(d.config).toMatchObject({
      Env: ["PATH=/bin", "APP_ENV=test"],
      Entrypoint: ["/bin/hello"],
      Cmd: ["--serve"],
      WorkingDir: "/srv/app",
      User: "app",
      ExposedPorts: { "8080/tcp": {} },
      Volumes: { "/data": {} },
    });
    expect(d.config.Labels?.["org.example.team"]).toBe("layers");
    expect(d.layers.map((l) => l.createdBy)).toEqual(["ADD r1.tar /", "ADD r2.tar /"]);
    const files = new Map(d.layers[0]!.files!.map((f) => [f.path, f]));
    expect(files.get("bin/hi")).toMatchObject({ type: "symlink", linkname: "hello" });
    expect(files.get("bin/hello-again")).toMatchObject({ type: "hardlink", linkname: "bin/hello" });
    expect(files.get("tmp")).toMatchObject({ type: "dir", mode: "1777" });
    const layer = r.images[0]!.layers[0]!;
    const index = await readLayerIndex(store, layer);
    const osRelease = index.entries.find((e) => e.path === "etc/os-release")!;
    expect(osRelease.content).toMatchObject({ kind: "tar", blob: DIFF_IDS[0] });
    const bytes = await store.blobs.read(
      layer.id,
      (osRelease.content as { offset: number }).offset,
      osRelease.size,
    );
    expect(new TextDecoder().decode(bytes)).toBe("base-os 1.0\n");
    expect(osRelease.digest).toBe(await sha256(bytes));
  });

  it("reads an OCI layout with two images, and stores shared layers once", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("skopeo-docker-archive.tar"));
    const r = await importArchive(store, fixtureStream("oci.tar"));
    // The first image has the config of the docker-archive's image: same ID, so its names merge.
    expect(r.images.map((i) => i.record.names)).toEqual([
      ["docker.io/library/ll-fix-app:latest", "latest"],
      ["whiteouts"],
    ]);
    expect(r.bytesShared).toBeGreaterThan(0);
    const wh = r.images.find((i) => i.record.names[0] === "whiteouts")!;
    expect(wh.record.layers.slice(0, 2)).toEqual(DIFF_IDS);
    const top = await readLayerIndex(store, wh.layers[2]!);
    expect(top.whiteouts).toEqual(expect.arrayContaining([{ path: "opt/keep", opaque: false }]));
    expect(top.whiteouts.map((w) => w.path)).toContain("opt/data");
    expect(top.entries.map((e) => e.path)).toContain("opt/new");
    const d = await describeImage(store, wh.record);
    expect(d.layers[0]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(d.layers[0]!.digest).not.toBe(d.layers[0]!.diffId);
  });

  it("reads zstd layers to the same diffIds", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("oci-zstd.tar"));
    expect(r.images[0]!.record.layers).toEqual(DIFF_IDS);
    expect(r.images[0]!.layers[0]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
  });

  it("reads a Docker 25+ save: manifest.json after the blobs, repeated empty layers, history matched", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("docker25.tar", 1000));
    const im = r.images[0]!.record;
    expect(im.names.sort()).toEqual(["docker.io/library/ll-fix-docker25:latest", "ll-fix-docker25:latest"]);
    expect(im.layers).toHaveLength(4);
    expect(im.layers[1]).toBe(im.layers[3]);
    const d = await describeImage(store, im);
    expect(d.layers.map((l) => l.createdBy)).toEqual([
      "ADD r1.tar / # buildkit",
      "RUN /bin/sh -c true # buildkit",
      "ADD r2.tar / # buildkit",
      "WORKDIR /srv/app # buildkit",
    ]);
  });

  it("picks a platform from a containerd-style nested index with unpulled platforms", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("multi-platform.tar"));
    expect(r.images).toHaveLength(1);
    expect(r.images[0]!.record.platform).toBe("linux/amd64");
    expect(r.images[0]!.record.names).toEqual(["example.com/ll/multi:1.0"]);
    const arm = await importArchive(openMemoryStore(), fixtureStream("multi-platform.tar"), {
      platform: "linux/arm64/v8",
    });
    expect(arm.images[0]!.record.platform).toBe("linux/arm64/v8");
    const before = await snapshot(store);
    const err = await importArchive(store, fixtureStream("multi-platform.tar"), {
      platform: "linux/s390x",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toMatch(
      /linux\/s390x is not in the archive \(present: linux\/amd64, linux\/arm64\/v8\)/,
    );
    expect(await snapshot(store)).toEqual(before);
  });

  it("reports progress, and a cancelled import leaves the store exactly as it was", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("oci.tar"));
    const before = await snapshot(store);
    const progress: number[] = [];
    const ac = new AbortController();
    const err = await importArchive(store, fixtureStream("docker25.tar", 2048), {
      signal: ac.signal,
      onProgress: (p) => {
        progress.push(p.bytesRead);
        if (p.layersDone >= 2) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(progress.length).toBeGreaterThan(2);
    expect(await snapshot(store)).toEqual(before);
    const done = await importArchive(store, fixtureStream("docker25.tar"), {
      onProgress: (p) => progress.push(p.layersDone),
    });
    expect(done.images).toHaveLength(1);
  });
});

let dbSeq = 0;
/** The bytes of one top-level file of a fixture archive, read with the tar reader. */
async function archiveFile(name: string, path: string): Promise<Uint8Array | undefined> {
  for await (const { header, body } of readTar(fixtureStream(name))) {
    if (header.name.replace(/^\.\//, "") === path) return readAll(body, 2 ** 24, path);
    for await (const _ of body);
  }
  return undefined;
}

describe("the archive's own index.json and manifest.json are kept with its images (for the Raw view)", () => {
  it("an OCI archive's index.json, byte for byte, shared by its two images and shown by the Raw view", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("oci.tar"));
    const expected = (await archiveFile("oci.tar", "index.json"))!;
    expect(r.images).toHaveLength(2);
    for (const { record } of r.images) {
      expect(record.archiveJson).toEqual([{ path: "index.json", digest: await sha256(expected) }]);
      expect(await store.blobs.get(record.archiveJson![0]!.digest)).toEqual(expected);
    }
    const docs = await readRawImageDocuments(store, r.images[0]!.record);
    expect(docs.source).toBe("import");
    expect(docs.archive.map((d) => d.path)).toEqual(["index.json"]);
    expect(JSON.parse(docs.archive[0]!.text)).toEqual(JSON.parse(new TextDecoder().decode(expected)));
    expect(docs.archive[0]!.text).toContain('\n  "manifests": [');
    // Deleting one image keeps the index the other still names; deleting both frees it.
    const digest = r.images[0]!.record.archiveJson![0]!.digest;
    await deleteImage(store, r.images[0]!.record.id);
    expect(await store.blobs.has(digest)).toBe(true);
    await deleteImage(store, r.images[1]!.record.id);
    expect(await store.blobs.has(digest)).toBe(false);
  });

  it("a Docker 25+ save keeps both index.json and manifest.json; a legacy docker save its manifest.json", async () => {
    const store = openMemoryStore();
    const docker25 = (await importArchive(store, fixtureStream("docker25.tar"))).images[0]!.record;
    expect(docker25.archiveJson?.map((j) => j.path)).toEqual(["index.json", "manifest.json"]);
    for (const j of docker25.archiveJson!)
      expect(await store.blobs.get(j.digest)).toEqual(await archiveFile("docker25.tar", j.path));
    const legacy = (await importArchive(openMemoryStore(), fixtureStream("skopeo-docker-archive.tar")))
      .images[0]!.record;
    expect(legacy.archiveJson?.map((j) => j.path)).toEqual(["manifest.json"]);
  });

  it("a garbage collection keeps the kept JSON (an image names it)", async () => {
    const store = openMemoryStore();
    const r = await importArchive(store, fixtureStream("oci.tar"));
    await collectGarbage(store);
    const digest = r.images[0]!.record.archiveJson![0]!.digest;
    expect(await store.blobs.has(digest)).toBe(true);
  });
});

describe("importing from a File or Blob (headers by offset, entries in parallel)", () => {
  it.each(["skopeo-docker-archive.tar", "oci.tar", "oci-zstd.tar", "docker25.tar", "multi-platform.tar"])(
    "%s gives the same images and blobs as the stream",
    async (name) => {
      const streamed = openMemoryStore();
      await importArchive(streamed, fixtureStream(name));
      for (const [concurrency, workers, kind] of [
        [1, false, "memory"],
        [3, false, "memory"],
        // Workers read a layer's slice whole for a one-shot digest, or (over the limit) stream it.
        [3, "whole", "memory"],
        [3, "streamed", "memory"],
        // IndexedDB adopts the File's slices as Blobs: the stored bytes must still be exactly right.
        [1, false, "indexeddb"],
        [3, "whole", "indexeddb"],
        [3, "streamed", "indexeddb"],
        // As src/worker/ingest-pool.ts runs them: the import stores what they leave, and each
        // layer read whole reuses the memory of one before.
        [3, "whole, left", "memory"],
        [3, "whole, left", "indexeddb"],
        [3, "streamed, left", "indexeddb"],
      ] as const) {
        const sliced = kind === "memory" ? openMemoryStore() : await openIndexedDbStore(`ll-blob-${++dbSeq}`);
        const progress: number[] = [];
        const file = await openAsBlob(join(FIXTURES, name));
        const readBuffer = {};
        await importArchive(sliced, file, {
          concurrency,
          onProgress: (p) => progress.push(p.bytesRead),
          // As a worker pool would: each large entry ingested from its own slice into the same store.
          ...(workers
            ? {
                ingestEntry: (job: EntryJob) =>
                  ingestArchiveEntry(sliced, file.slice(job.start, job.end), job.path, {
                    wholeDigestMaxBytes: workers.startsWith("whole") ? undefined : 0,
                    leaveWrites: workers.endsWith("left"),
                    ...(workers.endsWith("left") ? { readBuffer } : {}),
                  }),
                remoteMinBytes: 1,
              }
            : {}),
        });
        const a = await snapshot(streamed);
        const b = await snapshot(sliced);
        expect(b.blobs).toEqual(a.blobs);
        expect(b.layers).toEqual(a.layers);
        expect(b.images.map((i) => ({ ...i, storedAt: 0 }))).toEqual(
          a.images.map((i) => ({ ...i, storedAt: 0 })),
        );
        expect(progress.at(-1)).toBeGreaterThan(0);
        for (const { digest } of await sliced.blobs.list()) {
          const h = await createSha256();
          for await (const c of sliced.blobs.stream(digest)) h.update(c);
          expect(h.finish(), `${kind}: bytes of ${digest}`).toBe(digest);
        }
        sliced.close();
      }
    },
  );
});

describe("a cancelled import from a Blob", () => {
  it("stops every parallel entry and leaves the store as it was", async () => {
    const store = openMemoryStore();
    await importArchive(store, fixtureStream("skopeo-docker-archive.tar"));
    const before = await snapshot(store);
    const ac = new AbortController();
    const err = await importArchive(store, await openAsBlob(join(FIXTURES, "oci.tar")), {
      concurrency: 4,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.layersDone >= 1) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(await snapshot(store)).toEqual(before);
  });
});

let dbs = 0;
describe.each([
  ["memory", async () => openMemoryStore()],
  ["indexeddb (fake-indexeddb)", async () => openIndexedDbStore(`ll-import-${++dbs}`)],
] as const)("import into the %s store", (_kind, open) => {
  it("stores every fixture, reads file contents by range, and a failed import changes nothing", async () => {
    const store = await open();
    for (const f of [
      "skopeo-docker-archive.tar",
      "oci.tar",
      "oci-zstd.tar",
      "docker25.tar",
      "multi-platform.tar",
    ]) {
      await importArchive(store, fixtureStream(f, 3000));
    }
    const images = await store.meta.list("images");
    // ll-fix-app (docker-archive, OCI latest, zstd and the multi-platform amd64 share one config), whiteouts, docker25.
    expect(images.length).toBe(3);
    const layer = (await store.meta.get("layers", DIFF_IDS[1]!))!;
    const index = await readLayerIndex(store, layer);
    const main = index.entries.find((e) => e.path === "srv/app/main.py")!;
    const bytes = await store.blobs.read(layer.id, (main.content as { offset: number }).offset, main.size);
    expect(new TextDecoder().decode(bytes)).toBe('print("app")\n');
    const before = await snapshot(store);
    const ac = new AbortController();
    const err = await importArchive(store, fixtureStream("oci.tar", 1024), {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.bytesRead > 8000) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(await snapshot(store)).toEqual(before);
    store.close();
  });
});
