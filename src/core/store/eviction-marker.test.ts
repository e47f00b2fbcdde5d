import { describe, expect, it } from "vitest";
import {
  detectEvictedStore,
  formatStoreMarker,
  parseStoreMarker,
  STORE_MARKER_COOKIE,
} from "./eviction-marker.ts";

const cookie = (names: string[]) => `theme=dark; ${STORE_MARKER_COOKIE}=${formatStoreMarker(names)}; other=1`;

describe("the note of what the store held (kept where eviction does not reach)", () => {
  it("reads back the image count and names among other cookies", () => {
    expect(parseStoreMarker(cookie(["layerlab/example:latest", "alpine:3.19"]))).toEqual({
      images: 2,
      names: ["layerlab/example:latest", "alpine:3.19"],
    });
  });

  it("stays small: a few names, the rest only counted", () => {
    const names = Array.from({ length: 50 }, (_, i) => `registry.example.com/team/${"x".repeat(90)}:${i}`);
    const value = formatStoreMarker(names);
    expect(value.length).toBeLessThan(1500);
    const m = parseStoreMarker(cookie(names))!;
    expect(m.images).toBe(50);
    expect(m.names.length).toBeGreaterThan(0);
    expect(m.names.length).toBeLessThanOrEqual(8);
    expect(names.slice(0, m.names.length)).toEqual(m.names);
  });

  it("ignores a missing or malformed note", () => {
    expect(parseStoreMarker("")).toBeUndefined();
    expect(parseStoreMarker("theme=dark")).toBeUndefined();
    expect(parseStoreMarker(`${STORE_MARKER_COOKIE}=%7Bnot json`)).toBeUndefined();
    expect(parseStoreMarker(`${STORE_MARKER_COOKIE}=${encodeURIComponent('{"images":-1}')}`)).toBeUndefined();
  });

  it("an empty store after a visit that left images is evicted; a first visit, a clear or images left are not", () => {
    const held = parseStoreMarker(cookie(["a", "b", "c"]));
    expect(detectEvictedStore(held, 0)).toEqual({ images: 3, names: ["a", "b", "c"] });
    expect(detectEvictedStore(undefined, 0)).toBeUndefined();
    expect(detectEvictedStore(parseStoreMarker(cookie([])), 0)).toBeUndefined();
    expect(detectEvictedStore(held, 1)).toBeUndefined();
  });
});
