import { afterEach, describe, expect, it } from "vitest";
import { collectBytes } from "../archive/bytes.ts";
import { TarParser } from "../archive/tar-reader.ts";
import { writeTar } from "../archive/tar-writer.ts";
import { type Digest, setSha256Provider, sha256, wasmSha256 } from "../digest.ts";
import { pseudoRandomBytes } from "../store/conformance.ts";
import { LayerIndexer, ONE_SHOT_MAX_BYTES } from "./layer-index.ts";

const FILES: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["small", new TextEncoder().encode("hello\n")],
  ["spans-pieces", pseudoRandomBytes(200_000, 2)],
  // More files put together from pieces in the indexer's one reused buffer, smaller and larger.
  ["spans-pieces-smaller", pseudoRandomBytes(70_000, 5)],
  ["spans-pieces-larger", pseudoRandomBytes(300_000, 6)],
  ["exactly-one-piece", pseudoRandomBytes(65_536 - 512, 3)],
  // Over the one-shot limit: streamed through the incremental hash instead.
  ["large", pseudoRandomBytes(ONE_SHOT_MAX_BYTES + 1000, 4)],
];

async function indexDigests(pieceSize: number): Promise<Record<string, Digest | undefined>> {
  const tar = await collectBytes(writeTar(FILES.map(([name, body]) => ({ name, body }))));
  const indexer = await LayerIndexer.create();
  const parser = new TarParser(indexer);
  for (let at = 0; at < tar.byteLength; at += pieceSize) {
    // Pieces are copied, then overwritten, as a decoder reusing its output buffer would.
    const piece = tar.slice(at, at + pieceSize);
    parser.push(piece);
    piece.fill(0);
    await indexer.drain(100_000);
  }
  parser.end();
  const index = await indexer.finish("sha256:00" as Digest);
  return Object.fromEntries(index.entries.map((e) => [e.path, e.digest]));
}

async function expected(): Promise<Record<string, Digest>> {
  return Object.fromEntries(await Promise.all(FILES.map(async ([n, b]) => [n, await sha256(b)] as const)));
}

describe("per-file digests of a layer", () => {
  afterEach(() => setSha256Provider(wasmSha256));

  it("are each file's sha256, with WebCrypto's one-shot digest and pieces reused by the decoder", async () => {
    expect(wasmSha256.oneShot, "Node 20 has WebCrypto").toBeDefined();
    const want = await expected();
    for (const size of [512, 65_536, 1 << 20]) expect(await indexDigests(size)).toEqual(want);
  });

  it("are the same where the provider has no one-shot digest (every file streams through wasm)", async () => {
    const want = await expected();
    setSha256Provider({ create: wasmSha256.create, reusable: wasmSha256.reusable });
    expect(await indexDigests(65_536)).toEqual(want);
  });
});
