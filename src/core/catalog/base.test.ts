import { describe, expect, it } from "vitest";
import { readBuiltinBase, readCatalogFile, readCatalogIndex } from "../../cli/catalog-files.ts";
import { LayerLabError } from "../errors.ts";
import type { FileEntry } from "../fs/types.ts";
import { findBuiltinBase, normalizeImageName } from "./builtin.ts";
import { parseDpkgStatus } from "./dpkg.ts";
import { baseEntries, contentBytes, fetchCatalogBytes, parseBaseCatalog } from "./load.ts";
import { seedFor } from "./synthesize.ts";
import type { BaseCatalog } from "./types.ts";

async function load(ref: string): Promise<{ base: BaseCatalog; entries: Map<string, FileEntry> }> {
  const found = await readBuiltinBase(ref);
  if (!found) throw new Error(`no built-in ${ref}`);
  return { base: found.base, entries: new Map(baseEntries(found.base).map((e) => [e.path, e])) };
}

const text = (e: FileEntry | undefined): string => {
  if (e?.content?.kind !== "inline") throw new Error(`${e?.path} has no inline content`);
  return new TextDecoder().decode(e.content.bytes);
};

describe("catalog index", () => {
  it("lists every base with a readable file and an honest label", async () => {
    const index = await readCatalogIndex();
    expect(index.bases.map((b) => b.name)).toEqual(
      expect.arrayContaining(["ubuntu:20.04", "debian:bookworm-slim", "debian:bookworm", "busybox:latest"]),
    );
    for (const b of index.bases) {
      const base = parseBaseCatalog(await readCatalogFile(b.file), b.file);
      expect(base.entries.length).toBeGreaterThan(100);
      expect(b.label).toMatch(
        new RegExp(`^stand-in for ${b.name.replace(/[.:]/g, "\\$&")}: .*import the real image`),
      );
    }
    const ubuntu = findBuiltinBase(index, "ubuntu:20.04")!;
    expect(ubuntu.standIn).toBe(true);
    expect(ubuntu.label).toContain("Debian 12 (bookworm)");
    expect(ubuntu.label).toContain("not Ubuntu");
  });

  it("finds bases by the names FROM accepts", async () => {
    const index = await readCatalogIndex();
    expect(findBuiltinBase(index, "docker.io/library/ubuntu:20.04")?.name).toBe("ubuntu:20.04");
    expect(findBuiltinBase(index, "busybox")?.name).toBe("busybox:latest");
    expect(findBuiltinBase(index, "ubuntu:22.04")).toBeUndefined();
    expect(normalizeImageName("localhost:5000/app")).toBe("localhost:5000/app:latest");
    expect(normalizeImageName("alpine@sha256:abc")).toBe("alpine@sha256:abc");
  });
});

describe("the ubuntu:20.04 stand-in (Debian bookworm slim)", () => {
  it("has thousands of entries and tens of MB, like the real slim image", async () => {
    const { base } = await load("ubuntu:20.04");
    expect(base.entries.length).toBeGreaterThan(3000);
    expect(base.entries.length).toBeLessThan(10_000);
    const bytes = contentBytes(base.entries);
    expect(bytes).toBeGreaterThan(60e6);
    expect(bytes).toBeLessThan(90e6);
  });

  it("carries /etc/os-release, /etc/passwd and /etc/group with their real text", async () => {
    const { entries } = await load("ubuntu:20.04");
    expect(entries.get("etc/os-release")).toMatchObject({
      type: "symlink",
      linkname: "../usr/lib/os-release",
    });
    const osRelease = text(entries.get("usr/lib/os-release"));
    expect(osRelease).toContain('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"');
    expect(entries.get("usr/lib/os-release")!.size).toBe(new TextEncoder().encode(osRelease).length);
    expect(text(entries.get("etc/passwd"))).toMatch(/^root:x:0:0:root:\/root:\/bin\/bash\n/);
    expect(text(entries.get("etc/group"))).toMatch(/^root:x:0:\n/);
    expect(text(entries.get("etc/debian_version"))).toMatch(/^12\.\d+\n$/);
  });

  it("has the merged-/usr symlinks: /bin/sh is dash through /bin → usr/bin", async () => {
    const { entries } = await load("ubuntu:20.04");
    expect(entries.get("bin")).toMatchObject({ type: "symlink", linkname: "usr/bin" });
    expect(entries.get("usr/bin/sh")).toMatchObject({ type: "symlink", linkname: "dash" });
    const dash = entries.get("usr/bin/dash")!;
    expect(dash).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0 });
    expect(dash.content).toEqual({
      kind: "synthetic",
      seed: seedFor("debian-bookworm-slim", "usr/bin/dash"),
    });
    expect(dash.size).toBeGreaterThan(50_000);
  });

  it("is a complete tree: clean unique paths, every parent a directory, hardlinks to files in it", async () => {
    const { base, entries } = await load("ubuntu:20.04");
    expect(entries.size).toBe(base.entries.length);
    for (const e of entries.values()) {
      const parent = e.path.includes("/") ? e.path.slice(0, e.path.lastIndexOf("/")) : "";
      if (parent) expect(entries.get(parent)?.type, e.path).toBe("dir");
      if (e.type === "hardlink") expect(entries.get(e.linkname!)?.type).toBe("file");
    }
    expect(entries.get("tmp")?.mode).toBe(0o1777);
    expect([...entries.keys()].filter((p) => p.startsWith("dev/") || p.startsWith("proc/"))).toEqual([]);
    expect(
      [...entries.keys()].filter((p) => p.startsWith("var/lib/apt/lists/") && !p.endsWith("partial")),
    ).toEqual([]);
  });

  it("is slim: copyright files stay, man pages and other docs are gone, and dpkg is told so", async () => {
    const slim = await load("debian:bookworm-slim");
    const full = await load("debian:bookworm");
    expect(slim.entries.has("usr/share/doc/bash/copyright")).toBe(true);
    expect(full.entries.has("usr/share/man/man1/bash.1.gz")).toBe(true);
    expect(slim.entries.has("usr/share/man/man1/bash.1.gz")).toBe(false);
    expect(slim.base.dpkgPathFilters).toContainEqual({ kind: "exclude", glob: "/usr/share/doc/*" });
    expect(slim.base.dpkgPathFilters).toContainEqual({ kind: "include", glob: "/usr/share/doc/*/copyright" });
    expect(full.base.dpkgPathFilters).toEqual([]);
    expect(full.base.entries.length).toBeGreaterThan(slim.base.entries.length + 1000);
  });

  it("has the dpkg status the package simulation starts from", async () => {
    const { entries } = await load("ubuntu:20.04");
    const installed = parseDpkgStatus(text(entries.get("var/lib/dpkg/status")));
    expect(installed.size).toBeGreaterThan(80);
    for (const name of ["apt", "bash", "dash", "libc6", "debian-archive-keyring"])
      expect(installed.has(name)).toBe(true);
    for (const name of ["python3", "curl", "ca-certificates"]) expect(installed.has(name)).toBe(false);
    expect(text(entries.get("etc/apt/apt.conf.d/docker-clean"))).toContain(
      "rm -f /var/cache/apt/archives/*.deb",
    );
    const coreutils = text(entries.get("var/lib/dpkg/info/coreutils.list")).split("\n");
    expect(entries.get("var/lib/dpkg/info/coreutils.list")!.size).toBeGreaterThan(4096);
    expect(coreutils).toContain("/bin/ls");
  });
});

