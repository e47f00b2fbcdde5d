import { describe, expect, it } from "vitest";
import { buildImage } from "../builder/builder.ts";
import { contextFromFiles } from "../builder/context.ts";
import { fakeResolver, mergedFs, readText } from "../builder/testing.ts";
import { sha256 } from "../digest.ts";
import { ArchiveError } from "../errors.ts";
import { openMemoryStore } from "../store/memory.ts";
import { unxz, unxzBytes } from "./xz.ts";

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** 6124 bytes of text written by python's `lzma.compress` (one stream, CRC64). */
const TEXT_XZ = bytesOf(
  "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4BfrARtdADYYS5jpyTlRWUd7XtpL+RDttIF+TFYbzGkoC0wPVeiqOwRrPq7ImcTscr8FgUznwpdDq0l+mpfKyqGpz2JCKRZ2+B7tRjg93dZz2EyIyEaNHaOpSkK0ck7IhF31Pf1ZT+4WX/xzbfo+3eMB82gYZETcRxoRniftyRn08UMpVRa8dZPMLDOECtF8tRe0DUxrQINaswlbgufqjMzCsgpM4szGDpzzR/YNnp2yqgimsO/sFWzMKA9dMzXeCTUQH1V9He8Dg7h1zLSNExOBaFAJ27C3l2gTOltMiEPYCvN50MDl2d6BJ1E6Qf8PB4o7MYU+AoXTW2tNLp7eH/gFT/2LY5evwZOLxQFNNrA+ewLOpi3/sDhqfb8dllL8awAAAN25GjXJvj09AAG3AuwvAAAtW+IRscRn+wIAAAAABFla",
);

/**
 * A 10 KiB tar of app/hello.txt, app/link -> hello.txt and app/numbers.txt (`seq 1 300`), made
 * with `tar --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --sort=name -cf - app | xz -6
 * --check=crc64` (xz 5.4).
 */
const TAR_XZ = bytesOf(
  "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4Cf/Ab9dADCcLF4A3TRhoicOEFoJCCoCPPGImKTlgdk8bUgeIV/sfqlGmxD2QksaxXWn9LNiTuoAagQ3BPGcEXGCP6EpWJ8tt7hBfoJlLgD+0NyqLU8OTWqny0XIt5QpTmewEuEPOa/u6jrrEszPi6Eh1yQUYeJOajwXhRSnU8HJVhkVX1iECe4LZEiwiTXoO7Qfrbsn+dhoMg5ispubowD8qPRj7puMUZFb7cIFb7+VB+LCe5T6zhDPY59ywhNo6O3N5wGFaXtPHzGiU1w3Jh+2g9B8/x5QnUH5CDMM7Wfr12QlcJQsVYTupXcaJlGI0S1MpWZiUnU2P0wBkoVfoo+jz7q+6itN2GDH+J554AOPzq7W/+5eI8x8gMnOTQoQXE2GUhCOURPdDAVlHDZHQikMBmABsTb8dsGHYe7WyyQXcE84zpLdiRgy8+KZ9LDLYTdPPu79BB2rd7/tvOoVIXi3CCMW5INuPKOrrPX0Lwo1ab78G4l6wpPieIP3UMkZTjoFmfa9TCl2vQpMu/DRq2Mbk4do+NLoWFO+HKQ9eI+nfBNO9NZsjCJ1z81SkLpGYmo3YLW3eZY28/FMd00u4O+Qe0N/AAAAQeLjIGq1P7EAAdsDgFAAAGra6X2xxGf7AgAAAAAEWVo=",
);
const TAR_SHA256 = "sha256:9dca316daaf6e9dcc5f7f6ce6279c9196c682c1db67b4d11e2d31b86394444df";

/** "sha256 checked\n" written by `xz --check=sha256`: a check xz-embedded does not decode. */
const SHA256_XZ = bytesOf(
  "/Td6WFoAAArh+wyhAgAhARYAAAB0L+WjAQAOc2hhMjU2IGNoZWNrZWQKAAAceEEtTFUlvhpKYowNWOrcWXBXAHqGBBgA4nCTVsgpJgABPw+GgufoGJtLmgEAAAAAClla",
);

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) {
    yield new Uint8Array(0); // the decoder must not read an empty chunk as the end
    yield data.slice(at, at + size);
  }
}

async function errorOf(p: Promise<unknown>): Promise<ArchiveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveError);
  return err as ArchiveError;
}

