import { gunzipSync as nodeGunzip, gzipSync as nodeGzip } from "node:zlib";
import { expect, it } from "vitest";
import { constants, gunzipSync, gzipSync } from "./zlib.ts";

it("round-trips with Node's zlib both ways and honours the output limit", () => {
  const data = new TextEncoder().encode("layers ".repeat(1000));
  expect(new Uint8Array(nodeGunzip(gzipSync(data, { level: constants.Z_BEST_COMPRESSION })))).toEqual(data);
  expect(gunzipSync(new Uint8Array(nodeGzip(data)))).toEqual(data);
  expect(() => gunzipSync(gzipSync(data), { maxOutputLength: 100 })).toThrow(/larger than 100/);
});
