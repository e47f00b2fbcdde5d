import { describe, expect, it } from "vitest";
import { formatHexLines, looksLikeText, sniffImageType } from "./hex.ts";
import { diffLines } from "./line-diff.ts";

const enc = new TextEncoder();

describe("hex view", () => {
  it("prints xxd-style lines with offsets and ASCII", () => {
    const lines = formatHexLines(enc.encode("root:x:0:0:root:/root:/bin/sh\n"), 0x100);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      offset: "00000100",
      hex: "726f 6f74 3a78 3a30 3a30 3a72 6f6f 743a",
      ascii: "root:x:0:0:root:",
    });
    expect(lines[1]!.ascii).toBe("/root:/bin/sh.");
  });
  it("tells text from binaries and recognises images", () => {
    expect(looksLikeText(enc.encode('PRETTY_NAME="Debian"\n♥\n'))).toBe(true);
    expect(looksLikeText(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0]))).toBe(false);
    expect(sniffImageType(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10]))).toBe("image/png");
    expect(sniffImageType(enc.encode("<svg xmlns='x'/>"))).toBe("image/svg+xml");
    expect(sniffImageType(enc.encode("hello"))).toBeUndefined();
  });
});

describe("line diff", () => {
  it("pairs lines as diff -u does", () => {
    const d = diffLines("root:x:0:0\ndaemon:x:1:1\nbin:x:2:2\n", "root:x:0:0\nbin:x:2:2\napp:x:1000:1000\n");
    expect(d.map((l) => `${l.op === "same" ? " " : l.op === "add" ? "+" : "-"}${l.text}`)).toEqual([
      " root:x:0:0",
      "-daemon:x:1:1",
      " bin:x:2:2",
      "+app:x:1000:1000",
    ]);
    expect(d[3]).toMatchObject({ b: 3 });
  });
  it("handles empty sides and identical texts", () => {
    expect(diffLines("", "a\nb\n").map((l) => l.op)).toEqual(["add", "add"]);
    expect(diffLines("a\n", "").map((l) => l.op)).toEqual(["del"]);
    expect(diffLines("x\ny\n", "x\ny\n").every((l) => l.op === "same")).toBe(true);
  });
  it("gives a minimal edit script on a random case", () => {
    const a = "a b c a b b a".split(" ").join("\n");
    const b = "c b a b a c".split(" ").join("\n");
    const d = diffLines(a, b);
    expect(d.filter((l) => l.op !== "same")).toHaveLength(5);
    expect(
      d
        .filter((l) => l.op !== "add")
        .map((l) => l.text)
        .join(""),
    ).toBe("abcabba");
    expect(
      d
        .filter((l) => l.op !== "del")
        .map((l) => l.text)
        .join(""),
    ).toBe("cbabac");
  });
});
