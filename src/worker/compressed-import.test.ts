/**
 * The page's import of a compressed image archive (`docker save | gzip > x.tar.gz`, or zstd): the
 * worker's archive.import, given the File as the page gives it, stores what the plain tar stores,
 * streamed; one cut off or corrupt is refused naming the file, and nothing stored changes.
 */
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MAX_ARCHIVE_TAR_BYTES, openArchiveBlob } from "../core/archive/tar-stream.ts";
import { ArchiveError } from "../core/errors.ts";
import { importArchive } from "../core/image/import.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { Store } from "../core/store/types.ts";
import { dockerArchiveBytes } from "../testdata/registry/images.ts";
import { WorkerCallError } from "./client.ts";
import { connectInProcess } from "./in-process.ts";
import type { Progress } from "./protocol.ts";

/** A client wired to the handlers in-process, as the page is to the worker. */
function connect(store: Store = openMemoryStore()) {
  return { client: connectInProcess(store), store };
}

// A docker-archive as `docker save` writes it: plain tar layers of incompressible bytes, large
// enough that the compressed file arrives in many chunks.
const TAR = await dockerArchiveBytes("compressed:1", [
  { seed: 41, bytes: 300_000 },
  { seed: 42, bytes: 200_000 },
]);
const GZ = gzipSync(TAR);
const ZST = execFileSync("zstd", ["-c", "-q", "-3"], { input: TAR });

/** A File's bytes, as the page hands the worker a picked file. */
const blob = (bytes: Uint8Array) => new Blob([bytes as BlobPart]);

/** Everything a store holds, in a stable order (an image's storing time aside). */
async function contents(store: Store) {
  const images = (await store.meta.list("images")).map(({ storedAt: _, ...rest }) => rest);
  const layers = await store.meta.list("layers");
  const blobs = (await store.blobs.list()).map((b) => `${b.digest} ${b.size}`).sort();
  return { images, layers, blobs };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("the import succeeded");
    },
    (e: unknown) => e as WorkerCallError,
  );

describe("importing a compressed archive in the worker", () => {
  it("a .tar.gz and a .tar.zst store the same image, layers and blobs as the plain tar", async () => {
    const plain = connect();
    const p = await plain.client.call("archive.import", { file: blob(TAR), name: "image.tar" });
    expect(p.images[0]!.layers).toBe(2);
    const expected = await contents(plain.store);
    expect(expected.layers).toHaveLength(2);
    for (const [bytes, name, compression] of [
      [GZ, "image.tar.gz", "gzip"],
      // Named as a plain tar: the bytes decide.
      [ZST, "image.tar", "zstd"],
    ] as const) {
      const { client, store } = connect();
      const progress: Progress[] = [];
      const r = await client.call(
        "archive.import",
        { file: blob(bytes), name },
        { onProgress: (pr) => progress.push(pr) },
      );
      expect(r.images, compression).toEqual(p.images);
      expect(r.bytesAdded, compression).toBe(p.bytesAdded);
      expect(await contents(store), compression).toEqual(expected);
      // Progress counts the compressed file, the one size known up front, up to all of it.
      expect(progress.length, compression).toBeGreaterThan(0);
      expect(progress.every((x) => x.total === bytes.byteLength)).toBe(true);
      expect(progress.at(-1)!.done, compression).toBe(bytes.byteLength);
      expect(progress.at(-1)!.detail, compression).toMatch(
        new RegExp(`^${name.replace(/\./g, "\\.")} \\(${compression}-compressed, .+ unpacked\\): 2 layers`),
      );
    }
  });

  it("a truncated or corrupt .tar.gz is refused naming the file, and what was stored stays as it was", async () => {
    const { client, store } = connect();
    await client.call("archive.import", { file: blob(TAR), name: "image.tar" });
    const before = await contents(store);
    const corrupt = Uint8Array.from(GZ);
    corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
    for (const [bytes, name, message] of [
      // Cut in the middle of a layer.
      [
        GZ.subarray(0, Math.floor(GZ.length / 2)),
        "cut.tar.gz",
        /^cut\.tar\.gz: (truncated or )?corrupt gzip data/,
      ],
      // Only the gzip trailer is missing: the tar inside is whole, but the file is not.
      [
        GZ.subarray(0, GZ.length - 4),
        "trailer.tar.gz",
        /^trailer\.tar\.gz: (truncated or )?corrupt gzip data/,
      ],
      // A flipped byte in a stored (incompressible) deflate block: the layer's digest fails before
      // the gzip trailer is read, and the error names the layer (the page names the file).
      [corrupt, "flipped.tar.gz", /^blobs\/sha256\/[0-9a-f]{64}: digest mismatch/],
      [ZST.subarray(0, Math.floor(ZST.length / 2)), "cut.tar.zst", /^cut\.tar\.zst: .*zstd/],
    ] as const) {
      const err = await refusal(client.call("archive.import", { file: blob(bytes), name }));
      expect(err, name).toBeInstanceOf(WorkerCallError);
      expect(err.message, name).toMatch(message);
      expect(await contents(store), name).toEqual(before);
    }
  });

  it("a truncated .tar.gz into an empty store leaves it empty", async () => {
    const { client, store } = connect();
    const err = await refusal(
      client.call("archive.import", { file: blob(GZ.subarray(0, 200_000)), name: "cut.tar.gz" }),
    );
    expect(err.code).toBe("ARCHIVE_INVALID");
    expect(await contents(store)).toEqual({ images: [], layers: [], blobs: [] });
  });

  it("a compressed archive that expands past the limit is refused as a decompression bomb", async () => {
    expect(MAX_ARCHIVE_TAR_BYTES).toBeGreaterThan(128 * 2 ** 30);
    const store = openMemoryStore();
    const opened = await openArchiveBlob(blob(GZ), "big.tar.gz", { limit: TAR.byteLength - 1 });
    expect(opened.kind).toBe("stream");
    if (opened.kind !== "stream") return;
    const err = await importArchive(store, opened.tar).catch((e: unknown) => e as ArchiveError);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).code).toBe("ARCHIVE_TOO_LARGE");
    expect((err as ArchiveError).message).toMatch(/^big\.tar\.gz: decompressed data exceeds the limit/);
    expect((await store.blobs.list()).length).toBe(0);
  });

  it("a plain tar is still read by byte ranges of the file", async () => {
    const file = blob(TAR);
    const opened = await openArchiveBlob(file, "image.tar");
    expect(opened).toEqual({ kind: "ranges", file });
  });
});
