/**
 * The archive core against the real tools (GNU tar, gzip, zstd): what they write, LayerLab reads;
 * what LayerLab writes, they read. Node-only, so it lives here rather than beside the core.
 */
import { execFileSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectBytes, streamBytes } from "../../core/archive/bytes.ts";
import { decompress, gzip } from "../../core/archive/compression.ts";
import { readAll, readTar } from "../../core/archive/tar-reader.ts";
import { writeTar } from "../../core/archive/tar-writer.ts";

async function list(bytes: Uint8Array, sizes = [700]) {
  const out = new Map<string, { type: string; linkname: string; body: string }>();
  for await (const e of readTar(streamBytes(bytes, sizes))) {
    const body = new TextDecoder().decode(await readAll(e.body, 1 << 20));
    out.set(e.header.name.replace(/^\.\//, ""), { type: e.header.type, linkname: e.header.linkname, body });
  }
  return out;
}

const longName = `${"deep/".repeat(40)}file-with-a-rather-long-name.txt`;

describe("interoperability with GNU tar, gzip and zstd", () => {
  it("reads what GNU tar writes in gnu, pax and ustar formats (long names, long links, hardlinks)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ll-tar-"));
    const root = join(dir, "root");
    mkdirSync(join(root, "a/b"), { recursive: true });
    writeFileSync(join(root, "a/b/file"), "hello");
    writeFileSync(join(root, "x".repeat(150)), "long");
    symlinkSync(`../${"t".repeat(120)}`, join(root, "a/longlink"));
    linkSync(join(root, "a/b/file"), join(root, "a/hard"));
    for (const format of ["gnu", "pax", "ustar"]) {
      const out = join(dir, `${format}.tar`);
      const what = format === "ustar" ? ["a/b", "a/hard"] : ["."];
      execFileSync("tar", ["--sort=name", `--format=${format}`, "-C", root, "-cf", out, ...what]);
      const byName = await list(new Uint8Array(readFileSync(out)));
      expect(byName.get("a/b/file")?.body).toBe("hello");
      expect(byName.get("a/hard")?.type).toBe("hardlink");
      expect(byName.get("a/hard")?.linkname.replace(/^\.\//, "")).toBe("a/b/file");
      if (format !== "ustar") {
        expect(byName.get("x".repeat(150))?.body).toBe("long");
        expect(byName.get("a/longlink")?.linkname).toBe(`../${"t".repeat(120)}`);
      }
    }
  });

  it("writes tars GNU tar lists and extracts (long and unicode names)", async () => {
    const bytes = await collectBytes(
      writeTar([
        { name: "d", type: "dir" },
        { name: longName, body: new TextEncoder().encode("long") },
        { name: "unicodé/ファイル", body: new TextEncoder().encode("u") },
        { name: "d/link", type: "symlink", linkname: "../unicodé" },
      ]),
    );
    const dir = mkdtempSync(join(tmpdir(), "ll-tar-"));
    writeFileSync(join(dir, "t.tar"), bytes);
    const listed = execFileSync("tar", ["-tf", join(dir, "t.tar")], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(listed).toEqual(["d/", longName, "unicodé/ファイル", "d/link"]);
    mkdirSync(join(dir, "x"));
    execFileSync("tar", ["-xf", join(dir, "t.tar"), "-C", join(dir, "x")]);
    expect(readFileSync(join(dir, "x", longName), "utf8")).toBe("long");
  });

  it("decompresses multi-frame zstd from the zstd tool, and gzip -d reads LayerLab's gzip", async () => {
    const text = new TextEncoder().encode("layer bytes ".repeat(50_000));
    const z = Buffer.concat([
      execFileSync("zstd", ["-c", "-q", "-3"], { input: text }),
      execFileSync("zstd", ["-c", "-q", "-9"], { input: text }),
    ]);
    const out = await collectBytes(decompress(streamBytes(z, [999]), "zstd"));
    expect(Buffer.from(out).equals(Buffer.concat([text, text]))).toBe(true);
    const gz = await collectBytes(gzip(streamBytes(text)));
    expect(execFileSync("gzip", ["-dc"], { input: gz }).equals(Buffer.from(text))).toBe(true);
  });
});
