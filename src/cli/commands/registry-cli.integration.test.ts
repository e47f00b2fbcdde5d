import { execFile } from "node:child_process";
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importArchive } from "../../core/image/import.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import {
  freePort,
  registryMissing,
  startRegistry,
  type TestRegistry,
  USER,
} from "../../testdata/registry/harness.ts";
import { dockerArchiveBytes, ociArchiveBytes, storeImage } from "../../testdata/registry/images.ts";
import { cli } from "../testing.ts";

if (registryMissing) console.warn(`layerlab pull/push tests skipped: ${registryMissing}`);

const LAYERS = [
  { seed: 51, bytes: 400_000 },
  { seed: 52, bytes: 30_000 },
];

describe.skipIf(registryMissing !== undefined)("layerlab pull and push against real registries", () => {
  let open: TestRegistry;
  let basic: TestRegistry;
  let dir: string;
  let oci: string;
  const savedConfig = process.env.DOCKER_CONFIG;
  beforeAll(async () => {
    [open, basic] = await Promise.all([startRegistry("none"), startRegistry("basic")]);
    dir = mkdtempSync(join(tmpdir(), "layerlab-cli-registry-"));
    oci = join(dir, "app.oci.tar");
    writeFileSync(oci, await ociArchiveBytes("app:1", LAYERS));
    // No credentials unless a test writes some.
    process.env.DOCKER_CONFIG = join(dir, "no-docker-config");
  });
  afterAll(async () => {
    if (savedConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedConfig;
    await Promise.all([open?.stop(), basic?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("push prints a line per layer and a summary; a second push finds every layer there", async () => {
    const first = await cli("push", oci, `${open.domain}/cli/app:1`);
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/^layer 1\/2 {4}[0-9a-f]{12} {2}pushed 4\d\d kB$/m);
    expect(first.err).toMatch(/^layer 2\/2 {4}[0-9a-f]{12} {2}pushed 3\d\.\d kB$/m);
    expect(first.err).toMatch(
      /^pushed 127\.0\.0\.1:\d+\/cli\/app:1 \(sha256:[0-9a-f]{64}\): 4 sent .*, 0 already there/m,
    );
    const second = await cli("push", oci, `${open.domain}/cli/app:2`, "--json");
    expect(second.code).toBe(0);
    expect(second.err.match(/ {2}exists$/gm)).toHaveLength(3); // two layers and the config
    const json = JSON.parse(second.out);
    expect(json.transfer.totals.skipped.count).toBe(3);
    expect(json.transfer.totals.sent.count).toBe(1); // the manifest
  });

  it("push sends a layer over 8 MiB in PATCH chunks read from the archive's file, and it comes back whole", async () => {
    const big = [{ seed: 53, bytes: 12_000_000 }];
    const archive = join(dir, "big.oci.tar");
    writeFileSync(archive, await ociArchiveBytes("big:1", big));
    open.mark();
    const r = await cli("push", archive, `${open.domain}/cli/big:1`);
    expect(r.code).toBe(0);
    const patches = open.requests().filter((q) => q.method === "PATCH");
    expect(patches.length).toBe(2);
    expect(patches.every((q) => q.status === 202)).toBe(true);
    const expected = await storeImage(openMemoryStore(), "big:1", big);
    const out = join(dir, "big.pulled.tar");
    const back = await cli("pull", `${open.domain}/cli/big:1`, "-o", out, "--format", "oci", "--json");
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out).image).toBe(expected.id);
    const again = await importArchive(openMemoryStore(), createReadStream(out));
    expect(again.images[0]!.record.layers).toEqual(expected.layers);
  });

  it("pull writes an archive holding the same image, in either format", async () => {
    await cli("push", oci, `${open.domain}/cli/pulled:1`);
    const expected = await storeImage(openMemoryStore(), "app:1", LAYERS);
    for (const format of ["docker", "oci"]) {
      const out = join(dir, `pulled.${format}.tar`);
      const r = await cli("pull", `${open.domain}/cli/pulled:1`, "-o", out, "--format", format, "--json");
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/^layer 1\/2 {4}[0-9a-f]{12} {2}pulled 4\d\d kB$/m);
      expect(JSON.parse(r.out).image).toBe(expected.id);
      const back = await importArchive(openMemoryStore(), createReadStream(out));
      expect(back.images[0]!.record.id).toBe(expected.id);
      expect(back.images[0]!.record.layers).toEqual(expected.layers);
    }
  });

  it("pushes a docker-archive, whose plain tar layers it gzips", async () => {
    const archive = join(dir, "plain.docker.tar");
    writeFileSync(archive, await dockerArchiveBytes("plain:1", LAYERS));
    const r = await cli("push", archive, `${open.domain}/cli/plain:1`);
    expect(r.code).toBe(0);
    const out = join(dir, "plain-back.tar");
    expect((await cli("pull", `${open.domain}/cli/plain:1`, "-o", out)).code).toBe(0);
    const back = await importArchive(openMemoryStore(), createReadStream(out));
    const expected = await storeImage(openMemoryStore(), "app:1", LAYERS);
    expect(back.images[0]!.record.layers).toEqual(expected.layers);
  });

  it("reads credentials from $DOCKER_CONFIG/config.json; without them exits 3 saying to sign in", async () => {
    const denied = await cli("push", oci, `${basic.domain}/cli/app:1`);
    expect(denied.code).toBe(3);
    expect(denied.err).toMatch(/Not signed in/);
    const cfg = join(dir, "docker-config");
    mkdirSync(cfg, { recursive: true });
    const auth = Buffer.from(`${USER.username}:${USER.password}`).toString("base64");
    writeFileSync(
      join(cfg, "config.json"),
      JSON.stringify({ auths: { [`http://${basic.domain}`]: { auth } } }),
    );
    process.env.DOCKER_CONFIG = cfg;
    try {
      const ok = await cli("push", oci, `${basic.domain}/cli/app:1`);
      expect(ok.code).toBe(0);
    } finally {
      process.env.DOCKER_CONFIG = join(dir, "no-docker-config");
    }
  });

  it("takes --username with --password-stdin (the real command, password on its input)", async () => {
    const args = [
      "tsx",
      "src/cli/bin.ts",
      "pull",
      `${basic.domain}/cli/app:1`,
      "-o",
      join(dir, "stdin.tar"),
      "--username",
      USER.username,
      "--password-stdin",
    ];
    const child = promisify(execFile)("npx", args, {
      env: { ...process.env, DOCKER_CONFIG: join(dir, "none") },
      timeout: 60_000,
    });
    child.child.stdin!.end(`${USER.password}\n`);
    const r = await child;
    expect(r.stderr).toMatch(/^pulled 127\.0\.0\.1:\d+\/cli\/app:1/m);
    const bad = promisify(execFile)("npx", args, {
      env: { ...process.env, DOCKER_CONFIG: join(dir, "none") },
      timeout: 60_000,
    });
    bad.child.stdin!.end("wrong\n");
    const e = await bad.catch((err) => err);
    expect(e.code).toBe(3);
  }, 120_000);

  it("exit codes: 4 for an unknown image, 5 for a registry that is not there, 2 for a bad reference", async () => {
    const missing = await cli("pull", `${open.domain}/cli/nothing:here`, "-o", join(dir, "x.tar"));
    expect(missing.code).toBe(4);
    expect(missing.err).toMatch(/not in cli\/nothing: check the tag/);
    const port = await freePort();
    const gone = await cli("pull", `127.0.0.1:${port}/x:1`, "-o", join(dir, "x.tar"));
    expect(gone.code).toBe(5);
    expect(gone.err).toMatch(/Could not reach the registry/);
    const bad = await cli("pull", "Bad/Name", "-o", join(dir, "x.tar"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/repository names must be lowercase/);
  }, 60_000);
});
