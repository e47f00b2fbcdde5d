import { expect, it } from "vitest";
import { formatBytes } from "./format.ts";

it("formats sizes the way docker prints them", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(999)).toBe("999 B");
  expect(formatBytes(1234)).toBe("1.23 kB");
  expect(formatBytes(72_800_000)).toBe("72.8 MB");
  expect(formatBytes(1_500_000_000)).toBe("1.50 GB");
  expect(formatBytes(-2048)).toBe("-2.05 kB");
});
