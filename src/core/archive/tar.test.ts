import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArchiveError } from "../errors.ts";
import { collectBytes, streamBytes } from "./bytes.ts";
import { readAll, readTar } from "./tar-reader.ts";
import { type TarWriteEntry, writeTar } from "./tar-writer.ts";

async function list(bytes: Uint8Array, sizes = [65536]) {
  const out: { name: string; type: string; size: number; linkname: string; body: string; mode: number }[] =
    [];
  for await (const e of readTar(streamBytes(bytes, sizes))) {
    const body = new TextDecoder().decode(await readAll(e.body, 1 << 20));
    out.push({
      name: e.header.name,
      type: e.header.type,
      size: e.header.size,
      linkname: e.header.linkname,
      body,
      mode: e.header.mode,
    });
  }
  return out;
}

const longName = `${"deep/".repeat(40)}file-with-a-rather-long-name.txt`;
const sample: TarWriteEntry[] = [
  { name: "etc", type: "dir" },
  { name: "etc/passwd", body: new TextEncoder().encode("root:x:0:0\n"), mode: 0o600, uid: 1000, gid: 1000 },
  { name: "bin/sh", type: "symlink", linkname: "busybox" },
  { name: "bin/busybox", body: new Uint8Array(1500).fill(7) },
  { name: "bin/ls", type: "hardlink", linkname: "bin/busybox" },
  { name: longName, body: new TextEncoder().encode("long") },
  { name: "unicodé/ファイル", body: new TextEncoder().encode("u") },
  { name: "with-xattr", body: new Uint8Array(0), xattrs: { "security.capability": "x" } },
  { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
  { name: "fifo", type: "fifo" },
];

describe("tar writer and reader", () => {
  it("round-trips names, types, links, long and unicode names, xattrs and bodies", async () => {
    const bytes = await collectBytes(writeTar(sample));
    const entries = await list(bytes);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["etc/", "dir"],
      ["etc/passwd", "file"],
      ["bin/sh", "symlink"],
      ["bin/busybox", "file"],
      ["bin/ls", "hardlink"],
      [longName, "file"],
      ["unicodé/ファイル", "file"],
      ["with-xattr", "file"],
      ["dev/null", "char"],
      ["fifo", "fifo"],
    ]);
    expect(entries[1]!.body).toBe("root:x:0:0\n");
    expect(entries[1]!.mode).toBe(0o600);
    expect(entries[2]!.linkname).toBe("busybox");
    expect(entries[3]!.size).toBe(1500);
    expect(entries[5]!.body).toBe("long");
    const x = [];
    for await (const e of readTar(streamBytes(bytes, [512]))) x.push(e.header);
    expect(x[7]!.xattrs).toEqual({ "security.capability": "x" });
    expect(x[8]!.devmajor).toBe(1);
    expect(x[8]!.devminor).toBe(3);
  });

  it("gives the same entries whatever the chunk sizes of the stream", async () => {
    const bytes = await collectBytes(writeTar(sample));
    const reference = await list(bytes);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        async (sizes) => {
          expect(await list(bytes, sizes)).toEqual(reference);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("writes the same bytes for the same entries", async () => {
    const a = await collectBytes(writeTar(sample));
    const b = await collectBytes(writeTar(sample));
    expect(a).toEqual(b);
  });

  it("refuses non-tar data, corrupt checksums and truncation, naming the entry and offset", async () => {
    const bytes = await collectBytes(writeTar(sample));
    await expect(
      list(new TextEncoder().encode("hello, this is not a tar archive".repeat(40))),
    ).rejects.toThrow(/bad checksum/);
    const corrupt = bytes.slice();
    corrupt[512 * 1 + 140]! ^= 0x01;
    const err = await list(corrupt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).message).toMatch(/etc\/passwd.*bad checksum.*at byte 512/);
    const cut = bytes.slice(0, 512 * 7 + 100);
    const err2 = await list(cut).catch((e: unknown) => e);
    expect((err2 as ArchiveError).message).toMatch(/truncated/);
    expect((err2 as ArchiveError).entry).toBe("bin/busybox");
    await expect(list(new Uint8Array(0))).rejects.toThrow(/empty input/);
  });
});
