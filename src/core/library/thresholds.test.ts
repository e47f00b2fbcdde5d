import { expect, it } from "vitest";
import { checkThresholds } from "./thresholds.ts";

const img = {
  name: "app:1",
  size: 120_000_000,
  efficiency: { score: 0.8, wastedBytes: 24_000_000, totalBytes: 120_000_000 },
};

it("passes and fails each limit, saying why", () => {
  const c = checkThresholds(img, {
    lowestEfficiency: 0.9,
    highestWastedBytes: 50_000_000,
    highestWastedShare: 0.1,
    highestImageBytes: 200_000_000,
  });
  expect(c.map((x) => [x.rule, x.pass])).toEqual([
    ["lowestEfficiency", false],
    ["highestWastedBytes", true],
    ["highestWastedShare", false],
    ["highestImageBytes", true],
  ]);
  expect(c[0]!.message).toBe("FAIL app:1: efficiency 80.0 % (lowest allowed 90.0 %)");
  expect(c[1]!.message).toBe("PASS app:1: 24.0 MB wasted (at most 50.0 MB allowed)");
  expect(checkThresholds(img, {})).toEqual([]);
});