describe("unxz", () => {
  it("decodes what python's lzma wrote, and concatenated streams", async () => {
    const out = await unxzBytes(TEXT_XZ, { entry: "text.xz" });
    expect(out.byteLength).toBe(6124);
    expect(await sha256(out)).toBe("sha256:e3b836d4412b2a801101034391a6eabc208713c6a0bd3fe61d3dc93f74445ddb");
    const twice = new Uint8Array(TEXT_XZ.byteLength * 2);
    twice.set(TEXT_XZ);
    twice.set(TEXT_XZ, TEXT_XZ.byteLength);
    expect((await unxzBytes(twice, { entry: "twice.xz" })).byteLength).toBe(12248);
  });

  it("streams: input in 7-byte chunks with empty ones between gives the same bytes", async () => {
    const parts: Uint8Array[] = [];
    for await (const c of unxz(chunks(TAR_XZ, 7), { entry: "app.tar.xz" })) parts.push(c);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    expect(out.byteLength).toBe(10240);
    expect(await sha256(out)).toBe(TAR_SHA256);
  });

  it("refuses a byte flipped in the middle of the compressed data, naming the entry", async () => {
    const bad = TAR_XZ.slice();
    const mid = bad.byteLength >> 1;
    bad[mid] = (bad[mid] as number) ^ 0x01;
    const err = await errorOf(unxzBytes(bad, { entry: "app.tar.xz" }));
    expect(err.entry).toBe("app.tar.xz");
    expect(err.code).toBe("ARCHIVE_INVALID");
    expect(err.message).toMatch(/^app\.tar\.xz: xz: corrupt data/);
  });

  it("never hands back wrong bytes: every single-bit flip anywhere is refused or changes nothing", async () => {
    const refused = new Set<number>();
    for (let i = 0; i < TAR_XZ.byteLength; i++) {
      const bad = TAR_XZ.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      const out = await unxzBytes(bad, { entry: "app.tar.xz" }).catch((e: unknown) => {
        expect(e).toBeInstanceOf(ArchiveError);
        return undefined;
      });
      if (out === undefined) refused.add(i);
      else expect(await sha256(out), `flip at byte ${i}`).toBe(TAR_SHA256);
    }
    // Only the range coder's first byte, which LZMA ignores, may change without harm.
    expect(refused.size).toBeGreaterThanOrEqual(TAR_XZ.byteLength - 1);
  });

  it("refuses truncated data wherever it is cut, and input that is not xz", async () => {
    for (const cut of [1, 12, 80, TAR_XZ.byteLength >> 1, TAR_XZ.byteLength - 1]) {
      const err = await errorOf(unxzBytes(TAR_XZ.subarray(0, cut), { entry: "cut.tar.xz" }));
      expect(err.message, `cut at ${cut}`).toMatch(/^cut\.tar\.xz: xz: (the data ends early|not xz data)/);
    }
    expect((await errorOf(unxzBytes(TAR_XZ.subarray(0, 200), { entry: "a" }))).message).toMatch(/ends early/);
    expect(
      (await errorOf(unxzBytes(new TextEncoder().encode("not xz at all"), { entry: "b" }))).message,
    ).toMatch(/not xz data/);
    expect((await errorOf(unxzBytes(new Uint8Array(0), { entry: "c" }))).message).toMatch(/not xz data/);
  });

  it("says so when a stream uses a SHA-256 check, which xz-embedded does not decode", async () => {
    expect((await errorOf(unxzBytes(SHA256_XZ, { entry: "s.xz" }))).message).toMatch(/SHA-256/);
  });

  it("stops a decompression bomb at the limit, and the decoder stays usable after any way out", async () => {
    const err = await errorOf(unxzBytes(TAR_XZ, { entry: "bomb.tar.xz", limit: 4096 }));
    expect(err.code).toBe("ARCHIVE_TOO_LARGE");
    expect(err.entry).toBe("bomb.tar.xz");
    // A consumer that stops early cancels the decode (the package decodes one stream at a time).
    for await (const _ of unxz(chunks(TAR_XZ, 64), { entry: "early" })) break;
    expect((await unxzBytes(TAR_XZ, { entry: "again" })).byteLength).toBe(10240);
  });
});

describe("ADD of a .tar.xz", () => {
  it("extracts it as BuildKit does (found by content, not by name)", async () => {
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: "FROM base\nADD app.tar.xz /srv/\nADD renamed.bin /other/\n",
      context: contextFromFiles({ "app.tar.xz": TAR_XZ, "renamed.bin": TAR_XZ }),
      store,
      images: fakeResolver(store),
    });
    const fs = await mergedFs(store, r.id);
    expect(await readText(fs, "srv/app/hello.txt")).toBe("hello from a tar.xz\n");
    expect(fs.nodeAt("srv/app/link")).toMatchObject({ type: "symlink", target: "hello.txt" });
    expect((await readText(fs, "srv/app/numbers.txt")).split("\n")[299]).toBe("300");
    expect(await readText(fs, "other/app/hello.txt")).toBe("hello from a tar.xz\n");
  });
});
