import { type Digest, sha256 } from "../digest.ts";
import { DigestMismatchError, LayerLabError } from "../errors.ts";
import type { ImageRecord, LayerRecord, Store } from "./types.ts";

/**
 * One conformance suite for every Store implementation, free of any test framework so the same
 * cases run under vitest in Node and inside real Chromium.
 */
export interface StoreHarness {
  /** Opens the store under test (empty the first time). */
  open(): Promise<Store>;
  /** Closes `store` and opens the same data again, as a page reload would. */
  reopen(store: Store): Promise<Store>;
  /** How many stored pieces exist that no blob owns (chunks of failed writes); 0 when not applicable. */
  leftovers(store: Store): Promise<number>;
}

export interface ConformanceCase {
  name: string;
  run(h: StoreHarness): Promise<void>;
}

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`conformance: ${message}`);
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

const enc = new TextEncoder();

/** Deterministic pseudo-random bytes (xorshift), so big blobs need no fixtures. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function* pieces(bytes: Uint8Array, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) {
    if (failAt !== undefined && at >= failAt) throw new Error("source broke off");
    yield bytes.subarray(at, Math.min(bytes.byteLength, at + size));
  }
}

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("conformance: expected a rejection, got success");
}

function image(id: Digest, layers: Digest[], names: string[]): ImageRecord {
  return { id, names, source: "import", layers, config: id, storedAt: 1 };
}

function layer(id: Digest, blob: Digest, size: number): LayerRecord {
  return { id, blob, mediaType: "application/vnd.oci.image.layer.v1.tar", blobSize: size, size };
}

export const storeConformanceCases: ConformanceCase[] = [
  {
    name: "put then get returns the same bytes under their sha256",
    async run(h) {
      const s = await h.open();
      const bytes = enc.encode("hello layers\n");
      const r = await s.blobs.put(bytes);
      check(r.digest === (await sha256(bytes)), "digest is the sha256 of the content");
      check(r.size === bytes.byteLength && !r.deduplicated, "size and first write");
      check(await s.blobs.has(r.digest), "has() sees it");
      check(same(await s.blobs.get(r.digest), bytes), "get() returns the bytes");
      check((await s.blobs.size(r.digest)) === bytes.byteLength, "size()");
      s.close();
    },
  },
  {
    name: "writing the same content twice stores it once",
    async run(h) {
      const s = await h.open();
      const bytes = pseudoRandomBytes(300_000, 7);
      const a = await s.blobs.put(bytes);
      const b = await s.blobs.putStream(pieces(bytes, 4096));
      check(a.digest === b.digest, "same digest");
      check(b.deduplicated && !a.deduplicated, "second write reported as deduplicated");
      const st = await s.blobs.stats();
      check(st.count === 1 && st.bytes === bytes.byteLength, `one blob stored, got ${st.count}/${st.bytes}`);
      check((await h.leftovers(s)) === 0, "no leftover pieces from the duplicate");
      s.close();
    },
  },
  {
    name: "a small put is checked against the expected digest, stores once, and stores empty bytes",
    async run(h) {
      const s = await h.open();
      const bytes = pseudoRandomBytes(200_000, 5);
      const wrong = await sha256("something else");
      const err = await rejects(s.blobs.put(bytes, { expected: wrong }));
      check(err instanceof DigestMismatchError, "a DigestMismatchError");
      check(err.expected === wrong && err.actual === (await sha256(bytes)), "names both digests");
      check((await s.blobs.stats()).count === 0 && (await h.leftovers(s)) === 0, "nothing stored");
      const ok = await s.blobs.put(bytes, { expected: await sha256(bytes) });
      check(!ok.deduplicated && same(await s.blobs.get(ok.digest), bytes), "stored with the right digest");
      check((await s.blobs.put(bytes)).deduplicated, "a second put is deduplicated");
      check((await h.leftovers(s)) === 0, "no leftover pieces from the duplicate");
      const empty = await s.blobs.put(new Uint8Array(0));
      check(empty.digest === (await sha256(new Uint8Array(0))) && empty.size === 0, "empty bytes");
      check((await s.blobs.get(empty.digest))?.byteLength === 0, "read back empty");
      const parts: Uint8Array[] = [];
      for await (const p of s.blobs.stream(empty.digest)) parts.push(p);
      check(
        parts.every((p) => p.byteLength === 0),
        "streamed back empty",
      );
      s.close();
    },
  },
  {
    name: "a streaming put spanning many chunks round-trips, and reads by range",
    async run(h) {
      const s = await h.open();
      const bytes = pseudoRandomBytes(3 * (1 << 20) + 12345, 3);
      const r = await s.blobs.putStream(pieces(bytes, 65_536), { expected: await sha256(bytes) });
      check(r.size === bytes.byteLength, "size");
      check(same(await s.blobs.get(r.digest), bytes), "get() after streaming put");
      const parts: Uint8Array[] = [];
      for await (const p of s.blobs.stream(r.digest)) parts.push(p);
      const total = parts.reduce((n, p) => n + p.byteLength, 0);
      check(total === bytes.byteLength, "stream() yields every byte");
      const off = (1 << 20) - 10;
      check(
        same(await s.blobs.read(r.digest, off, 100), bytes.subarray(off, off + 100)),
        "read() across a chunk edge",
      );
      const tail = await s.blobs.read(r.digest, bytes.byteLength - 5, 100);
      check(same(tail, bytes.subarray(bytes.byteLength - 5)), "read() past the end is clipped");
      s.close();
    },
  },
  {
    name: "a digest mismatch on a streaming put is rejected and leaves nothing behind",
    async run(h) {
      const s = await h.open();
      const before = await s.blobs.stats();
      const bytes = pseudoRandomBytes(2 * (1 << 20) + 5, 11);
      const wrong = await sha256("something else");
      const err = await rejects(s.blobs.putStream(pieces(bytes, 100_000), { expected: wrong }));
      check(err instanceof DigestMismatchError, "a DigestMismatchError");
      check(err.expected === wrong && err.actual === (await sha256(bytes)), "names both digests");
      check(!(await s.blobs.has(err.actual as Digest)), "the content is not visible");
      const after = await s.blobs.stats();
      check(after.count === before.count && after.bytes === before.bytes, "stats unchanged");
      check((await h.leftovers(s)) === 0, "no partial chunks stay stored");
      s.close();
    },
  },
  {
    name: "an interrupted or cancelled write leaves no partial blob",
    async run(h) {
      const s = await h.open();
      const bytes = pseudoRandomBytes(3 << 20, 5);
      await rejects(s.blobs.putStream(pieces(bytes, 500_000, 2_000_000)));
      const ac = new AbortController();
      ac.abort();
      const err = await rejects(s.blobs.putStream(pieces(bytes, 500_000), { signal: ac.signal }));
      check(err instanceof LayerLabError && err.code === "CANCELLED", "cancel gives CANCELLED");
      check((await s.blobs.stats()).count === 0, "nothing visible");
      check((await h.leftovers(s)) === 0, "no partial chunks stay stored");
      s.close();
    },
  },
  {
    name: "a Blob adopted under its digest reads back like any blob, is stored once and persists",
    async run(h) {
      let s = await h.open();
      const bytes = pseudoRandomBytes(2 * (1 << 20) + 777, 21);
      const digest = await sha256(bytes);
      const r = await s.blobs.adopt(new Blob([bytes as Uint8Array<ArrayBuffer>]), digest);
      check(r.digest === digest && r.size === bytes.byteLength && !r.deduplicated, "adopt() result");
      check(same(await s.blobs.get(digest), bytes), "get() of an adopted blob");
      const off = (1 << 20) - 3;
      check(same(await s.blobs.read(digest, off, 10), bytes.subarray(off, off + 10)), "read() by range");
      let total = 0;
      for await (const p of s.blobs.stream(digest)) total += p.byteLength;
      check(total === bytes.byteLength, "stream() yields every byte");
      check((await s.blobs.size(digest)) === bytes.byteLength, "size()");
      const again = await s.blobs.putStream(pieces(bytes, 300_000));
      check(again.deduplicated, "the same bytes streamed in are not stored twice");
      check(
        (await s.blobs.adopt(new Blob([bytes as Uint8Array<ArrayBuffer>]), digest)).deduplicated,
        "nor adopted twice",
      );
      s = await h.reopen(s);
      check(same(await s.blobs.read(digest, 5, 5), bytes.subarray(5, 10)), "still there after a reopen");
      check(await s.blobs.delete(digest), "delete() finds it");
      check(!(await s.blobs.has(digest)), "gone after delete()");
      check((await h.leftovers(s)) === 0, "nothing left behind");
      s.close();
    },
  },
  {
    name: "delete removes a blob and reports whether it was there",
    async run(h) {
      const s = await h.open();
      const a = await s.blobs.put(enc.encode("a"));
      const b = await s.blobs.put(pseudoRandomBytes(1_500_000, 2));
      check(await s.blobs.delete(b.digest), "delete() of a stored blob is true");
      check(!(await s.blobs.delete(b.digest)), "a second delete() is false");
      check(!(await s.blobs.has(b.digest)) && (await s.blobs.get(b.digest)) === undefined, "gone");
      check(await s.blobs.has(a.digest), "the other blob stays");
      check((await h.leftovers(s)) === 0, "its chunks are gone too");
      const err = await rejects(s.blobs.read(b.digest, 0, 1));
      check(
        err instanceof LayerLabError && err.code === "NOT_FOUND",
        "read() of a missing blob is NOT_FOUND",
      );
      s.close();
    },
  },
  {
    name: "list and stats show every blob with its size",
    async run(h) {
      const s = await h.open();
      const sizes = [0, 1, 1000, 70_000];
      const put = [];
      for (const [i, n] of sizes.entries()) put.push(await s.blobs.put(pseudoRandomBytes(n, i + 20)));
      const listed = (await s.blobs.list()).sort((x, y) => x.size - y.size);
      check(listed.length === sizes.length, "one row per blob");
      check(listed.map((b) => b.size).join() === sizes.join(), "sizes");
      check(new Set(listed.map((b) => b.digest)).size === sizes.length, "distinct digests");
      const st = await s.blobs.stats();
      check(st.count === 4 && st.bytes === 71_001, "stats");
      s.close();
    },
  },
  {
    name: "metadata records of images, layers and containers: put, get, list, delete",
    async run(h) {
      const s = await h.open();
      const l1 = await sha256("l1");
      const img = image(await sha256("img"), [l1], ["demo:1"]);
      await s.meta.put("images", img);
      await s.meta.put("layers", layer(l1, l1, 10));
      await s.meta.put("containers", { id: "c1", name: "c1", image: img.id, createdAt: 5 });
      const got = await s.meta.get("images", img.id);
      check(got?.names[0] === "demo:1" && got.layers[0] === l1, "image read back");
      got!.names.push("mutated");
      check(
        (await s.meta.get("images", img.id))?.names.length === 1,
        "records are copies, not shared objects",
      );
      check((await s.meta.list("layers")).length === 1, "list layers");
      check((await s.meta.get("containers", "c1"))?.image === img.id, "container read back");
      check(await s.meta.delete("containers", "c1"), "delete found it");
      check(!(await s.meta.delete("containers", "c1")), "second delete is false");
      check((await s.meta.get("containers", "c1")) === undefined, "gone");
      s.close();
    },
  },
  {
    name: "a batch applies all of its puts and deletes together",
    async run(h) {
      const s = await h.open();
      const a = await sha256("a");
      const b = await sha256("b");
      await s.meta.put("images", image(a, [], ["old:1"]));
      await s.meta.apply({
        put: { images: [image(b, [b], ["new:1"])], layers: [layer(b, b, 1)] },
        delete: { images: [a] },
      });
      const ids = (await s.meta.list("images")).map((i) => i.id);
      check(ids.length === 1 && ids[0] === b, "old image deleted, new one stored");
      check((await s.meta.get("layers", b)) !== undefined, "its layer stored in the same batch");
      s.close();
    },
  },
  {
    name: "blobs and records persist across a reopen; clear removes everything",
    async run(h) {
      let s = await h.open();
      const bytes = pseudoRandomBytes(1_200_000, 9);
      const r = await s.blobs.put(bytes);
      const id = await sha256("persist");
      await s.meta.put("images", image(id, [r.digest], ["keep:me"]));
      await s.meta.put("kv", { id: "dockerfile", value: "FROM scratch\n" });
      s = await h.reopen(s);
      check(same(await s.blobs.get(r.digest), bytes), "blob survives");
      check((await s.meta.get("images", id))?.names[0] === "keep:me", "image survives");
      check((await s.meta.get("kv", "dockerfile"))?.value === "FROM scratch\n", "kv survives");
      await s.clear();
      check((await s.blobs.stats()).count === 0, "clear removes blobs");
      check((await s.meta.list("images")).length === 0, "clear removes records");
      s = await h.reopen(s);
      check((await s.blobs.stats()).count === 0 && (await h.leftovers(s)) === 0, "and stays cleared");
      s.close();
    },
  },
];
