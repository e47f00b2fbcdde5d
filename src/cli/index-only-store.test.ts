import { describe, expect, it } from "vitest";
import { sha256 } from "../core/digest.ts";
import { DigestMismatchError } from "../core/errors.ts";
import { openIndexOnlyStore } from "./index-only-store.ts";

async function* chunks(...parts: Uint8Array[]) {
  yield* parts;
}

describe("index-only store (inspect's)", () => {
  it("keeps blobs written whole, hashes streamed ones without keeping their bytes", async () => {
    const store = openIndexOnlyStore();
    const index = new TextEncoder().encode('{"entries":[]}');
    const kept = await store.blobs.put(index);
    expect(await store.blobs.get(kept.digest)).toEqual(index);

    const layer = new Uint8Array(1 << 20).fill(7);
    const digest = await sha256(layer);
    const put = await store.blobs.putStream(chunks(layer.subarray(0, 1000), layer.subarray(1000)), {
      expected: digest,
    });
    expect(put).toEqual({ digest, size: layer.byteLength, deduplicated: false });
    expect(await store.blobs.has(digest)).toBe(true);
    expect(await store.blobs.size(digest)).toBe(layer.byteLength);
    await expect(store.blobs.get(digest)).rejects.toThrow(/hashed but not kept/);
    expect(() => store.blobs.stream(digest)).toThrow(/hashed but not kept/);
    expect(await store.blobs.stats()).toEqual({ count: 2, bytes: index.byteLength + layer.byteLength });
    // The same bytes again are a duplicate, and a wrong expected digest still fails.
    expect((await store.blobs.putStream(chunks(layer))).deduplicated).toBe(true);
    await expect(store.blobs.putStream(chunks(layer), { expected: kept.digest })).rejects.toThrow(
      DigestMismatchError,
    );
  });
});
