/**
 * Every command that reads an image ARCHIVE (inspect, run, convert, push, build --load) takes it
 * as `docker load` does: a tar, or that tar gzip- or zstd-compressed (`docker save | gzip`), told
 * apart by its bytes, never by its name; and one that is cut off or is not an archive fails with
 * an error naming the file.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedRegistry } from "../../testdata/registry/embedded-server.ts";
import type { TestRegistry } from "../../testdata/registry/harness.ts";
import { dockerArchiveBytes } from "../../testdata/registry/images.ts";
import { cli } from "../testing.ts";

// shell-test.tar: made by src/testdata/archives/make-run-fixture.ts (see the README there).
const FIXTURE = fileURLToPath(new URL("../../testdata/archives/shell-test.tar", import.meta.url));

let dir: string;
let registry: TestRegistry;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "layerlab-compressed-"));
  registry = await startEmbeddedRegistry();
});
afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What each command prints (and writes) for an archive, to compare a compressed one with its tar. */
async function everyCommand(archive: string, label: string) {
  const inspect = await cli("inspect", archive);
  const run = await cli(
    "run",
    archive,
    "--",
    "sh",
    "-c",
    "echo hi > /app/new.txt && cat /app/README && ls /app",
  );
  const converted = join(dir, `${label}.converted.tar`);
  const convert = await cli("convert", archive, "-o", converted, "--format", "oci");
  const push = await cli("push", archive, `${registry.domain}/compressed/${label}:1`, "--json");
  const context = join(dir, `${label}-context`);
  mkdirSync(context);
  writeFileSync(join(context, "Dockerfile"), "FROM shell-test:latest\nRUN echo built > /app/built.txt\n");
  const build = await cli("build", "-q", "--load", archive, "-o", join(dir, `${label}.built.tar`), context);
  return {
    codes: [inspect.code, run.code, convert.code, push.code, build.code],
    inspect: inspect.out,
    run: run.out,
    converted: existsSync(converted) ? readFileSync(converted) : undefined,
    manifest: push.code === 0 ? JSON.parse(push.out).manifestDigest : push.err,
    built: build.out,
  };
}

describe("compressed image archives", () => {
  it("inspect, run, convert, push and build --load read a gzip- or zstd-compressed archive as its tar", async () => {
    const tar = readFileSync(FIXTURE);
    // Named as neither: the bytes decide.
    const gz = join(dir, "shell-test.gzipped.archive");
    writeFileSync(gz, gzipSync(tar));
    const zst = join(dir, "shell-test.tar");
    writeFileSync(zst, execFileSync("zstd", ["-c", "-q", "-3"], { input: tar }));

    const plain = await everyCommand(FIXTURE, "plain");
    expect(plain.codes).toEqual([0, 0, 0, 0, 0]);
    expect(plain.inspect).toMatch(/^image docker\.io\/library\/shell-test:latest, shell-test:latest$/m);
    expect(plain.run).toBe("read me\nREADME\nconfig.json\nnew.txt\nsrc\nC /app\nA /app/new.txt\n");
    for (const [file, label] of [
      [gz, "gzip"],
      [zst, "zstd"],
    ] as const) {
      const got = await everyCommand(file, label);
      expect(got.codes, label).toEqual([0, 0, 0, 0, 0]);
      expect(got.inspect, label).toBe(plain.inspect);
      expect(got.run, label).toBe(plain.run);
      expect(got.converted?.equals(plain.converted!), label).toBe(true);
      expect(got.manifest, label).toBe(plain.manifest);
      expect(got.built, label).toBe(plain.built);
    }
  });

  it("a truncated .tar.gz or .tar.zst: every command fails naming the file, and writes nothing", async () => {
    // Random layers (they do not compress), cut in the middle of the second one.
    const tar = await dockerArchiveBytes("cut:1", [
      { seed: 61, bytes: 300_000 },
      { seed: 62, bytes: 300_000 },
    ]);
    const cases = [
      { name: "cut.tar.gz", bytes: gzipSync(tar), says: /corrupt gzip data|truncated or corrupt gzip data/ },
      {
        name: "cut.tar.zst",
        bytes: execFileSync("zstd", ["-c", "-q", "-3"], { input: tar }),
        says: /corrupt zstd data/,
      },
    ];
    const context = join(dir, "cut-context");
    mkdirSync(context);
    writeFileSync(join(context, "Dockerfile"), "FROM cut:1\n");
    for (const { name, bytes, says } of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.byteLength * 0.7)));
      const converted = join(dir, `${name}.converted.tar`);
      const results = {
        inspect: await cli("inspect", file),
        run: await cli("run", file, "--", "true"),
        convert: await cli("convert", file, "-o", converted),
        push: await cli("push", file, `${registry.domain}/compressed/cut:1`),
        build: await cli("build", "--load", file, "-o", join(dir, "never.tar"), context),
      };
      for (const [command, r] of Object.entries(results)) {
        expect(r.code, `${command} ${name}`).toBe(1);
        expect(r.err, `${command} ${name}`).toContain(`layerlab ${command}: ${file}: `);
        expect(r.err, `${command} ${name}`).toMatch(says);
      }
      expect(existsSync(converted)).toBe(false);
      expect(existsSync(join(dir, "never.tar"))).toBe(false);
    }
    // Nothing of the cut image reached the registry.
    const pull = await cli("pull", `${registry.domain}/compressed/cut:1`, "-o", join(dir, "cut-pulled.tar"));
    expect(pull.code).not.toBe(0);
  });

  it("a file that is neither a tar nor a compressed tar is refused by name, its first bytes shown", async () => {
    const json = join(dir, "not-an-image.tar");
    writeFileSync(json, JSON.stringify({ hello: "world".repeat(200) }));
    const gzJson = join(dir, "json.tar.gz");
    writeFileSync(gzJson, gzipSync(readFileSync(json)));
    for (const args of [
      ["inspect", json],
      ["run", json, "--", "true"],
      ["convert", json, "-o", join(dir, "x.tar")],
      ["push", json, `${registry.domain}/compressed/json:1`],
    ]) {
      const r = await cli(...args);
      expect(r.code, args[0]).toBe(1);
      expect(r.err).toBe(
        `layerlab ${args[0]}: ${json}: not an image archive: neither a tar nor a gzip- or zstd-compressed tar (it starts 7b 22 68 65 6c 6c 6f 22)\n`,
      );
    }
    const r = await cli("inspect", gzJson);
    expect(r.err).toBe(
      `layerlab inspect: ${gzJson}: gzip-compressed, but what it holds is not a tar: not an image archive (it starts 7b 22 68 65 6c 6c 6f 22 once decompressed)\n`,
    );
  });
});
