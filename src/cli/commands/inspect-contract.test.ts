import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

/**
 * The JSON keys scripts rely on (the overlay issue's contract), on an image with a file written
 * twice and a file deleted later. Hand-checked: layer 3 hides the 1,000-byte first version of
 * data/big (wasted 1,000), layer 4 deletes the 3-byte data/small (wasted 3): 1,003 bytes wasted.
 */
describe("layerlab inspect --json contract", () => {
  it("lists real changes only, with the efficiency figures", async () => {
    const dir = mkdtempSync(join(tmpdir(), "layerlab-contract-"));
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "big"), "x".repeat(1000));
    writeFileSync(join(dir, "data", "small"), "hi\n");
    writeFileSync(join(dir, "big2"), "y".repeat(2000));
    writeFileSync(
      join(dir, "Dockerfile"),
      "FROM busybox\nCOPY data /data\nCOPY big2 /data/big\nRUN rm /data/small\nENV DONE=1\n",
    );
    const out = join(dir, "out.tar");
    const b = await cli("build", "-t", "contract:1", "-o", out, dir);
    expect(b.code, b.err).toBe(0);
    const r = await cli("inspect", out, "--json");
    expect(r.code).toBe(0);
    const img = JSON.parse(r.out).images[0];
    expect(img.tags).toContain("contract:1");
    expect(img.layers).toHaveLength(4);
    for (const l of img.layers) {
      expect(l.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(typeof l.size).toBe("number");
      expect(typeof l.createdBy).toBe("string");
      expect(Array.isArray(l.changes)).toBe(true);
      for (const c of l.changes) {
        expect(c.path).not.toMatch(/^\//);
        expect(["added", "modified", "removed"]).toContain(c.kind);
        expect(typeof c.size).toBe("number");
      }
    }
    const [, copy, rewrite, rm] = img.layers;
    expect(copy.createdBy).toBe("COPY data /data # buildkit");
    expect(copy.changes.map((c: { path: string }) => c.path).sort()).toEqual([
      "data",
      "data/big",
      "data/small",
    ]);
    expect(rewrite.changes).toEqual([
      expect.objectContaining({ path: "data/big", kind: "modified", size: 2000 }),
    ]);
    expect(rm.changes).toEqual([expect.objectContaining({ path: "data/small", kind: "removed", size: 3 })]);
    expect(img.efficiency.wastedBytes).toBe(1003);
    expect(img.efficiency.score).toBeGreaterThan(0);
    expect(img.efficiency.score).toBeLessThan(1);
  });
});
