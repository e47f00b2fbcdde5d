import { describe, expect, it } from "vitest";
import { formatBytes, formatCount } from "./format.ts";

it("formats sizes the way docker prints them", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(999)).toBe("999 B");
  expect(formatBytes(1234)).toBe("1.23 kB");
  expect(formatBytes(72_800_000)).toBe("72.8 MB");
  expect(formatBytes(1_500_000_000)).toBe("1.50 GB");
  expect(formatBytes(-2048)).toBe("-2.05 kB");
});

describe("formatCount", () => {
  it("separates thousands with commas, as toLocaleString('en') does", () => {
    for (const n of [0, 7, 999, 1000, 10_001, 123_456, 1_000_000, 9_876_543_210, -4321])
      expect(formatCount(n)).toBe(n.toLocaleString("en"));
    expect(formatCount(Number.NaN)).toBe("?");
  });
});
