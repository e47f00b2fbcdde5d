import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { seedFor, synthesizeChunks, synthesizeContent } from "./synthesize.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

describe("synthesizeContent", () => {
  it("gives the same bytes for the same seed and size, different bytes for another seed", () => {
    const a = synthesizeContent(42, 10_000);
    expect(a.length).toBe(10_000);
    expect(sameBytes(synthesizeContent(42, 10_000), a)).toBe(true);
    expect(sameBytes(synthesizeContent(43, 10_000), a)).toBe(false);
  });

  it("makes a shorter file a prefix of a longer one with the same seed", () => {
    expect(sameBytes(synthesizeContent(7, 1001), synthesizeContent(7, 5000).subarray(0, 1001))).toBe(true);
  });

  it("streams the same bytes in chunks of any size", () => {
    const whole = synthesizeContent(99, 100_003);
    for (const chunk of [1, 8, 1000, 65_536, 1 << 20]) {
      const parts = [...synthesizeChunks(99, 100_003, chunk)];
      expect(sameBytes(concat(parts), whole)).toBe(true);
      expect(parts.every((p, i) => i === parts.length - 1 || p.length % 8 === 0)).toBe(true);
    }
    expect([...synthesizeChunks(1, 0)]).toEqual([]);
    expect(synthesizeContent(1, 0).length).toBe(0);
  });

  it("compresses about as well as real binaries do (roughly 2:1), not like zeros or noise", () => {
    const data = synthesizeContent(seedFor("debian-bookworm-slim", "usr/bin/bash"), 1 << 20);
    const ratio = gzipSync(data).length / data.length;
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.7);
  });

  it("refuses a negative or fractional size", () => {
    expect(() => synthesizeContent(1, -1)).toThrow(RangeError);
    expect(() => [...synthesizeChunks(1, 1.5)]).toThrow(RangeError);
  });
});

describe("seedFor", () => {
  it("depends on both the namespace and the path", () => {
    const s = seedFor("debian-bookworm-slim", "usr/bin/bash");
    expect(s).toBe(seedFor("debian-bookworm-slim", "usr/bin/bash"));
    expect(s).not.toBe(seedFor("debian-bookworm", "usr/bin/bash"));
    expect(s).not.toBe(seedFor("debian-bookworm-slim", "usr/bin/dash"));
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});
