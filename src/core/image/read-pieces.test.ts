import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Gunzip } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { nodeGunzip } from "../../cli/node-gunzip.ts";
import type { ReadBuffer } from "../archive/bytes.ts";
import { collectBytes } from "../archive/bytes.ts";
import { type PlatformGunzip, setPlatformGunzip } from "../archive/compression.ts";
import { writeTar } from "../archive/tar-writer.ts";
import type { Digest } from "../digest.ts";
import { openMemoryStore } from "../store/memory.ts";
import {
  type BlobPieces,
  ingestArchiveEntry,
  READ_BUFFER_REUSE_MARGIN,
  setReadBufferReuse,
} from "./ingest-layer.ts";

const digestOf = (b: Uint8Array): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A gzip layer of one file of random bytes (barely compressible), its digest and diffId. */
async function layer(fileBytes: number) {
  const tar = await collectBytes(
    writeTar([{ name: "data.bin", type: "file", mode: 0o644, body: randomBytes(fileBytes) }]),
  );
  const blob = new Uint8Array(gzipSync(tar, { level: 1 }));
  return { blob, digest: digestOf(blob), diffId: digestOf(tar) };
}

/** The blob as a pull's ranges: Blobs of `pieceBytes`, in order. */
function pieces(blob: Uint8Array, pieceBytes: number): BlobPieces {
  const all: Blob[] = [];
  for (let at = 0; at < blob.byteLength; at += pieceBytes)
    all.push(
      new Blob([blob.subarray(at, Math.min(blob.byteLength, at + pieceBytes)) as Uint8Array<ArrayBuffer>]),
    );
  return {
    kind: "pieces",
    size: blob.byteLength,
    pieces: (async function* () {
      yield* all;
    })(),
  };
}

/**
 * A gzip decoder for the tests that records the buffers of the chunks it is handed; it holds the
 * last `lag` chunks (views, as handed) before it reads them, like a decoder with a queue.
 */
function recordingGunzip(seen: Set<ArrayBufferLike>, lag = 0): PlatformGunzip {
  return (source) =>
    (async function* () {
      const out: Uint8Array[] = [];
      const g = new Gunzip((chunk) => out.push(chunk));
      const held: Uint8Array[] = [];
      for await (const c of source) {
        seen.add(c.buffer);
        held.push(c);
        while (held.length > lag) g.push(held.shift()!.slice());
        yield* out.splice(0);
      }
      for (const c of held.splice(0)) g.push(c.slice());
      g.push(new Uint8Array(0), true);
      yield* out.splice(0);
    })();
}

/** Ingests a layer from its ranges (never read whole) and checks its digest and diffId. */
async function ingestChecked(
  store: ReturnType<typeof openMemoryStore>,
  l: Awaited<ReturnType<typeof layer>>,
  pieceBytes: number,
  into: ReadBuffer,
) {
  const r = await ingestArchiveEntry(store, pieces(l.blob, pieceBytes), "layer.tar.gz", {
    readBuffer: into,
    expected: l.digest,
    wholeDigestMaxBytes: 0,
  });
  expect(r.digest).toBe(l.digest);
  expect("diffId" in r && r.diffId).toBe(l.diffId);
}

const detached = (seen: Set<ArrayBufferLike>) => [...seen].filter((b) => b.byteLength === 0).length;

afterEach(() => {
  setPlatformGunzip(undefined);
  setReadBufferReuse(false);
});

describe("a pull's ranges read into two buffers by turns", () => {
  const piece = READ_BUFFER_REUSE_MARGIN + 2 ** 20;

  for (const [decoder, plug] of [
    ["Node's DecompressionStream", undefined],
    ["node:zlib, as the CLI decodes", nodeGunzip],
  ] as const) {
    it(`uses a layer's buffers again for the next layer, digests intact (${decoder})`, async () => {
      setPlatformGunzip(plug);
      const store = openMemoryStore();
      const into: ReadBuffer = {};
      const a = await layer(4 * piece);
      await ingestChecked(store, a, piece, into);
      const kept = [into.buffer!, into.other!.buffer!];
      expect(kept.every((b) => b.byteLength > 0)).toBe(true);
      const b = await layer(3 * piece);
      await ingestChecked(store, b, piece, into);
      // Read into again (a BYOB read detaches the buffer it is given): the same memory served
      // the second layer's first ranges (not the memory of the first layer's short last range).
      expect(kept.filter((k) => k.byteLength === 0).length).toBeGreaterThanOrEqual(1);
      expect(await store.blobs.has(a.digest)).toBe(true);
      expect(await store.blobs.has(b.digest)).toBe(true);
    });
  }

  it("within a layer, only where the decoder lets go of chunks (setReadBufferReuse)", async () => {
    const a = await layer(5 * piece);
    const run = async () => {
      const seen = new Set<ArrayBufferLike>();
      setPlatformGunzip(recordingGunzip(seen));
      await ingestChecked(openMemoryStore(), a, piece, {});
      return detached(seen);
    };
    // Off: every range of the layer had memory of its own, none was read into again.
    expect(await run()).toBe(0);
    // On: the third range went into the first one's memory, and so on.
    setReadBufferReuse(true);
    expect(await run()).toBeGreaterThanOrEqual(3);
  });

  it("gives small ranges new memory: a decoder may still hold the views of the one before last", async () => {
    setReadBufferReuse(true);
    const small = 256 * 1024;
    const seen = new Set<ArrayBufferLike>();
    // This decoder reads each chunk three chunks late: were the buffer of a range read into
    // again two ranges on, it would read emptied views and the diffId would not match.
    setPlatformGunzip(recordingGunzip(seen, 3));
    await ingestChecked(openMemoryStore(), await layer(12 * small), small, {});
    expect(detached(seen)).toBe(0);
  });

  it("leaves both buffers behind when a layer is cut short, and stores nothing of it", async () => {
    const store = openMemoryStore();
    const into: ReadBuffer = {};
    const a = await layer(4 * piece);
    const bad = a.blob.slice();
    bad.fill(0x55, 2 * piece + 100, 2 * piece + 5000); // the third range: deflate data ruined
    const r = await ingestArchiveEntry(store, pieces(bad, piece), "a", {
      readBuffer: into,
      wholeDigestMaxBytes: 0,
    }).catch((e: Error) => e);
    expect(r instanceof Error || ("failed" in r && r.failed !== undefined)).toBe(true);
    expect(into.buffer).toBeUndefined();
    expect(into.other).toBeUndefined();
    expect(await store.blobs.list()).toEqual([]);
  });
});
