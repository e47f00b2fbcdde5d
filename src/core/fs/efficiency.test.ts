import { describe, expect, it } from "vitest";
import { computeEfficiency } from "./efficiency.ts";
import { changeset, dirEntry, fakeDigest, fileEntry } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";

describe("efficiency (dive's idea, reclaimable bytes counted once)", () => {
  it("matches the hand-computed figures of an image with duplicated and deleted files", () => {
    const stack = stackLayers([
      // Layer 0 writes 100 + 50 + 30 + 20 = 200 bytes.
      changeset([
        dirEntry("app"),
        fileEntry("app/a", 100, { digest: fakeDigest(1) }),
        fileEntry("app/b", 50),
        dirEntry("data"),
        fileEntry("data/x", 30),
        fileEntry("data/y", 20),
      ]),
      // Layer 1 rewrites app/a (120 bytes) and deletes app/b with a whiteout.
      changeset([dirEntry("app"), fileEntry("app/a", 120, { digest: fakeDigest(2) })], ["app/b"]),
      // Layer 2 makes data/ opaque (hiding x and y), adds data/z (5 bytes) and rewrites app/a
      // identically (the same 120 bytes again).
      changeset(
        [dirEntry("data"), fileEntry("data/z", 5), fileEntry("app/a", 120, { digest: fakeDigest(2) })],
        [],
        ["data"],
      ),
    ]);
    const report = computeEfficiency(stack, { dive: true });
    // totalBytes = 200 (layer 0) + 120 (layer 1) + 5 + 120 (layer 2) = 445.
    expect(report.totalBytes).toBe(445);
    // The final tree holds app/a (layer 2's 120 bytes) and data/z (5): finalBytes = 125.
    expect(report.finalBytes).toBe(125);
    // Reclaimable: app/a's layer-0 copy (100) and layer-1 copy (120), app/b (50), data/x (30),
    // data/y (20) = 320 = 445 - 125. Score = 125 / 445.
    expect(report.wastedBytes).toBe(320);
    expect(report.score).toBeCloseTo(125 / 445, 12);
    // dive would say: score = Σ min / Σ cumulative = (100 + 0 + 30 + 20 + 5) / 445 = 155/445 (it
    // takes app/a's smallest version, 100, as the kept one, and never counts data/x and data/y, as it
    // ignores opaque whiteouts), and wasted = Σ cumulative of multi-layer paths = 340 + 50 = 390
    // (it counts the copy of app/a that must stay).
    expect(report.dive).toEqual({ score: 155 / 445, wastedBytes: 390 });
    // A limit lists the most wasteful paths only; the totals still cover every path.
    const top2 = computeEfficiency(stack, { limit: 2 });
    expect(top2.inefficiencies.map((i) => i.path)).toEqual(["app/a", "app/b"]);
    expect(top2.wastedBytes).toBe(320);
    expect(top2.inefficiencies[0]).toEqual(report.inefficiencies[0]);
    expect(report.inefficiencies.map((i) => [i.path, i.wastedBytes, i.cumulativeBytes])).toEqual([
      ["app/a", 220, 340],
      ["app/b", 50, 50],
      ["data/x", 30, 30],
      ["data/y", 20, 20],
    ]);
    expect(report.inefficiencies[0]!.occurrences.map((o) => `${o.action}@${o.layer}`)).toEqual([
      "written@0",
      "written@1",
      "written@2",
    ]);
    expect(report.inefficiencies[1]!.occurrences).toEqual([
      { layer: 0, action: "written", size: 50 },
      { layer: 1, action: "removed", size: 50, by: "app/b", cause: "whiteout" },
    ]);
    expect(report.inefficiencies[2]!.occurrences[1]).toEqual({
      layer: 2,
      action: "removed",
      size: 30,
      by: "data",
      cause: "opaque",
    });
  });

  it("counts a deleted directory's files, and each hidden byte once", () => {
    const stack = stackLayers([
      changeset([
        dirEntry("cache"),
        fileEntry("cache/1", 10),
        dirEntry("cache/sub"),
        fileEntry("cache/sub/2", 7),
      ]),
      // A whiteout of the file and of its directory in the same layer: hidden once.
      changeset([], ["cache/sub/2", "cache"]),
      // A later opaque on a re-created directory hides nothing more.
      changeset([dirEntry("cache")], [], ["cache"]),
    ]);
    const report = computeEfficiency(stack);
    expect(report.wastedBytes).toBe(17);
    expect(report.score).toBe(0);
    expect(report.inefficiencies.map((i) => [i.path, i.wastedBytes])).toEqual([
      ["cache/1", 10],
      ["cache/sub/2", 7],
    ]);
    expect(
      report.inefficiencies.flatMap((i) => i.occurrences.filter((o) => o.action === "removed")),
    ).toHaveLength(2);
  });

  it("a file replaced by a directory, and a directory replaced by a file, are reclaimable", () => {
    const stack = stackLayers([
      changeset([fileEntry("x", 40), dirEntry("d"), fileEntry("d/f", 8)]),
      changeset([dirEntry("x"), fileEntry("d", 3)]),
    ]);
    const report = computeEfficiency(stack);
    expect(report.wastedBytes).toBe(48);
    expect(report.finalBytes).toBe(3);
  });

  it("scores an empty or perfectly efficient image as 1", () => {
    expect(computeEfficiency(stackLayers([])).score).toBe(1);
    const once = computeEfficiency(
      stackLayers([changeset([fileEntry("a", 5)]), changeset([fileEntry("b", 6)])]),
      { dive: true },
    );
    expect(once).toMatchObject({
      score: 1,
      wastedBytes: 0,
      inefficiencies: [],
      dive: { score: 1, wastedBytes: 0 },
    });
  });
});
