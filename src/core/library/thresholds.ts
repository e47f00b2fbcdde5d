import { formatBytes } from "../format.ts";

/** Limits a CI job sets on an image, as dive's CI mode does (all optional). */
export interface Thresholds {
  /** The efficiency score must be at least this (0..1). */
  lowestEfficiency?: number;
  /** Wasted bytes must be at most this. */
  highestWastedBytes?: number;
  /** Wasted bytes as a share of the image's bytes must be at most this (0..1). */
  highestWastedShare?: number;
  /** The image's layer bytes must be at most this. */
  highestImageBytes?: number;
  /**
   * Check lowestEfficiency and highestWastedBytes against dive's figures (`ImageFigures.dive`)
   * instead of LayerLab's, so a CI job ported from dive keeps its limits (`inspect --dive`).
   */
  dive?: boolean;
}

/** One limit checked against one image. */
export interface ThresholdCheck {
  rule: Exclude<keyof Thresholds, "dive">;
  limit: number;
  actual: number;
  pass: boolean;
  /** One sentence a person reads in a CI log. */
  message: string;
}

/** The figures the limits apply to. */
export interface ImageFigures {
  name: string;
  size: number;
  efficiency: { score: number; wastedBytes: number; totalBytes: number };
  /** dive's score and wasted bytes for the same image (needed when the limits ask for dive's). */
  dive?: { score: number; wastedBytes: number };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Checks an image against the limits that are set; an empty list when none are. */
export function checkThresholds(img: ImageFigures, t: Thresholds): ThresholdCheck[] {
  const out: ThresholdCheck[] = [];
  const add = (rule: ThresholdCheck["rule"], limit: number, actual: number, pass: boolean, what: string) =>
    out.push({ rule, limit, actual, pass, message: `${pass ? "PASS" : "FAIL"} ${img.name}: ${what}` });
  const e = img.efficiency;
  if (t.dive && !img.dive) throw new RangeError(`no dive figures for ${img.name}`);
  // Under `dive`, the score and the wasted bytes are dive's (see fs/efficiency.ts diveEfficiency).
  const scored = t.dive ? img.dive! : e;
  const by = t.dive ? " (dive's definition)" : "";
  if (t.lowestEfficiency !== undefined) {
    add(
      "lowestEfficiency",
      t.lowestEfficiency,
      scored.score,
      scored.score >= t.lowestEfficiency,
      `efficiency ${pct(scored.score)}${by} (lowest allowed ${pct(t.lowestEfficiency)})`,
    );
  }
  if (t.highestWastedBytes !== undefined) {
    add(
      "highestWastedBytes",
      t.highestWastedBytes,
      scored.wastedBytes,
      scored.wastedBytes <= t.highestWastedBytes,
      `${formatBytes(scored.wastedBytes)} wasted${by} (at most ${formatBytes(t.highestWastedBytes)} allowed)`,
    );
  }
  if (t.highestWastedShare !== undefined) {
    const share = e.totalBytes > 0 ? e.wastedBytes / e.totalBytes : 0;
    add(
      "highestWastedShare",
      t.highestWastedShare,
      share,
      share <= t.highestWastedShare,
      `${pct(share)} of its bytes wasted (at most ${pct(t.highestWastedShare)} allowed)`,
    );
  }
  if (t.highestImageBytes !== undefined) {
    add(
      "highestImageBytes",
      t.highestImageBytes,
      img.size,
      img.size <= t.highestImageBytes,
      `${formatBytes(img.size)} in layers (at most ${formatBytes(t.highestImageBytes)} allowed)`,
    );
  }
  return out;
}
