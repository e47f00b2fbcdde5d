import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

const FIXTURE = fileURLToPath(new URL("../../testdata/archives/skopeo-docker-archive.tar", import.meta.url));

describe("layerlab inspect in CI mode", () => {
  it("exits 1 when a limit fails, and says which", async () => {
    const r = await cli("inspect", FIXTURE, "--lowest-efficiency", "0.99", "--highest-wasted-bytes", "1k");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL .*ll-fix-app:latest: efficiency 91\.2 % \(lowest allowed 99\.0 %\)/);
    expect(r.out).toMatch(/PASS .*: 12 B wasted/);
  });
  it("exits 0 when every limit passes; JSON carries the checks", async () => {
    const r = await cli(
      "inspect",
      FIXTURE,
      "--json",
      "--highest-wasted-percent",
      "50",
      "--highest-image-size",
      "1M",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.checks.map((c: { rule: string; pass: boolean }) => [c.rule, c.pass])).toEqual([
      ["highestWastedShare", true],
      ["highestImageBytes", true],
    ]);
    expect(j.images[0].efficiency.wastedBytes).toBe(12);
  });
  it("refuses a limit out of range", async () => {
    const r = await cli("inspect", FIXTURE, "--lowest-efficiency", "7");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--lowest-efficiency takes a number from 0 to 1");
  });
});
