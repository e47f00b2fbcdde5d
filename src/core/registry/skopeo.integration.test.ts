import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  registryMissing,
  registryTargets,
  type TestRegistry,
  USER,
} from "../../testdata/registry/harness.ts";
import { ociArchiveBytes, storeImage } from "../../testdata/registry/images.ts";
import { sha256 } from "../digest.ts";
import { openMemoryStore } from "../store/memory.ts";
import { staticCredentials } from "./auth.ts";
import { pullImage } from "./pull.ts";
import { pushImage } from "./push.ts";

const SKOPEO = "/usr/bin/skopeo";
// Asynchronous: the token server of the token-auth registry runs in this process.
const run = (args: string[]) => promisify(execFile)(SKOPEO, args, { timeout: 60_000 });
const missing = existsSync(SKOPEO) ? undefined : `${SKOPEO} is not installed (apt-get install -y skopeo)`;
if (missing) console.warn(`skopeo interop tests skipped: ${missing}`);
else if (registryMissing)
  console.warn(`skopeo interop tests against distribution skipped: ${registryMissing}`);

/**
 * CNCF distribution with each kind of auth, and LayerLab's embedded registry over HTTP: skopeo
 * (containers/image, a client LayerLab did not write) must find the embedded one a registry too.
 */
const TARGETS = registryTargets(["none", "basic", "token"]);

const LAYERS = [
  { seed: 31, bytes: 500_000 },
  { seed: 32, bytes: 50_000 },
];

describe.skipIf(missing !== undefined).each(TARGETS)("LayerLab and skopeo on $label", ({ auth, start }) => {
  let reg: TestRegistry;
  let dir: string;
  const creds = () => (auth === "none" ? [] : [`--creds=${USER.username}:${USER.password}`]);
  const opts = () => ({
    retries: 2,
    backoffMs: 20,
    ...(auth === "none" ? {} : { credentials: staticCredentials({ [reg.domain]: USER }) }),
  });
  beforeAll(async () => {
    reg = await start();
    dir = mkdtempSync(join(tmpdir(), "layerlab-skopeo-"));
  });
  afterAll(async () => {
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("LayerLab pushes, skopeo pulls: the same manifest, config and layer digests", async () => {
    const store = openMemoryStore();
    const img = await storeImage(store, "interop:1", LAYERS);
    const pushed = await pushImage(store, img.id, `${reg.domain}/interop/ll:1`, opts());
    const out = join(dir, "from-layerlab");
    await run([
      "copy",
      "--src-tls-verify=false",
      ...creds().map((c) => c.replace("--creds", "--src-creds")),
      `docker://${reg.domain}/interop/ll:1`,
      `oci:${out}:x`,
    ]);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(pushed.manifestDigest);
    const manifest = JSON.parse(
      readFileSync(join(out, "blobs/sha256", pushed.manifestDigest.slice(7)), "utf8"),
    );
    expect(manifest.config.digest).toBe(img.id);
    const ours = JSON.parse(new TextDecoder().decode((await store.blobs.get(img.manifest!))!));
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(
      ours.layers.map((l: { digest: string }) => l.digest),
    );
    for (const l of manifest.layers) {
      expect(await sha256(readFileSync(join(out, "blobs/sha256", l.digest.slice(7))))).toBe(l.digest);
    }
  });

  it("skopeo pushes, LayerLab pulls: the same manifest digest and image", async () => {
    const archive = join(dir, "interop.oci.tar");
    writeFileSync(archive, await ociArchiveBytes("interop:2", LAYERS));
    const digestFile = join(dir, "digest");
    await run([
      "copy",
      "--dest-tls-verify=false",
      ...creds().map((c) => c.replace("--creds", "--dest-creds")),
      "--digestfile",
      digestFile,
      `oci-archive:${archive}`,
      `docker://${reg.domain}/interop/sk:2`,
    ]);
    const skopeoDigest = readFileSync(digestFile, "utf8").trim();
    const store = openMemoryStore();
    const pulled = await pullImage(store, `${reg.domain}/interop/sk:2`, opts());
    expect(pulled.transfer.manifestDigest).toBe(skopeoDigest);
    expect(pulled.record.manifest).toBe(skopeoDigest);
    const local = await storeImage(openMemoryStore(), "interop:2", LAYERS);
    expect(pulled.record.id).toBe(local.id);
    expect(pulled.record.layers).toEqual(local.layers);
  });
});
