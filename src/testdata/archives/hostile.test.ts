import "fake-indexeddb/auto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeGunzip } from "../../cli/node-gunzip.ts";
import { collectBytes } from "../../core/archive/bytes.ts";
import { type PlatformGunzip, setPlatformGunzip } from "../../core/archive/compression.ts";
import { writeTar } from "../../core/archive/tar-writer.ts";
import { sha256 } from "../../core/digest.ts";
import { LayerLabError } from "../../core/errors.ts";
import { type EntryJob, importArchive, ingestArchiveEntry } from "../../core/image/import.ts";
import { memoryBlob, minimalConfig, writeOciArchive } from "../../core/image/layout-writer.ts";
import { openIndexedDbStore } from "../../core/store/indexeddb.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import type { Store } from "../../core/store/types.ts";
import { fixtureStream, snapshot } from "./fixtures.ts";
import { hostileCases } from "./hostile.ts";

async function* stream(bytes: Uint8Array, size = 8192): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/** A store that counts every byte streamed into it, to show a refused bomb never expanded fully. */
function counting(store: Store): { store: Store; bytes: () => number } {
  let n = 0;
  const blobs = Object.create(store.blobs) as Store["blobs"];
  blobs.putStream = (source, options) =>
    store.blobs.putStream(
      (async function* () {
        for await (const c of source) {
          n += c.byteLength;
          yield c;
        }
      })(),
      options,
    );
  return { store: { ...store, blobs }, bytes: () => n };
}

const cases = await hostileCases();

let dbs = 0;
const memory = async () => openMemoryStore();
const indexeddb = async () => openIndexedDbStore(`ll-hostile-${++dbs}`);
const stores: [
  string,
  () => Promise<Store>,
  "stream" | "blob" | "workers" | "workers-streamed",
  PlatformGunzip | undefined,
][] = [
  ["memory", memory, "stream", undefined],
  ["indexeddb", indexeddb, "stream", undefined],
  ["memory (archive as a Blob)", memory, "blob", undefined],
  // Workers read a small layer's slice whole (one-shot digest); a large one streams. Either way
  // they leave the layer blob and its index for the import to store.
  ["memory (Blob, layers ingested as by workers)", memory, "workers", undefined],
  ["memory (Blob, layers streamed by workers)", memory, "workers-streamed", undefined],
  // A Blob's layers are adopted by IndexedDB without their bytes being written again.
  ["indexeddb (archive as a Blob)", indexeddb, "blob", undefined],
  ["indexeddb (Blob, layers ingested as by workers)", indexeddb, "workers", undefined],
  // The command line decodes gzip with node:zlib.
  ["memory (gzip by node:zlib, as the command line)", memory, "stream", nodeGunzip],
];

describe.each(stores)(
  "hostile archives are refused, naming the entry, with the %s store untouched",
  (_kind, open, sourceKind, gunzip) => {
    beforeAll(() => setPlatformGunzip(gunzip));
    afterAll(() => setPlatformGunzip(undefined));
    it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const base = await open();
      await importArchive(base, fixtureStream("oci.tar"));
      const before = await snapshot(base);
      const { store, bytes } = counting(base);
      const blob = new Blob([c.bytes as Uint8Array<ArrayBuffer>]);
      const source = sourceKind === "stream" ? stream(c.bytes) : blob;
      // As src/worker/ingest-pool.ts runs them: the import stores what a worker leaves it, and
      // layers read whole reuse the memory of the one before.
      const readBuffer = {};
      const ingestEntry = (job: EntryJob) =>
        ingestArchiveEntry(store, blob.slice(job.start, job.end), job.path, {
          ...(c.limits ? { limits: c.limits } : {}),
          ...(sourceKind === "workers-streamed" ? { wholeDigestMaxBytes: 0 } : {}),
          leaveWrites: true,
          readBuffer,
        });
      const err = await importArchive(store, source, {
        concurrency: 3,
        ...(c.limits ? { limits: c.limits } : {}),
        // Every layer goes to the "workers", however small, so their path meets every hostile case.
        ...(sourceKind.startsWith("workers") ? { ingestEntry, remoteMinBytes: 1 } : {}),
      }).catch((e: unknown) => e);
      expect(err, c.about).toBeInstanceOf(LayerLabError);
      expect((err as LayerLabError).code, `${c.about}: ${(err as Error).message}`).toBe(c.code);
      expect((err as Error).message, (err as Error).message).toMatch(c.message);
      expect(await snapshot(base)).toEqual(before);
      if (c.limits?.maxLayerBytes) expect(bytes()).toBeLessThan(c.limits.maxLayerBytes + (2 << 20));
      base.close();
    });
  },
);

describe("contained problems", () => {
  it("contains same-type duplicates (the later wins) and aufs metadata, reporting them as warnings", async () => {
    const te = new TextEncoder();
    const layer = await collectBytes(
      writeTar([
        { name: "etc", type: "dir" },
        { name: "etc/motd", body: te.encode("first\n") },
        { name: "etc/motd", body: te.encode("second\n") },
        { name: ".wh..wh.plnk", type: "dir" },
      ]),
    );
    const archive = await collectBytes(
      writeOciArchive([
        {
          names: ["dup:1"],
          config: te.encode(JSON.stringify(minimalConfig([await sha256(layer)]))),
          layers: [{ ...(await memoryBlob(layer)), mediaType: "application/vnd.oci.image.layer.v1.tar" }],
        },
      ]),
    );
    const r = await importArchive(openMemoryStore(), stream(archive));
    expect(r.images[0]!.warnings.map((w) => w.message)).toEqual([
      "duplicate entry: the later one wins",
      "aufs metadata entry ignored",
    ]);
  });
});
