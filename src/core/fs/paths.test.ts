import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanPath } from "./paths.ts";

/** The definition: drop empty and `.` segments, `..` takes one back (never above the root). */
function cleanBySegments(path: string, cwd = ""): string {
  const full = path.startsWith("/") || cwd === "" || cwd === "/" ? path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const seg of full.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}

describe("cleanPath", () => {
  it("cleans as the segment walk does, clean paths by the shortcut included", () => {
    for (const [p, want] of [
      ["/data/f1", "data/f1"],
      ["/", ""],
      ["/a//b/", "a/b"],
      ["/a/./b/../c", "a/c"],
      ["/.hidden/x", ".hidden/x"],
      ["/a/..b", "a/..b"],
      ["/../x", "x"],
    ] as const)
      expect(cleanPath(p)).toBe(want);
    const seg = fc.constantFrom("a", "b", ".", "..", "", ".x", "..y", "z.");
    fc.assert(
      fc.property(
        fc.array(seg, { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom("", "/", "/w", "/w/v"),
        (segs, abs, cwd) => {
          const p = `${abs ? "/" : ""}${segs.join("/")}`;
          expect(cleanPath(p, cwd)).toBe(cleanBySegments(p, cwd));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
