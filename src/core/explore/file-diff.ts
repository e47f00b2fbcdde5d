import { LayerLabError } from "../errors.ts";
import { looksLikeText } from "../view/hex.ts";
import { diffLines, type LineDiff } from "../view/line-diff.ts";
import type { Explorer, FileView } from "./explorer.ts";

/** Files larger than this are not diffed line by line (their digests say whether they differ). */
export const DIFF_MAX_BYTES = 1 << 20;

/**
 * How a file of one layer compares with the same path in another layer of the image: a line diff
 * (or the verdict that the texts are too different to pair), or why there is none.
 */
export type FileVersionDiff =
  | LineDiff
  | { kind: "missing"; layer: number }
  | { kind: "not-a-file"; layer: number; type: string }
  | { kind: "binary" }
  | { kind: "too-large"; size: number; limit: number };

/**
 * Diffs `path` as the merged tree at layer `other` has it (the old side) against the merged tree
 * at `layer` (the new side). Both versions are read whole, up to DIFF_MAX_BYTES each.
 */
export async function diffFileVersions(
  explorer: Explorer,
  id: string,
  path: string,
  layer: number,
  other: number,
): Promise<FileVersionDiff> {
  const current = await explorer.file(id, layer, path, 0, 0);
  let previous: FileView;
  try {
    previous = await explorer.file(id, other, path, 0, 0);
  } catch (err) {
    if (err instanceof LayerLabError && err.code === "NOT_FOUND") return { kind: "missing", layer: other };
    throw err;
  }
  for (const [f, at] of [
    [current, layer],
    [previous, other],
  ] as const) {
    // A hardlink reads as the file it links to.
    if (f.entry.type !== "file" && f.entry.type !== "hardlink")
      return { kind: "not-a-file", layer: at, type: f.entry.type };
    if (f.size > DIFF_MAX_BYTES) return { kind: "too-large", size: f.size, limit: DIFF_MAX_BYTES };
  }
  const [newBytes, oldBytes] = await Promise.all([
    explorer.file(id, layer, path, 0, current.size).then((f) => f.bytes),
    explorer.file(id, other, path, 0, previous.size).then((f) => f.bytes),
  ]);
  if (!looksLikeText(newBytes) || !looksLikeText(oldBytes)) return { kind: "binary" };
  const dec = new TextDecoder();
  return diffLines(dec.decode(oldBytes), dec.decode(newBytes));
}
