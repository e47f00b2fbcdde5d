/** "Did you mean" suggestions for unknown keywords, flags and option values, as BuildKit's util/suggest. */

/** Damerau (optimal string alignment) distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest option within a small edit distance (case-insensitive), or undefined. */
export function suggest(value: string, options: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  if (v.length === 0 || v.length > 64) return undefined;
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const o of options) {
    const dist = editDistance(v, o.toLowerCase());
    if (dist < bestDist) {
      bestDist = dist;
      best = o;
    }
  }
  const limit = Math.min(2, Math.max(1, Math.floor(v.length / 3)));
  return bestDist > 0 && bestDist <= limit ? best : undefined;
}
