import { describe, expect, it } from "vitest";
import { computeEfficiency, diveEfficiency } from "./efficiency.ts";
import { changeset, dirEntry, fileEntry } from "./fixtures.ts";
import { stackLayers } from "./overlay.ts";

/**
 * dive's own figures (wagoodman/dive dive/filetree/efficiency.go, dive/image/analysis.go), each
 * hand-computed the way dive computes it: per path, the sizes of its leaf nodes in every layer's
 * tree; score = Σ smallest / Σ all; wasted = Σ all over paths seen in two or more layers.
 */
describe("dive's efficiency, faults included", () => {
  it("a whiteout of a directory a later layer only implied counts 0, as in dive's stacked tree", () => {
    const stack = stackLayers([
      changeset([dirEntry("a"), fileEntry("a/f", 10)]),
      // No entry for a/ itself: dive's layer tree gives `a` an empty payload, and stacking it over
      // layer 0 replaces a's directory payload, so dive no longer sees `a` as a directory.
      changeset([fileEntry("a/g", 3)]),
      changeset([], ["a"]),
      changeset([fileEntry("a", 7)]),
    ]);
    // Leaves: a/f 10 (layer 0), a/g 3 (layer 1), `a` whiteout 0 (layer 2), `a` file 7 (layer 3).
    // Σ smallest = 10 + 3 + min(0, 7) = 13; Σ all = 10 + 3 + 0 + 7 = 20; `a` twice: wasted 7.
    expect(diveEfficiency(stack)).toEqual({ score: 13 / 20, wastedBytes: 7 });
    // LayerLab: 20 bytes written, only the file `a` (7) is left.
    expect(computeEfficiency(stack).score).toBe(7 / 20);
  });

  it("a whiteout of a directory counts everything below it; a deleted file counts 0", () => {
    const stack = stackLayers([
      changeset([
        dirEntry("d"),
        fileEntry("d/x", 4),
        dirEntry("d/s"),
        fileEntry("d/s/y", 6),
        fileEntry("k", 5),
      ]),
      changeset([], ["d", "k"]),
      changeset([dirEntry("d"), fileEntry("d/x", 4)]),
    ]);
    // Leaves: d/x 4, d/s/y 6, k 5 (layer 0); `d` 10, `k` 0 (layer 1); d/x 4 (layer 2).
    // Paths: d/x [4, 4], d/s/y [6], k [5, 0], d [10]. Σ smallest = 4 + 6 + 0 + 10 = 20;
    // Σ all = 8 + 6 + 5 + 10 = 29; wasted = d/x 8 + k 5 = 13.
    expect(diveEfficiency(stack)).toEqual({ score: 20 / 29, wastedBytes: 13 });
  });

  it("a whiteout of a path that is not below stops dive's walk of that layer", () => {
    const stack = stackLayers([
      changeset([fileEntry("b", 5)]),
      // dive visits `.wh.zz` before `a` and `c` (byte order), fails to find zz below, and skips the
      // rest of the layer; zz keeps dive's "not seen" smallest size, -1.
      changeset([fileEntry("c", 4), fileEntry("a", 2)], ["zz"]),
    ]);
    // Σ smallest = 5 + (-1) = 4; Σ all = 5; no path twice.
    expect(diveEfficiency(stack)).toEqual({ score: 4 / 5, wastedBytes: 0 });
  });

  it("ignores opaque directories and counts an empty directory as a leaf", () => {
    const stack = stackLayers([
      changeset([dirEntry("o"), fileEntry("o/p", 8), dirEntry("e")]),
      changeset([dirEntry("o"), fileEntry("o/q", 2)], [], ["o"]),
    ]);
    // Leaves: o/p 8, e 0 (layer 0); o/q 2 (layer 1; o has children, the marker is dropped).
    expect(diveEfficiency(stack)).toEqual({ score: 1, wastedBytes: 0 });
    // LayerLab counts o/p as hidden by the opaque directory.
    expect(computeEfficiency(stack).wastedBytes).toBe(8);
  });
});
