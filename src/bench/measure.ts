/** Times `fn` over `runs` runs after one warm-up and returns the median in milliseconds. */
export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The median of some figures. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The median of what `fn` measures over `runs` runs (run `i` is told its number), one after another. */
export async function medianOfRuns(
  runs: number,
  fn: (i: number) => number | Promise<number>,
): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn(i));
  return median(values);
}

/** Formats a row of figures as aligned columns. */
export function row(label: string, ...cells: (string | number)[]): string {
  return [
    label.padEnd(44),
    ...cells.map((c) => String(typeof c === "number" ? c.toFixed(1) : c).padStart(14)),
  ].join("");
}
