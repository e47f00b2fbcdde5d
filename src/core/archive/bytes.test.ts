import { describe, expect, it } from "vitest";
import { type ReadBuffer, readBlobWhole } from "./bytes.ts";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const blobOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);
/** Byte equality without a deep comparison of every element (slow on large arrays). */
const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;

describe("readBlobWhole", () => {
  it("reads a Blob whole, into new memory without a buffer to reuse", async () => {
    const b = bytes(300_000, 1);
    expect(same(await readBlobWhole(blobOf(b)), b)).toBe(true);
  });

  it("reuses the buffer it is given back, and grows it only for a larger Blob", async () => {
    const into: ReadBuffer = {};
    const first = bytes(500_000, 2);
    const a = await readBlobWhole(blobOf(first), into);
    expect(same(a, first)).toBe(true);
    // In use: not offered to another read until the caller gives it back.
    expect(into.buffer).toBeUndefined();
    expect(a.buffer.byteLength).toBe(500_000);
    into.buffer = a.buffer as ArrayBuffer;
    const smaller = bytes(120_000, 3);
    const b = await readBlobWhole(blobOf(smaller), into);
    expect(same(b, smaller)).toBe(true);
    // The same memory: a view of the first read's 500,000 bytes.
    expect(b.buffer.byteLength).toBe(500_000);
    into.buffer = b.buffer as ArrayBuffer;
    const larger = bytes(700_000, 4);
    const c = await readBlobWhole(blobOf(larger), into);
    expect(same(c, larger)).toBe(true);
    expect(c.buffer.byteLength).toBe(700_000);
  });

  it("makes new memory as large as asked (a later, larger read then fits it)", async () => {
    const into: ReadBuffer = {};
    const small = bytes(100_000, 7);
    const a = await readBlobWhole(blobOf(small), into, 400_000);
    expect(same(a, small)).toBe(true);
    expect(a.buffer.byteLength).toBe(400_000);
    into.buffer = a.buffer as ArrayBuffer;
    const larger = bytes(350_000, 8);
    const b = await readBlobWhole(blobOf(larger), into, 400_000);
    expect(same(b, larger)).toBe(true);
    // The same memory (the read took it over): not new memory of 350,000 bytes.
    expect(b.buffer.byteLength).toBe(400_000);
  });

  it("gives what a Blob yielded when it yields less than its size", async () => {
    class ShortBlob extends Blob {
      override get size() {
        return super.size + 100;
      }
    }
    const b = bytes(50_000, 5);
    const got = await readBlobWhole(new ShortBlob([b as Uint8Array<ArrayBuffer>]), {});
    expect(same(got, b)).toBe(true);
  });

  it("falls back to arrayBuffer() where the Blob's stream has no BYOB reader", async () => {
    class PlainStreamBlob extends Blob {
      override stream() {
        const all = super.stream();
        return new ReadableStream<Uint8Array<ArrayBuffer>>({
          async start(c) {
            const r = all.getReader();
            for (let next = await r.read(); !next.done; next = await r.read()) {
              c.enqueue(next.value as Uint8Array<ArrayBuffer>);
            }
            c.close();
          },
        });
      }
    }
    const b = bytes(80_000, 6);
    const into: ReadBuffer = { buffer: new ArrayBuffer(1 << 20) };
    expect(same(await readBlobWhole(new PlainStreamBlob([b as Uint8Array<ArrayBuffer>]), into), b)).toBe(
      true,
    );
  });
});
