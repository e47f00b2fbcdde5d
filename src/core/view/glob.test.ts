import { describe, expect, it } from "vitest";
import { compilePathFilter } from "./glob.ts";

describe("file tree path filter", () => {
  it("a plain word is a case-insensitive substring", () => {
    const f = compilePathFilter("Python");
    expect(f("usr/lib/python3.11/os.py")).toBe(true);
    expect(f("etc/passwd")).toBe(false);
  });
  it("a glob without a slash matches names in any directory", () => {
    const f = compilePathFilter("*.pyc");
    expect(f("usr/lib/python3/__pycache__/a.cpython-311.pyc")).toBe(true);
    expect(f("a.py")).toBe(false);
    expect(f("x.pyc/readme")).toBe(false);
  });
  it("a glob with a slash matches the whole path; ** crosses directories", () => {
    expect(compilePathFilter("etc/*.conf")("etc/ld.so.conf")).toBe(true);
    expect(compilePathFilter("etc/*.conf")("etc/ld.so.conf.d/x.conf")).toBe(false);
    expect(compilePathFilter("usr/**/*.so")("usr/lib/x86_64-linux-gnu/libc.so")).toBe(true);
    expect(compilePathFilter("/var/cache/**")("var/cache/apt/pkgcache.bin")).toBe(true);
    expect(compilePathFilter("**/apt")("var/lib/apt")).toBe(true);
  });
  it("character classes and ?", () => {
    expect(compilePathFilter("lib[cm].so.?")("lib/libc.so.6")).toBe(true);
    expect(compilePathFilter("lib[!c].so.?")("lib/libc.so.6")).toBe(false);
  });
});
