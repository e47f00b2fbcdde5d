import { describe, expect, it } from "vitest";
import { JsonWriter, lazyArray } from "./json-writer.ts";

async function written(value: unknown): Promise<{ text: string; pieces: number }> {
  const pieces: string[] = [];
  const w = new JsonWriter((t) => pieces.push(t));
  await w.write(value);
  w.end();
  return { text: pieces.join(""), pieces: pieces.length };
}

describe("JsonWriter", () => {
  it("writes what JSON.stringify(value, null, 2) writes", async () => {
    const value = {
      s: 'a "quoted"\nline',
      n: 1.5,
      z: -0,
      b: false,
      nul: null,
      gone: undefined,
      fn: () => 1,
      empty: [],
      emptyObj: {},
      list: [1, "two", undefined, { deep: [[], [{}], { x: [null] }] }],
      date: new Date(0),
      unicode: "♥ \u0000 \u2028",
    };
    expect((await written(value)).text).toBe(JSON.stringify(value, null, 2));
    for (const v of [1, "x", null, [], {}, [[]]])
      expect((await written(v)).text).toBe(JSON.stringify(v, null, 2));
  });

  it("makes lazy items only when it reaches them, and writes a large document in pieces", async () => {
    const made: number[] = [];
    const files = Array.from({ length: 5000 }, (_, i) => ({ path: `usr/lib/file-${i}`, size: i }));
    const seen: number[] = [];
    const value = {
      images: lazyArray(3, async (i) => {
        made.push(i);
        // Each item is asked for after the one before has been written.
        expect(seen.at(-1) ?? -1).toBe(i - 1);
        seen.push(i);
        return { i, files };
      }),
      checks: lazyArray(
        () => 0,
        async () => 0,
        { omitWhenEmpty: true },
      ),
    };
    const { text, pieces } = await written(value);
    expect(made).toEqual([0, 1, 2]);
    expect(text).toBe(JSON.stringify({ images: [0, 1, 2].map((i) => ({ i, files })) }, null, 2));
    expect(pieces).toBeGreaterThan(10);
  });
});
