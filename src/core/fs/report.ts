/**
 * The overlay's figures as plain JSON-ready data, in the shape `layerlab inspect --json` promises
 * (`images[].layers[].changes[]` with `path`, `kind`, `size`; `images[].efficiency` with `score`
 * and `wastedBytes`), so the command only has to place them.
 */
import { diffLayer } from "./diff.ts";
import { computeEfficiency } from "./efficiency.ts";
import type { LayerStack } from "./overlay.ts";

/** One change of a layer, as scripts read it. */
export interface ChangeJson {
  /** Clean relative path (no leading slash). */
  path: string;
  kind: "added" | "modified" | "removed";
  type: string;
  /** Bytes now; for removals, the bytes hidden. */
  size: number;
}

/** The image's efficiency, as scripts read it. */
export interface EfficiencyJson {
  score: number;
  wastedBytes: number;
  totalBytes: number;
  /** dive's own score and wasted bytes for the same image, for comparison. */
  dive: { score: number; wastedBytes: number };
  /** The paths wasting the most, largest first, each with the layers that wrote or removed it. */
  inefficiencies: {
    path: string;
    wastedBytes: number;
    layers: { layer: number; action: string; size: number }[];
  }[];
}

/** Per-layer changes (only what each layer really changed) and efficiency of a stacked image. */
export function summarizeOverlay(
  stack: LayerStack,
  limit = 100,
): { changes: ChangeJson[][]; efficiency: EfficiencyJson } {
  const changes = stack.layers.map((_, n) =>
    diffLayer(stack, n).changes.map((r) => ({
      path: r.path,
      kind: r.kind as ChangeJson["kind"],
      type: r.type,
      size: r.size,
    })),
  );
  const eff = computeEfficiency(stack, { dive: true, limit });
  return {
    changes,
    efficiency: {
      score: eff.score,
      wastedBytes: eff.wastedBytes,
      totalBytes: eff.totalBytes,
      dive: eff.dive!,
      inefficiencies: eff.inefficiencies.map((i) => ({
        path: i.path,
        wastedBytes: i.wastedBytes,
        layers: i.occurrences.map((o) => ({ layer: o.layer, action: o.action, size: o.size })),
      })),
    },
  };
}
