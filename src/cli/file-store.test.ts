import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asyncIterable, collectBytes } from "../core/archive/bytes.ts";
import { sha256 } from "../core/digest.ts";
import { openFileRanges, openTempFileStore } from "./file-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileOf(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "layerlab-file-store-"));
  dirs.push(dir);
  const path = join(dir, "archive.tar");
  writeFileSync(path, bytes);
  return path;
}

function streamed(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return collectBytes(asyncIterable(s));
}

describe("the CLI's temp-file store and file ranges", () => {
  it("streams a slice of a file whole across several reads, and an empty slice as nothing", async () => {
    const bytes = randomBytes(5 * 2 ** 20 + 123);
    const ranges = await openFileRanges(fileOf(bytes));
    const start = 1000;
    const end = bytes.byteLength - 77;
    const got = await streamed(ranges.slice(start, end).stream());
    expect(got.byteLength).toBe(end - start);
    expect(Buffer.compare(got, bytes.subarray(start, end))).toBe(0);
    expect((await streamed(ranges.slice(5, 5).stream())).byteLength).toBe(0);
  });

  it("ends a slice's stream early when the file was cut short (the reader counts the bytes)", async () => {
    const bytes = randomBytes(3 * 2 ** 20);
    const path = fileOf(bytes);
    const ranges = await openFileRanges(path);
    const slice = ranges.slice(0, bytes.byteLength);
    truncateSync(path, 2 ** 20 + 5);
    expect((await streamed(slice.stream())).byteLength).toBe(2 ** 20 + 5);
  });

  it("gives an adopted slice back as a Blob of just its bytes, and a written blob as its file", async () => {
    const bytes = randomBytes(3 * 2 ** 20);
    const ranges = await openFileRanges(fileOf(bytes));
    const store = openTempFileStore();
    try {
      const part = bytes.subarray(4096, 4096 + 2 ** 20);
      const digest = await sha256(part);
      await store.blobs.adopt(ranges.slice(4096, 4096 + 2 ** 20) as unknown as Blob, digest);
      const blob = await store.blobs.blob!(digest);
      expect(blob?.size).toBe(part.byteLength);
      expect(Buffer.compare(new Uint8Array(await blob!.arrayBuffer()), part)).toBe(0);
      expect(new Uint8Array(await blob!.slice(10, 20).arrayBuffer())).toEqual(
        new Uint8Array(part.subarray(10, 20)),
      );

      const written = await store.blobs.put(new TextEncoder().encode("config"));
      expect(await (await store.blobs.blob!(written.digest))!.text()).toBe("config");
      expect(await store.blobs.blob!(await sha256("not stored"))).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
