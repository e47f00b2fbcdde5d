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
}

/** One limit checked against one image. */
export interface ThresholdCheck {
  rule: keyof Thresholds;
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
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Checks an image against the limits that are set; an empty list when none are. */
export function checkThresholds(img: ImageFigures, t: Thresholds): ThresholdCheck[] {
  const out: ThresholdCheck[] = [];
  const add = (rule: keyof Thresholds, limit: number, actual: number, pass: boolean, what: string) =>
    out.push({ rule, limit, actual, pass, message: `${pass ? "PASS" : "FAIL"} ${img.name}: ${what}` });
  const e = img.efficiency;
  if (t.lowestEfficiency !== undefined) {
    add(
      "lowestEfficiency",
      t.lowestEfficiency,
      e.score,
      e.score >= t.lowestEfficiency,
      `efficiency ${pct(e.score)} (lowest allowed ${pct(t.lowestEfficiency)})`,
    );
  }
  if (t.highestWastedBytes !== undefined) {
    add(
      "highestWastedBytes",
      t.highestWastedBytes,
      e.wastedBytes,
      e.wastedBytes <= t.highestWastedBytes,
      `${formatBytes(e.wastedBytes)} wasted (at most ${formatBytes(t.highestWastedBytes)} allowed)`,
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
