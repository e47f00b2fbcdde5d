import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  registryMissing,
  registryTargets,
  type TestRegistry,
  USER,
} from "../../testdata/registry/harness.ts";
import { layerBytes, ociArchiveBytes, storeImage } from "../../testdata/registry/images.ts";
import { streamBytes } from "../archive/bytes.ts";
import { sha256 } from "../digest.ts";
import { importArchive } from "../image/import.ts";
import { MediaType } from "../image/oci.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { staticCredentials } from "./auth.ts";
import { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { pullImage } from "./pull.ts";
import { pushImage } from "./push.ts";
import { readTransfers } from "./transfer.ts";

if (registryMissing) console.warn(`distribution registry integration tests skipped: ${registryMissing}`);

const BASE = [
  { seed: 1, bytes: 300_000 },
  { seed: 2, bytes: 40_000 },
];
const APP = [...BASE, { seed: 3, bytes: 200_000 }];
const APP2 = [...BASE, { seed: 4, bytes: 100_000 }];

/** CNCF distribution with each kind of auth, and the embedded registry: the same suite on each. */
const TARGETS = registryTargets(["none", "basic", "token"]);

describe.each(TARGETS)("against $label", ({ auth, start }) => {
  let reg: TestRegistry;
  let opts: { credentials?: ReturnType<typeof staticCredentials>; retries: number; backoffMs: number };
  beforeAll(async () => {
    reg = await start();
    opts = {
      retries: 2,
      backoffMs: 20,
      ...(auth === "none" ? {} : { credentials: staticCredentials({ [reg.domain]: USER }) }),
    };
  });
  afterAll(async () => {
    await reg?.stop();
  });

  const uploadsOf = (digest: string) =>
    reg
      .requests()
      .filter(
        (r) =>
          r.method === "PUT" &&
          r.path.includes("/blobs/uploads/") &&
          r.path.includes(encodeURIComponent(digest)),
      );

  it("pushes an image, pulls it into an empty store identical, and a second pull receives nothing", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", APP);
    reg.mark();
    const pushed = await pushImage(local, img.id, `${reg.domain}/team/app:1`, opts);
    expect(pushed.manifestDigest).toBe(img.manifest);
    expect(pushed.transfer.totals.sent.count).toBe(5); // three layers, the config and the manifest
    const manifestPuts = reg
      .requests()
      .filter((r) => r.method === "PUT" && r.path === "/v2/team/app/manifests/1");
    expect(manifestPuts.map((r) => r.status)).toEqual([201]);

    const other = openMemoryStore();
    const pulled = await pullImage(other, `${reg.domain}/team/app:1`, opts);
    expect(pulled.record.id).toBe(img.id);
    expect(pulled.record.manifest).toBe(img.manifest);
    expect(pulled.record.layers).toEqual(img.layers);
    expect(pulled.record.source).toBe("pull");
    expect(pulled.transfer.totals.received.count).toBe(5); // layers, config, manifest
    // Stored as an import stores it: every layer has its record, blob and entry index.
    for (const id of pulled.record.layers) {
      const rec = (await other.meta.get("layers", id))!;
      expect(await other.blobs.has(rec.blob)).toBe(true);
      expect(await other.blobs.has(rec.index!)).toBe(true);
    }
    reg.mark();
    const again = await pullImage(other, `${reg.domain}/team/app:1`, opts);
    expect(again.transfer.totals.skipped.count).toBe(4);
    expect(reg.requests().filter((r) => r.method === "GET" && r.path.includes("/blobs/"))).toEqual([]);
    expect((await readTransfers(other.meta, img.id)).map((t) => t.kind)).toEqual(["pull", "pull"]);
  });

  it("records a pulled layer's sizes as an import of the same archive does, blobsOnly or not", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:sizes", APP);
    await pushImage(local, img.id, `${reg.domain}/sizes/app:1`, opts);
    const archive = await ociArchiveBytes("app:sizes", APP);
    const tarBytes = await Promise.all(APP.map(async (l) => (await layerBytes(l)).tar.byteLength));
    const gzBytes = await Promise.all(APP.map(async (l) => (await layerBytes(l)).gz.byteLength));
    for (const blobsOnly of [false, true]) {
      const pulled = await pullImage(openMemoryStore(), `${reg.domain}/sizes/app:1`, { ...opts, blobsOnly });
      const imported = await importArchive(openMemoryStore(), streamBytes(archive, [4096]), { blobsOnly });
      expect(pulled.layers, `blobsOnly: ${blobsOnly}`).toEqual(imported.images[0]!.layers);
      expect(pulled.layers.map((l) => l.blobSize)).toEqual(gzBytes);
      // `size` is the uncompressed tar's (what inspect and the stack show). A blobsOnly pull, as a
      // blobsOnly import, never decompresses a gzip layer, so it does not know it: 0.
      expect(pulled.layers.map((l) => l.size)).toEqual(blobsOnly ? APP.map(() => 0) : tarBytes);
    }
  });

  it("pushes and pulls by digest", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    const ref = `${reg.domain}/bydigest/app@${img.manifest}`;
    const pushed = await pushImage(local, img.id, ref, opts);
    expect(pushed.manifestDigest).toBe(img.manifest);
    const pulled = await pullImage(openMemoryStore(), ref, opts);
    expect(pulled.record.id).toBe(img.id);
    expect(pulled.record.names).toEqual([ref]);
    const wrong = await pushImage(
      local,
      img.id,
      `${reg.domain}/bydigest/app@sha256:${"0".repeat(64)}`,
      opts,
    ).catch((e) => e);
    expect(wrong).toBeInstanceOf(RegistryError);
    expect(wrong.message).toMatch(/push it by tag, or by its own digest/);
  });

  it("follows an index to the chosen platform (default linux/amd64), and names the platforms it lacks", async () => {
    const local = openMemoryStore();
    const amd = await storeImage(local, "multi:amd", BASE);
    const arm = await storeImage(local, "multi:arm", APP2);
    const repo = `${reg.domain}/multi/app`;
    const a = await pushImage(local, amd.id, `${repo}:amd`, opts);
    const b = await pushImage(local, arm.id, `${repo}:arm`, opts);
    const size = async (d: string) => (await local.blobs.size(d as `sha256:${string}`))!;
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: b.manifestDigest,
          size: await size(b.manifestDigest),
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: a.manifestDigest,
          size: await size(a.manifestDigest),
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    };
    const client = new RegistryClient(reg.domain, opts);
    const bytes = new TextEncoder().encode(JSON.stringify(index));
    await client.send({
      method: "PUT",
      url: "/v2/multi/app/manifests/both",
      headers: { "Content-Type": MediaType.ociIndex },
      body: () => bytes,
      scopes: ["repository:multi/app:pull,push"],
      what: "index",
    });
    const byDefault = await pullImage(openMemoryStore(), `${repo}:both`, opts);
    expect(byDefault.record.id).toBe(amd.id);
    expect(byDefault.record.platform).toBe("linux/amd64");
    const chosen = await pullImage(openMemoryStore(), `${repo}:both`, { ...opts, platform: "linux/arm64" });
    expect(chosen.record.id).toBe(arm.id);
    expect(chosen.record.platform).toBe("linux/arm64/v8");
    const missing = await pullImage(openMemoryStore(), `${repo}:both`, {
      ...opts,
      platform: "linux/s390x",
    }).catch((e) => e);
    expect(missing).toBeInstanceOf(RegistryError);
    expect(missing.message).toMatch(
      /has no linux\/s390x image \(platforms: linux\/arm64\/v8, linux\/amd64\)/,
    );
  });

  it("a second image sharing the base uploads only its own layer, config and manifest", async () => {
    const local = openMemoryStore();
    const a = await storeImage(local, "app:1", APP);
    const b = await storeImage(local, "app:2", APP2);
    await pushImage(local, a.id, `${reg.domain}/shared/app:1`, opts);
    reg.mark();
    const r = await pushImage(local, b.id, `${reg.domain}/shared/app:2`, opts);
    expect(r.transfer.totals.skipped.count).toBe(2);
    expect(r.transfer.totals.sent.count).toBe(3); // the new layer, the config and the manifest
    const bManifest = JSON.parse(new TextDecoder().decode((await local.blobs.get(b.manifest!))!));
    for (const base of bManifest.layers.slice(0, 2)) expect(uploadsOf(base.digest)).toEqual([]);
    expect(uploadsOf(bManifest.layers[2].digest)).toHaveLength(1);
    expect(uploadsOf(bManifest.config.digest)).toHaveLength(1);
  });

  it("mounts blobs from another repository of the same registry", async () => {
    const local = openMemoryStore();
    const a = await storeImage(local, "app:1", APP);
    await pushImage(local, a.id, `${reg.domain}/one/app:1`, opts);
    reg.mark();
    const r = await pushImage(local, a.id, `${reg.domain}/two/app:1`, opts);
    expect(r.transfer.totals.mounted.count).toBe(4);
    expect(r.transfer.blobs.filter((b) => b.outcome === "sent").map((b) => b.role)).toEqual(["manifest"]);
    const mounts = reg.requests().filter((r) => r.method === "POST" && r.path.includes("mount="));
    expect(mounts.map((m) => m.status)).toEqual([201, 201, 201, 201]);
  });

  it("pushes a layer stored only as a tar gzipped once, the same digest every time", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "plain:1", APP2, "docker");
    const first = await pushImage(local, img.id, `${reg.domain}/plain/app:1`, opts);
    const second = await pushImage(local, img.id, `${reg.domain}/plain/app:2`, opts);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.transfer.totals.skipped.count).toBe(4);
    const other = openMemoryStore();
    const pulled = await pullImage(other, `${reg.domain}/plain/app:2`, opts);
    expect(pulled.record.id).toBe(img.id);
    expect(pulled.record.layers).toEqual(img.layers);
  });

  /**
   * Pushes `id` from `store` with blobs over 100 kB sent in 256 KiB PATCH chunks: the 700 kB layer
   * goes up in three, each taken (202). Gives the pull of it back into an empty store.
   */
  async function pushChunked(store: Store, id: `sha256:${string}`, ref: string) {
    reg.mark();
    await pushImage(store, id, ref, { ...opts, monolithicMaxBytes: 100_000, chunkBytes: 256 * 1024 });
    const patches = reg.requests().filter((r) => r.method === "PATCH");
    expect(patches.length).toBe(3);
    expect(patches.every((p) => p.status === 202)).toBe(true);
    return () => pullImage(openMemoryStore(), ref, opts);
  }

  it("pushes large blobs in PATCH chunks", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "big:1", [{ seed: 9, bytes: 700_000 }]);
    const pull = await pushChunked(local, img.id, `${reg.domain}/chunked/app:1`);
    const pulled = await pull();
    expect(pulled.record.id).toBe(img.id);
  });

  it("pushes large blobs in PATCH chunks sliced from the Blob a store keeps (the bytes never read by the push)", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "big:2", [{ seed: 10, bytes: 700_000 }]);
    // A store keeping its blobs as Blobs (as the CLI's files): the push must send slices of them,
    // and never ask the store for the bytes themselves.
    const read: string[] = [];
    const blobs = local.blobs;
    const asBlobs: Store = {
      ...local,
      blobs: Object.assign(Object.create(blobs) as typeof blobs, {
        blob: async (d: `sha256:${string}`) => {
          const b = await blobs.get(d);
          return b && new Blob([b as Uint8Array<ArrayBuffer>]);
        },
        get: (d: `sha256:${string}`) => {
          read.push(d);
          return blobs.get(d);
        },
        stream: (d: `sha256:${string}`) => {
          read.push(d);
          return blobs.stream(d);
        },
      }),
    };
    const pull = await pushChunked(asBlobs, img.id, `${reg.domain}/chunked/app:2`);
    // The config is read (the push reads it for the manifest); the 700 kB layer never is.
    const sizes = await Promise.all(read.map((d) => blobs.size(d as `sha256:${string}`)));
    expect(sizes.every((n) => (n ?? 0) < 100_000)).toBe(true);
    const pulled = await pull();
    expect(pulled.record.id).toBe(img.id);
    expect(pulled.record.layers).toEqual(img.layers);
  });

  it("says the manifest is unknown for a missing tag, and for a missing repository (as distribution answers)", async () => {
    const local = openMemoryStore();
    const img = await storeImage(local, "app:1", BASE);
    await pushImage(local, img.id, `${reg.domain}/exists/app:1`, opts);
    const err1 = await pullImage(openMemoryStore(), `${reg.domain}/exists/app:nope`, opts).catch((e) => e);
    expect(err1).toBeInstanceOf(RegistryError);
    expect(err1.kind).toBe("manifest-unknown");
    expect(err1.message).toMatch(/check the tag/);
    const err2 = await pullImage(openMemoryStore(), `${reg.domain}/nobody/here:1`, opts).catch((e) => e);
    expect(err2).toBeInstanceOf(RegistryError);
    expect(err2.kind).toBe("manifest-unknown");
  });

  it("refuses wrong credentials with a message saying to check them (never sent where none are asked for)", async () => {
    const bad = {
      ...opts,
      credentials: staticCredentials({ [reg.domain]: { username: USER.username, password: "wrong" } }),
    };
    const store: Store = openMemoryStore();
    const err = await pullImage(store, `${reg.domain}/team/app:1`, bad).catch((e) => e);
    if (auth === "none") {
      expect(err.record.id).toMatch(/^sha256:/);
      return;
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("unauthorized");
    expect(err.message).toMatch(/Check the user name and password/);
    expect(await store.meta.list("images")).toEqual([]);
  });

  it("answers the raw upload and blob API as distribution does: ranges, upload status, a wrong digest, deletes", async () => {
    const client = new RegistryClient(reg.domain, opts);
    const scopes = ["repository:raw/app:pull,push,delete"];
    const send = (method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, more = {}) =>
      client.send({ method, url, scopes, what: `${method} ${url}`, accept: (st) => st !== 401, ...more });
    const codeOf = async (res: Response) =>
      ((await res.json()) as { errors: { code: string }[] }).errors[0]!.code;
    const bytes = new TextEncoder().encode("0123456789");
    const digest = await sha256(bytes);

    const opened = await send("POST", "/v2/raw/app/blobs/uploads/");
    expect(opened.status).toBe(202);
    expect(opened.headers.get("docker-upload-uuid")).toBeTruthy();
    expect(opened.headers.get("range")).toBe("0-0");
    let location = client.resolve(opened.headers.get("location")!);
    const chunk = { "Content-Type": "application/octet-stream", "Content-Range": "0-9" };
    const patched = await send("PATCH", location, { headers: chunk, body: () => bytes });
    expect(patched.status).toBe(202);
    expect(patched.headers.get("range")).toBe("0-9");
    location = client.resolve(patched.headers.get("location")!, location);
    const status = await send("GET", location);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-9");
    const withDigest = (loc: string, d: string) => {
      const u = new URL(loc);
      u.searchParams.set("digest", d);
      return u.href;
    };
    const wrong = await send("PUT", withDigest(location, `sha256:${"1".repeat(64)}`));
    expect(wrong.status).toBe(400);
    expect(await codeOf(wrong)).toBe("DIGEST_INVALID");
    // The upload stays open after a wrong digest: the right one completes it, and then it is gone.
    const retried = await send("PUT", withDigest(location, digest));
    expect(retried.status).toBe(201);
    expect(retried.headers.get("docker-content-digest")).toBe(digest);
    const gone = await send("PUT", withDigest(location, digest));
    expect(gone.status).toBe(404);
    expect(await codeOf(gone)).toBe("BLOB_UPLOAD_UNKNOWN");

    const again = await send("POST", "/v2/raw/app/blobs/uploads/");
    const put = await send("PUT", withDigest(client.resolve(again.headers.get("location")!), digest), {
      headers: { "Content-Type": "application/octet-stream" },
      body: () => bytes,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    expect(new URL(client.resolve(put.headers.get("location")!)).pathname).toBe(
      `/v2/raw/app/blobs/${digest}`,
    );

    const head = await send("HEAD", `/v2/raw/app/blobs/${digest}`);
    expect([
      head.status,
      head.headers.get("content-length"),
      head.headers.get("docker-content-digest"),
    ]).toEqual([200, "10", digest]);
    const part = await send("GET", `/v2/raw/app/blobs/${digest}`, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const past = await send("GET", `/v2/raw/app/blobs/${digest}`, { headers: { Range: "bytes=20-" } });
    expect(past.status).toBe(416);
    await past.body?.cancel();
    const elsewhere = await send("GET", `/v2/raw/other/blobs/${digest}`, {
      scopes: ["repository:raw/other:pull"],
    });
    expect(elsewhere.status).toBe(404);
    expect(await codeOf(elsewhere)).toBe("BLOB_UNKNOWN");

    const deleted = await send("DELETE", `/v2/raw/app/blobs/${digest}`);
    expect(deleted.status).toBe(202);
    const after = await send("HEAD", `/v2/raw/app/blobs/${digest}`);
    expect(after.status).toBe(404);
  });
});
