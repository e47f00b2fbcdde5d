import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ArchiveError } from "../errors.ts";
import { collectBytes, streamBytes } from "./bytes.ts";
import { readAll, readTar } from "./tar-reader.ts";
import { isTarBlock, openTarStream } from "./tar-stream.ts";
import { writeTar } from "./tar-writer.ts";

const body = new TextEncoder().encode("layer bytes ".repeat(20_000));
const tar = await collectBytes(
  writeTar([
    { name: "a.txt", body, mtime: 1_700_000_000 },
    { name: "b.txt", body: body.subarray(0, 1000), mtime: 1_700_000_000 },
  ]),
);

async function names(stream: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(stream)) {
    await readAll(e.body, 1 << 20);
    out.push(e.header.name);
  }
  return out;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ArchiveError,
  );

describe("openTarStream", () => {
  it("gives a plain tar's own chunks back, and a gzip-compressed tar decompressed, told by their bytes", async () => {
    const plain = await openTarStream(streamBytes(tar, [700]), "image.tar");
    expect(plain.compression).toBe("none");
    expect(Buffer.from(await collectBytes(plain.tar)).equals(Buffer.from(tar))).toBe(true);
    // Named .tar, compressed all the same: the name says nothing.
    const gz = await openTarStream(streamBytes(gzipSync(tar), [333]), "image.tar");
    expect(gz.compression).toBe("gzip");
    expect(await names(gz.tar)).toEqual(["a.txt", "b.txt"]);
  });

  it("refuses what is neither a tar nor a compressed tar, naming the file and its first bytes", async () => {
    const json = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, padding: "x".repeat(600) }));
    const notTar = await refusal(openTarStream(streamBytes(json), "manifest.json"));
    expect(notTar).toBeInstanceOf(ArchiveError);
    expect(notTar!.message).toBe(
      "manifest.json: not an image archive: neither a tar nor a gzip- or zstd-compressed tar (it starts 7b 22 73 63 68 65 6d 61)",
    );
    const gzJson = await refusal(openTarStream(streamBytes(gzipSync(json)), "config.gz"));
    expect(gzJson!.message).toMatch(
      /^config\.gz: gzip-compressed, but what it holds is not a tar: not an image archive \(it starts 7b 22/,
    );
    const empty = await refusal(openTarStream(streamBytes(new Uint8Array(0)), "empty.tar"));
    expect(empty!.message).toBe("empty.tar: empty file: not an image archive");
    // Shorter than a tar block: not a tar either.
    expect(isTarBlock(tar.subarray(0, 511))).toBe(false);
    expect(isTarBlock(tar.subarray(0, 512))).toBe(true);
    expect(isTarBlock(new Uint8Array(512))).toBe(true);
  });

  it("a truncated compressed tar fails as it is read, naming the file", async () => {
    const cut = gzipSync(tar).subarray(0, 600);
    const opened = await openTarStream(streamBytes(cut), "cut.tar.gz");
    const err = await refusal(names(opened.tar));
    expect(err).toBeInstanceOf(ArchiveError);
    expect(err!.message).toMatch(/^cut\.tar\.gz: (truncated or )?corrupt gzip data/);
  });
});
