/** One line of a unified view of two texts. */
export interface DiffLine {
  op: "same" | "add" | "del";
  text: string;
  /** 1-based line numbers in the old and new text (absent for the side without the line). */
  a?: number;
  b?: number;
}

/**
 * A line diff: every line of both texts in order, or, when the texts differ by more than the
 * limits allow, a verdict that they are too different to pair line by line.
 */
export type LineDiff =
  | { kind: "lines"; lines: DiffLine[] }
  | {
      kind: "too-different";
      /** Lines each text has in the part that differs (after the common head and tail). */
      oldLines: number;
      newLines: number;
      /** The limit that stopped the search, in a sentence a person can read. */
      reason: string;
    };

/** Bounds on the search, so that a diff costs at most a few megabytes and a few hundred ms. */
export interface DiffLimits {
  /**
   * Most inserted plus deleted lines searched for. The trace that recovers the script holds
   * (D + 1)(D + 2) / 2 integers for D edits: 2,000 edits keep it under 8 MiB.
   */
  maxEdits?: number;
  /** Most line comparisons along matching runs, which bounds the time on long, repetitive texts. */
  maxWork?: number;
}

/** Added plus deleted lines searched for unless told otherwise (a trace of at most 8 MiB). */
export const DEFAULT_MAX_EDITS = 2000;
/** Line comparisons allowed unless told otherwise (a few hundred milliseconds in a worker). */
export const DEFAULT_MAX_WORK = 50_000_000;

type Op = "same" | "add" | "del";

/**
 * A line diff of two texts by Myers' O(ND) algorithm, pairing lines as `diff -u` does, with a
 * minimal number of added and deleted lines. The common head and tail are matched first; the rest
 * is searched within `limits`, past which the answer is `too-different`.
 */
export function diffLines(oldText: string, newText: string, limits: DiffLimits = {}): LineDiff {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim the common head and tail so the search covers only the changed middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const [am, bm] = internLines(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  const maxEdits = limits.maxEdits ?? DEFAULT_MAX_EDITS;
  const maxWork = limits.maxWork ?? DEFAULT_MAX_WORK;
  const middle = searchEdits(am, bm, maxEdits, maxWork);
  if (middle.kind !== "ops") {
    return {
      kind: "too-different",
      oldLines: am.length,
      newLines: bm.length,
      reason:
        middle.kind === "edits"
          ? `more than ${maxEdits} lines differ`
          : `pairing the ${am.length} and ${bm.length} differing lines takes more than ${maxWork} comparisons`,
    };
  }
  const lines: DiffLine[] = [];
  for (let k = 0; k < head; k++) lines.push({ op: "same", text: a[k]!, a: k + 1, b: k + 1 });
  let i = head;
  let j = head;
  for (const op of middle.ops) {
    if (op === "same") lines.push({ op, text: a[i]!, a: ++i, b: ++j });
    else if (op === "del") lines.push({ op, text: a[i]!, a: ++i });
    else lines.push({ op, text: b[j]!, b: ++j });
  }
  for (let k = 0; k < tail; k++) lines.push({ op: "same", text: a[i]!, a: ++i, b: ++j });
  return { kind: "lines", lines };
}

function splitLines(t: string): string[] {
  if (t === "") return [];
  const lines = t.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The two line lists as numbers (equal lines, equal numbers), so the search compares integers. */
function internLines(a: string[], b: string[]): [Int32Array, Int32Array] {
  const ids = new Map<string, number>();
  const number = (lines: string[]) => {
    const out = new Int32Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      let id = ids.get(lines[i]!);
      if (id === undefined) {
        id = ids.size;
        ids.set(lines[i]!, id);
      }
      out[i] = id;
    }
    return out;
  };
  return [number(a), number(b)];
}

/** Index in the flat trace of diagonal k after step d: step d keeps k = -d, -d+2, …, d. */
function traceIndex(d: number, k: number): number {
  return (d * (d + 1)) / 2 + (k + d) / 2;
}

/**
 * Myers' greedy forward search. After each step d it keeps only the d + 1 furthest-reaching points
 * of that step (not a copy of the whole frontier), which is all the backtrack reads.
 */
function searchEdits(
  a: Int32Array,
  b: Int32Array,
  maxEdits: number,
  maxWork: number,
): { kind: "ops"; ops: Op[] } | { kind: "edits" } | { kind: "work" } {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  let trace = new Int32Array(Math.min(traceIndex(max, max) + 1, 1024));
  let work = 0;
  for (let d = 0; d <= max; d++) {
    const need = traceIndex(d, d) + 1;
    if (need > trace.length) {
      const grown = new Int32Array(Math.min(Math.max(need, trace.length * 2), traceIndex(max, max) + 1));
      grown.set(trace);
      trace = grown;
    }
    for (let k = -d; k <= d; k += 2) {
      // Step down (an added line) from diagonal k+1, or right (a deleted line) from k-1.
      let x =
        k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      const start = x;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      work += x - start + 1;
      v[off + k] = x;
      trace[traceIndex(d, k)] = x;
      if (x >= n && y >= m) return { kind: "ops", ops: backtrack(trace, d, n, m) };
      if (work > maxWork) return { kind: "work" };
    }
  }
  return { kind: "edits" };
}

/** Walks the trace back from (n, m) at step `last` to (0, 0), collecting the edit script. */
function backtrack(trace: Int32Array, last: number, n: number, m: number): Op[] {
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = last; d > 0; d--) {
    const k = x - y;
    const prev = (kk: number) => trace[traceIndex(d - 1, kk)]!;
    const prevK = k === -d || (k !== d && prev(k - 1) < prev(k + 1)) ? k + 1 : k - 1;
    const prevX = prev(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push("same");
      x--;
      y--;
    }
    ops.push(x === prevX ? "add" : "del");
    x = prevX;
    y = prevY;
  }
  // Step 0 is one matching run from the start.
  for (; x > 0; x--) ops.push("same");
  return ops.reverse();
}
