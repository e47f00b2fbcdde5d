import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DiffLine, diffLines, type LineDiff } from "./line-diff.ts";

function linesOf(d: LineDiff): DiffLine[] {
  if (d.kind !== "lines") throw new Error(`expected lines, got ${d.kind}: ${d.reason}`);
  return d.lines;
}

/** The diff as `diff -u` prints its body: one marker character and the line. */
function unified(d: LineDiff): string[] {
  return linesOf(d).map((l) => `${l.op === "same" ? " " : l.op === "add" ? "+" : "-"}${l.text}`);
}

/** Applies an edit script to the old lines: what it keeps and adds, in order. */
function applyScript(old: string[], lines: DiffLine[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const l of lines) {
    if (l.op === "add") out.push(l.text);
    else {
      // Kept and deleted lines must be the old text's next line, at the line number they claim.
      expect(l.text).toBe(old[i]);
      expect(l.a).toBe(i + 1);
      if (l.op === "same") out.push(old[i]!);
      i++;
    }
  }
  expect(i).toBe(old.length);
  return out;
}

/** Length of a longest common subsequence, by the textbook table (the reference for minimality). */
function lcsLength(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = x === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");

describe("line diff", () => {
  it("pairs lines as diff -u does", () => {
    const d = diffLines("root:x:0:0\ndaemon:x:1:1\nbin:x:2:2\n", "root:x:0:0\nbin:x:2:2\napp:x:1000:1000\n");
    expect(unified(d)).toEqual([" root:x:0:0", "-daemon:x:1:1", " bin:x:2:2", "+app:x:1000:1000"]);
    expect(linesOf(d)[3]).toEqual({ op: "add", text: "app:x:1000:1000", b: 3 });
    expect(linesOf(d)[2]).toEqual({ op: "same", text: "bin:x:2:2", a: 3, b: 2 });
  });

  it("shows a changed line as its deletion then its addition", () => {
    expect(
      unified(diffLines("NAME=base-os\nVERSION=1.0\nID=x\n", "NAME=base-os\nVERSION=2.0\nID=x\n")),
    ).toEqual([" NAME=base-os", "-VERSION=1.0", "+VERSION=2.0", " ID=x"]);
  });

  it("handles empty sides, identical texts and a missing final newline", () => {
    expect(unified(diffLines("", "a\nb\n"))).toEqual(["+a", "+b"]);
    expect(unified(diffLines("a\n", ""))).toEqual(["-a"]);
    expect(unified(diffLines("", ""))).toEqual([]);
    expect(unified(diffLines("x\ny\n", "x\ny\n"))).toEqual([" x", " y"]);
    expect(unified(diffLines("x\ny", "x\ny\n"))).toEqual([" x", " y"]);
  });

  it("finds the minimal script of Myers' paper example (ABCABBA to CBABAC: 5 edits)", () => {
    const a = "A B C A B B A".split(" ");
    const b = "C B A B A C".split(" ");
    const lines = linesOf(diffLines(text(a), text(b)));
    expect(lines.filter((l) => l.op !== "same")).toHaveLength(5);
    expect(applyScript(a, lines)).toEqual(b);
  });

  it("applying the script to the old text gives the new one, with as few edits as possible", () => {
    // A small alphabet makes many repeated lines: the hard case for pairing.
    const lines = fc.array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 40 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = linesOf(diffLines(text(a), text(b)));
        expect(applyScript(a, d)).toEqual(b);
        const edits = d.filter((l) => l.op !== "same").length;
        expect(edits).toBe(a.length + b.length - 2 * lcsLength(a, b));
        // New-side line numbers count up from 1 through the lines the new text has.
        expect(d.filter((l) => l.op !== "del").map((l) => l.b)).toEqual(b.map((_, i) => i + 1));
      }),
      { numRuns: 500 },
    );
  });

  it("says the texts are too different past the edit limit, and diffs them at it", () => {
    const a = Array.from({ length: 10 }, (_, i) => `old ${i}`);
    const b = Array.from({ length: 10 }, (_, i) => `new ${i}`);
    // Twenty edits: ten deleted lines, ten added.
    expect(diffLines(text(a), text(b), { maxEdits: 20 }).kind).toBe("lines");
    expect(diffLines(text(a), text(b), { maxEdits: 19 })).toEqual({
      kind: "too-different",
      oldLines: 10,
      newLines: 10,
      reason: "more than 19 lines differ",
    });
  });

  it("counts only the changed middle against the limit: a long common head and tail are free", () => {
    const common = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
    const a = [...common, "old", ...common];
    const b = [...common, "new", ...common];
    const d = linesOf(diffLines(text(a), text(b), { maxEdits: 2 }));
    expect(d.filter((l) => l.op !== "same").map((l) => l.text)).toEqual(["old", "new"]);
  });

  it("gives up on two large unrelated texts within the default limits instead of searching on", () => {
    const a = Array.from({ length: 100_000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 100_000 }, (_, i) => `b${i}`);
    const d = diffLines(text(a), text(b));
    expect(d).toMatchObject({ kind: "too-different", oldLines: 100_000, newLines: 100_000 });
  });

  it("stops on the work limit when long matching runs would make the search slow", () => {
    // Every line the same but one in the middle of each side: few edits, long runs to compare.
    const a = [...Array<string>(3000).fill("x"), "p", ...Array<string>(3000).fill("x"), "q"];
    const b = ["q", ...Array<string>(3000).fill("x"), "p", ...Array<string>(3000).fill("x")];
    expect(diffLines(text(a), text(b)).kind).toBe("lines");
    const d = diffLines(text(a), text(b), { maxWork: 1000 });
    expect(d.kind).toBe("too-different");
    expect(d.kind === "too-different" && d.reason).toMatch(/more than 1000 comparisons/);
  });
});