describe("the busybox stand-in", () => {
  it("is one busybox binary with a hardlink per applet", async () => {
    const { entries } = await load("busybox");
    const binary = entries.get("bin/[")!;
    expect(binary).toMatchObject({ type: "file", mode: 0o755 });
    expect(binary.size).toBeGreaterThan(1_000_000);
    for (const applet of ["sh", "ls", "busybox", "wget", "tar"]) {
      expect(entries.get(`bin/${applet}`)).toMatchObject({ type: "hardlink", linkname: "bin/[" });
    }
    expect([...entries.values()].filter((e) => e.type === "hardlink").length).toBeGreaterThan(250);
    expect(text(entries.get("etc/passwd"))).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\n/);
    expect(entries.get("tmp")?.mode).toBe(0o1777);
  });
});

describe("catalog loading errors", () => {
  it("names the file and the problem", () => {
    const bad = (bytes: Uint8Array) => () => parseBaseCatalog(bytes, "base-x.json.gz");
    expect(bad(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))).toThrow(
      /catalog base-x.json.gz: gzip data is corrupt/,
    );
    expect(bad(new TextEncoder().encode("{"))).toThrow(/catalog base-x.json.gz: not JSON/);
    expect(bad(new TextEncoder().encode('{"format":"other"}'))).toThrow(
      /format is "other", expected "layerlab.base\/1"/,
    );
    const row =
      '{"format":"layerlab.base/1","id":"x","texts":{},"dpkgPathFilters":[],"entries":[["a/../b","f",420,0,0,1,0]]}';
    expect(bad(new TextEncoder().encode(row))).toThrow(/row 0 is malformed/);
    try {
      bad(new TextEncoder().encode("[]"))();
    } catch (e) {
      expect(e).toBeInstanceOf(LayerLabError);
      expect((e as LayerLabError).code).toBe("ARCHIVE_INVALID");
    }
  });
});

describe("fetchCatalogBytes", () => {
  it("returns the body of a catalog file, which parses whether or not the server un-gzipped it", async () => {
    const gz = await readCatalogFile("base-busybox.json.gz");
    const served = async () => new Response(gz.slice().buffer);
    const base = parseBaseCatalog(await fetchCatalogBytes("catalog/base-busybox.json.gz", served));
    expect(base.id).toBe("busybox");
    const plain = new TextEncoder().encode(JSON.stringify(base));
    expect(
      parseBaseCatalog(await fetchCatalogBytes("x", async () => new Response(plain))).entries,
    ).toHaveLength(base.entries.length);
  });

  it("says which file is missing", async () => {
    const missing = async () => new Response("nope", { status: 404, statusText: "Not Found" });
    await expect(fetchCatalogBytes("catalog/nope.json.gz", missing)).rejects.toThrow(
      "catalog catalog/nope.json.gz: HTTP 404 Not Found",
    );
    const offline = async () => {
      throw new TypeError("Failed to fetch");
    };
    await expect(fetchCatalogBytes("catalog/index.json", offline)).rejects.toThrow(/could not be fetched/);
  });
});
