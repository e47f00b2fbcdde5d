const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** Bytes as people read them, in SI units as `docker images` prints sizes: 1.2 MB, 734 kB, 12 B. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "?";
  const sign = n < 0 ? "-" : "";
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

/**
 * A count with thousands separated by commas (10,001), without Intl: the first Intl call of a
 * page sets ICU up for some 20 ms, which would land on whatever the learner is doing then.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "?";
  const [whole = "", frac] = String(Math.abs(n)).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${n < 0 ? "-" : ""}${grouped}${frac ? `.${frac}` : ""}`;
}
