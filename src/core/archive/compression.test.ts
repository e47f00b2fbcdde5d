import { gzipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeGunzip } from "../../cli/node-gunzip.ts";
import { ArchiveError } from "../errors.ts";
import { collectBytes, streamBytes } from "./bytes.ts";
import { Channel } from "./channel.ts";
import {
  decompress,
  freeNow,
  gzip,
  peek,
  setPlatformGunzip,
  sniffCompression,
  zstdWindow,
} from "./compression.ts";

const chunks = (bytes: Uint8Array, size = 1000) => streamBytes(bytes, [size]);
const collect = collectBytes;
const concat = (...parts: Uint8Array[]) =>
  collectBytes(
    (async function* () {
      yield* parts;
    })(),
  );

const text = new TextEncoder().encode("layer bytes ".repeat(50_000));
/** Byte equality without vitest's slow element-wise diff of large arrays. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe("compression", () => {
  it("sniffs gzip, zstd and plain data by their first bytes", () => {
    expect(sniffCompression(gzipSync(text))).toBe("gzip");
    expect(sniffCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe("zstd");
    expect(sniffCompression(text)).toBe("none");
  });

  for (const [engineName, gzipEngine, platform] of [
    ["fflate", "fflate", undefined],
    ["native (DecompressionStream)", "native", undefined],
    ["native (node:zlib, as the command line plugs it in)", "native", nodeGunzip],
  ] as const) {
    describe(engineName, () => {
      beforeEach(() => setPlatformGunzip(platform));
      afterEach(() => setPlatformGunzip(undefined));

      it(`${gzipEngine}: decompresses multi-member gzip streams`, async () => {
        const gz = await concat(gzipSync(text), gzipSync(text));
        expect(
          same(await collect(decompress(chunks(gz, 777), "gzip", { gzipEngine })), await concat(text, text)),
        ).toBe(true);
      });

      it(`${gzipEngine}: ends a decompression bomb at the limit with ARCHIVE_TOO_LARGE, without producing it all`, async () => {
        const bomb = gzipSync(new Uint8Array(64 << 20));
        let produced = 0;
        const err = await (async () => {
          for await (const c of decompress(chunks(bomb, 4096), "gzip", {
            limit: 1 << 20,
            entry: "bomb.gz",
            gzipEngine,
          })) {
            produced += c.byteLength;
          }
        })().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ArchiveError);
        expect((err as ArchiveError).code).toBe("ARCHIVE_TOO_LARGE");
        expect((err as ArchiveError).message).toMatch(/bomb\.gz.*limit/);
        expect(produced).toBeLessThanOrEqual(1 << 20);
      });

      it(`${gzipEngine}: refuses corrupt gzip data with an ArchiveError`, async () => {
        const gz = gzipSync(text);
        gz[20]! ^= 0xff;
        await expect(
          collect(decompress(chunks(gz), "gzip", { entry: "l.gz", gzipEngine })),
        ).rejects.toBeInstanceOf(ArchiveError);
      });

      it(`${gzipEngine}: refuses truncated gzip and passes source errors on unchanged`, async () => {
        const gz = gzipSync(text);
        await expect(
          collect(decompress(chunks(gz.subarray(0, gz.byteLength - 100)), "gzip", { gzipEngine })),
        ).rejects.toBeInstanceOf(ArchiveError);
        const failing = (async function* () {
          yield gz.subarray(0, 100);
          throw new RangeError("disk went away");
        })();
        await expect(collect(decompress(failing, "gzip", { gzipEngine }))).rejects.toThrow(RangeError);
      });

      it(`${gzipEngine}: refuses an empty gzip stream`, async () => {
        await expect(collect(decompress(chunks(new Uint8Array(0)), "gzip", { gzipEngine }))).rejects.toThrow(
          /empty gzip stream|truncated|corrupt/,
        );
      });
    });
  }

  it("gzips deterministically (mtime 0, output independent of input chunking)", async () => {
    const a = await collect(gzip(chunks(text)));
    const b = await collect(gzip(chunks(text, 333)));
    expect(same(a, b)).toBe(true);
    expect([...a.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
  });

  it("refuses a zstd frame declaring a 2 GiB window before the decoder allocates it", async () => {
    const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(zstdWindow(frame)).toBe(2 ** 31);
    const err = await collect(decompress(chunks(frame), "zstd", { entry: "big.zst" })).catch(
      (e: unknown) => e,
    );
    expect((err as ArchiveError).code).toBe("ARCHIVE_TOO_LARGE");
    expect((err as Error).message).toMatch(/big\.zst: zstd frame declares a 2147483648-byte window/);
  });

  it("frees a chunk that owns its buffer, and leaves views and untransferable buffers alone", () => {
    const own = new Uint8Array(4096).fill(1);
    freeNow(own);
    expect(own.byteLength).toBe(0);
    const whole = new Uint8Array(4096).fill(2);
    const view = whole.subarray(0, 100);
    freeNow(view);
    expect(view.byteLength).toBe(100);
    expect(whole.byteLength).toBe(4096);
    // Node's small Buffers share a pool that cannot be transferred: nothing happens.
    const pooled = Buffer.from("pooled bytes");
    freeNow(new Uint8Array(pooled.buffer, 0, pooled.buffer.byteLength));
    expect(pooled.toString()).toBe("pooled bytes");
  });

  it("with release, frees DecompressionStream's chunks as the next one is asked for", async () => {
    const data = Uint8Array.from({ length: 600_000 }, (_, i) => (i * 7) % 251);
    const gz = gzipSync(data);
    const seen: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    for await (const c of decompress(streamBytes(gz, [8192]), "gzip", {
      gzipEngine: "native",
      release: true,
    })) {
      seen.push(c);
      copies.push(c.slice());
    }
    expect(Buffer.compare(Buffer.concat(copies), data)).toBe(0);
    // Every chunk but the last was given up when the next was asked for (those that owned their
    // buffer; all do, from this decoder, except where it shares one).
    expect(seen.slice(0, -1).some((c) => c.byteLength === 0)).toBe(true);
  });

  it("peek gives back the head and the whole stream", async () => {
    const { head, stream } = await peek(chunks(text, 3), 4);
    expect(head).toEqual(text.subarray(0, 4));
    expect(same(await collect(stream), text)).toBe(true);
  });

  it("peek stops its source when the reader stops early (a file closed, a decoder torn down)", async () => {
    let stopped = false;
    async function* source() {
      try {
        for (let i = 0; i < 100; i++) yield new Uint8Array(1000).fill(i);
      } finally {
        stopped = true;
      }
    }
    const { stream } = await peek(source(), 10);
    for await (const _ of stream) break;
    expect(stopped).toBe(true);
  });

  it("a channel feeds a consumer with backpressure and passes failures on", async () => {
    const ch = new Channel();
    const got = collect(ch);
    await ch.write(new Uint8Array([1]));
    await ch.write(new Uint8Array([2]));
    ch.close();
    expect(await got).toEqual(new Uint8Array([1, 2]));
    const ch2 = new Channel();
    const got2 = collect(ch2);
    await ch2.write(new Uint8Array([1]));
    ch2.fail(new Error("stop"));
    await expect(got2).rejects.toThrow("stop");
  });
});
