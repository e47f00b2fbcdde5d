import { describe, expect, it } from "vitest";
import {
  addToDpkgStatus,
  compileDpkgPathFilters,
  dpkgGlobToRegExp,
  filterRows,
  parseDependencyField,
  parseDpkgStatus,
} from "./dpkg.ts";
import type { CatalogRow } from "./types.ts";

describe("dpkg globs", () => {
  it("match like fnmatch without flags: * and ? cross /", () => {
    expect(dpkgGlobToRegExp("/usr/share/doc/*").test("/usr/share/doc/bash/README.gz")).toBe(true);
    expect(dpkgGlobToRegExp("/usr/share/doc/*/copyright").test("/usr/share/doc/bash/copyright")).toBe(true);
    expect(dpkgGlobToRegExp("/usr/share/doc/*/copyright").test("/usr/share/doc/bash/copyright.old")).toBe(
      false,
    );
    expect(dpkgGlobToRegExp("/a?c").test("/a/c")).toBe(true);
    expect(dpkgGlobToRegExp("/x/[ab]*").test("/x/b1")).toBe(true);
    expect(dpkgGlobToRegExp("/x/[!ab]*").test("/x/b1")).toBe(false);
    expect(dpkgGlobToRegExp("/x/a.b").test("/x/aXb")).toBe(false);
  });
});

describe("dpkg path filters", () => {
  const filters = [
    { kind: "exclude" as const, glob: "/usr/share/doc/*" },
    { kind: "exclude" as const, glob: "/usr/share/man/*" },
    { kind: "include" as const, glob: "/usr/share/doc/*/copyright" },
  ];
  it("let the last matching filter decide and keep directories an include may need", () => {
    const keep = compileDpkgPathFilters(filters);
    expect(keep("usr/share/doc/bash/README.gz", "f")).toBe(false);
    expect(keep("usr/share/doc/bash/copyright", "f")).toBe(true);
    expect(keep("usr/share/doc/bash", "d")).toBe(true);
    expect(keep("usr/share/doc/libfoo", "l")).toBe(true);
    expect(keep("usr/share/man/man1", "d")).toBe(false);
    expect(keep("usr/share/man/man1/bash.1.gz", "f")).toBe(false);
    expect(keep("usr/bin/bash", "f")).toBe(true);
  });
  it("filter catalog rows, and keep everything without filters", () => {
    const rows: CatalogRow[] = [
      ["usr/share/doc/x", "d", 0o755, 0, 0, 0, 0],
      ["usr/share/doc/x/changelog.gz", "f", 0o644, 0, 0, 10, 0],
      ["usr/share/doc/x/copyright", "f", 0o644, 0, 0, 10, 0],
    ];
    expect(filterRows(rows, filters).map((r) => r[0])).toEqual([
      "usr/share/doc/x",
      "usr/share/doc/x/copyright",
    ]);
    expect(filterRows(rows, [])).toEqual(rows);
  });
});

describe("dpkg status and dependency fields", () => {
  it("lists only packages in state 'install ok installed', with what they provide", () => {
    const text = [
      "Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nProvides: sh\nDescription: POSIX shell\n continued",
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1",
      "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u14\nProvides: libc6-x (= 1), foo:any",
    ].join("\n\n");
    const installed = parseDpkgStatus(text);
    expect([...installed.keys()]).toEqual(["dash", "libc6"]);
    expect(installed.get("libc6")).toEqual({ version: "2.36-9+deb12u14", provides: ["libc6-x", "foo"] });
  });
  it("split alternatives and drop versions and architecture qualifiers", () => {
    expect(parseDependencyField("libc6 (>= 2.34), python3.11:any | python3-x, ,debconf [amd64]")).toEqual([
      ["libc6"],
      ["python3.11", "python3-x"],
      ["debconf"],
    ]);
    expect(parseDependencyField("")).toEqual([]);
  });
});

describe("addToDpkgStatus", () => {
  it("merges new stanzas in package-name order, each followed by a blank line", () => {
    const status =
      "Package: apt\nStatus: install ok installed\n\nPackage: zlib1g\nStatus: install ok installed\n\n";
    const out = addToDpkgStatus(status, ["Package: python3\nStatus: install ok installed\n"]);
    expect(out).toBe(
      "Package: apt\nStatus: install ok installed\n\nPackage: python3\nStatus: install ok installed\n\n" +
        "Package: zlib1g\nStatus: install ok installed\n\n",
    );
    expect([...parseDpkgStatus(out).keys()]).toEqual(["apt", "python3", "zlib1g"]);
  });
});
