import { describe, expect, it } from "vitest";
import { formatHexLines, looksLikeText, sniffImageType } from "./hex.ts";

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
