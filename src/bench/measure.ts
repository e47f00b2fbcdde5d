/** Times `fn` over `runs` runs after one warm-up and returns the median in milliseconds. */
export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Formats a row of figures as aligned columns. */
export function row(label: string, ...cells: (string | number)[]): string {
  return [
    label.padEnd(44),
    ...cells.map((c) => String(typeof c === "number" ? c.toFixed(1) : c).padStart(14)),
  ].join("");
}
