/** One line of a unified view of two texts. */
export interface DiffLine {
  op: "same" | "add" | "del";
  text: string;
  /** 1-based line numbers in the old and new text (absent for the side without the line). */
  a?: number;
  b?: number;
}

/**
 * A line diff of two texts by Myers' O(ND) algorithm, as `diff -u` would pair lines.
 * Past `maxEdits` differences it gives up on alignment and shows a whole replacement.
 */
export function diffLines(oldText: string, newText: string, maxEdits = 4000): DiffLine[] {
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
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const middle = myers(am, bm, maxEdits) ?? [
    ...am.map(() => "del" as const),
    ...bm.map(() => "add" as const),
  ];
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k < head; k++) out.push({ op: "same", text: a[k]!, a: k + 1, b: k + 1 });
  i = head;
  j = head;
  for (const op of middle) {
    if (op === "same") out.push({ op, text: a[i]!, a: ++i, b: ++j });
    else if (op === "del") out.push({ op, text: a[i]!, a: ++i });
    else out.push({ op, text: b[j]!, b: ++j });
  }
  for (let k = 0; k < tail; k++) out.push({ op: "same", text: a[i]!, a: ++i, b: ++j });
  return out;
}

function splitLines(t: string): string[] {
  if (t === "") return [];
  const lines = t.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function myers(a: string[], b: string[], maxEdits: number): ("same" | "add" | "del")[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a.length, b.length, off);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], n: number, m: number, off: number): ("same" | "add" | "del")[] {
  const ops: ("same" | "add" | "del")[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[off + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push("same");
      x--;
      y--;
    }
    if (d > 0) ops.push(x === prevX ? "add" : "del");
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}
