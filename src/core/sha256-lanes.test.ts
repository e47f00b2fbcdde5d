import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createParallelSha256, setSha256Provider, wasmSha256 } from "./digest.ts";
import { createSha256Lanes, lanesAvailable, MAX_LANES } from "./sha256-lanes.ts";

const hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

describe("sha256 in SIMD lanes", () => {
  it("is available on Node 20 (WebAssembly SIMD), as in Chromium", async () => {
    expect(await lanesAvailable()).toBe(true);
  });

  it("gives a released group's memory to the next group, whose digests start clean; the old lanes refuse work", async () => {
    const old = (await createSha256Lanes(3))!;
    // Left half-way: bytes in the lanes' buffers and their states moved on.
    for (const l of old) l.update(randomBytes(100_000));
    old.release();
    expect(() => old[0]!.update(new Uint8Array(1))).toThrow(/released/);
    expect(() => old[1]!.hex()).toThrow(/released/);
    const next = (await createSha256Lanes(3))!;
    const inputs = [randomBytes(70_000), randomBytes(3 * 2 ** 20), randomBytes(5)];
    for (const [i, l] of next.entries()) l.update(inputs[i]!);
    expect(next.map((l) => l.hex())).toEqual(inputs.map(hex));
    next.release();
    next.release(); // twice is harmless
  });

  it("gives FIPS 180-4 digests at the padding's edges (0, 55, 56, 63, 64, 119, 120 bytes)", async () => {
    const [lane] = (await createSha256Lanes(1))!;
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      const bytes = randomBytes(n);
      lane!.update(bytes);
      expect(lane!.hex(), `${n} bytes`).toBe(hex(bytes));
    }
  });

  it("keeps each stream's digest when streams are fed in random pieces, interleaved, at different rates", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const next = rng(seed);
      const count = 1 + (seed % MAX_LANES);
      const lanes = (await createSha256Lanes(count))!;
      // Each lane hashes a few inputs one after another (init between them, as a layer's files
      // share one lane); some are larger than a lane's buffer, so full buffers are flushed.
      const inputs = lanes.map(() =>
        Array.from({ length: 1 + next(3) }, () => randomBytes(next(3) === 0 ? next(100) : next(3 * 2 ** 20))),
      );
      const fed = inputs.map(() => ({ input: 0, at: 0 }));
      const got: string[][] = inputs.map(() => []);
      for (;;) {
        const open = fed.map((f, l) => (f.input < inputs[l]!.length ? l : -1)).filter((l) => l >= 0);
        if (!open.length) break;
        const l = open[next(open.length)]!;
        const f = fed[l]!;
        const input = inputs[l]![f.input]!;
        // Pieces of every size: a byte, part blocks, whole blocks, up to 300 KiB.
        const size = [1, 63, 64, 65, 4096, 300 * 1024][next(6)]!;
        const n = Math.min(size, input.byteLength - f.at);
        lanes[l]!.update(input.subarray(f.at, f.at + n));
        f.at += n;
        if (f.at === input.byteLength) {
          got[l]!.push(lanes[l]!.hex());
          f.input += 1;
          f.at = 0;
        }
      }
      expect(got, `seed ${seed}`).toEqual(inputs.map((list) => list.map(hex)));
    }
  });

  it("is what the ingest gets for its streams with the default provider, and not with a native one", async () => {
    const [a, b, c] = await createParallelSha256(3);
    const x = randomBytes(5 * 2 ** 20);
    const y = randomBytes(3 * 2 ** 20 + 17);
    a!.update(x);
    b!.update(y);
    c!.update(x.subarray(0, 1000));
    expect([a!.hex(), b!.hex(), c!.hex()]).toEqual([hex(x), hex(y), hex(x.subarray(0, 1000))]);

    let made = 0;
    setSha256Provider({
      ...wasmSha256,
      reusable: async () => {
        made++;
        return wasmSha256.reusable();
      },
    });
    try {
      const hs = await createParallelSha256(3);
      expect(made).toBe(3);
      hs[0]!.update(y);
      expect(hs[0]!.hex()).toBe(hex(y));
    } finally {
      setSha256Provider(wasmSha256);
    }
  });
});
