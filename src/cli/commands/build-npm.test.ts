import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

describe("layerlab build with npm", () => {
  it("builds over the node stand-in offline and fails at the npm line that names a package LayerLab lacks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "layerlab-npm-"));
    writeFileSync(
      join(dir, "Dockerfile"),
      "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nRUN npm install left-padz\n",
    );
    writeFileSync(
      join(dir, "package.json"),
      '{"name":"app","version":"1.0.0","dependencies":{"lodash":"^4.17.21"}}\n',
    );
    const r = await cli("build", "-o", join(dir, "out.tar"), dir);
    expect(r.err).toContain("stand-in for node:20-bookworm-slim");
    expect(r.err).toContain("added 1 package in");
    expect(r.err).toContain("npm error code E404");
    expect(r.err).toContain("LayerLab builds offline");
    expect(r.err).toMatch(/line 5/);
    expect(r.code).toBe(1);
  }, 60_000);
});
