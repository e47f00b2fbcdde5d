import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StorageFullError } from "../core/errors.ts";
import { writeFileWhole } from "./write-file.ts";

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => new Uint8Array(size).fill(i));

describe("writeFileWhole", () => {
  it("writes the file whole and leaves no partial file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ll-write-"));
    const target = join(dir, "out.tar");
    expect(await writeFileWhole(target, chunks(3, 1000))).toBe(3000);
    expect(readFileSync(target).byteLength).toBe(3000);
    expect(readdirSync(dir)).toEqual(["out.tar"]);
  });

  it("a full disk fails with a message naming the file, and removes what was written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ll-write-"));
    const target = join(dir, "out.tar");
    const removed: string[] = [];
    let accepted = 0;
    // A disk with room for 2500 bytes: the write past it fails with ENOSPC, as Node reports it.
    const fs = {
      createWriteStream: () =>
        new Writable({
          write(chunk: Buffer, _enc, done) {
            if (accepted + chunk.byteLength > 2500) {
              done(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
              return;
            }
            accepted += chunk.byteLength;
            done();
          },
        }),
      renameSync: () => {
        throw new Error("must not rename a failed write");
      },
      rmSync: (p: string) => void removed.push(p),
    };
    const err = await writeFileWhole(target, chunks(5, 1000), fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as StorageFullError).message).toMatch(
      new RegExp(`^disk full writing ${target}: the disk refused more`),
    );
    expect((err as StorageFullError).facts.operation).toBe(`writing ${target}`);
    expect(removed).toEqual([`${target}.partial`]);
  });

  it("other write errors pass through unchanged", async () => {
    const fs = {
      createWriteStream: () =>
        new Writable({
          write(_c, _e, done) {
            done(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }));
          },
        }),
      renameSync: () => {},
      rmSync: () => {},
    };
    await expect(writeFileWhole("/x/out.tar", chunks(2, 10), fs)).rejects.toThrow("EACCES");
  });
});
