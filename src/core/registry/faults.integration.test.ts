import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  registryMissing,
  registryTargets,
  type TestRegistry,
  USER,
} from "../../testdata/registry/harness.ts";
import { storeImage } from "../../testdata/registry/images.ts";
import { type FaultProxy, startFaultProxy } from "../../testdata/registry/proxy.ts";
import { CancelledError } from "../errors.ts";
import { MediaType } from "../image/oci.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { ImageRecord, Store } from "../store/types.ts";
import { basicAuthorization, staticCredentials } from "./auth.ts";
import { RegistryClient, type RegistryRequest } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { MANIFEST_MAX_BYTES } from "./manifest.ts";
import { pullImage } from "./pull.ts";
import { pushImage } from "./push.ts";

if (registryMissing) console.warn(`registry fault tests against distribution skipped: ${registryMissing}`);

const LAYERS = [
  { seed: 21, bytes: 2_000_000 },
  { seed: 22, bytes: 2_000_000 },
  { seed: 23, bytes: 2_000_000 },
];

/**
 * CNCF distribution with htpasswd, and LayerLab's embedded registry: every fault runs against
 * both, and both must answer alike. The embedded registry's "kill" closes the server and every
 * connection at once, and "start" listens again on the same port over the same store, as
 * distribution restarts over the same storage folder. The one difference is auth: the embedded
 * registry asks for none, so "401 with wrong credentials" cannot happen there; that test checks
 * instead that wrong credentials do not stop a pull from it (no challenge, so the client never
 * sends them).
 */
const TARGETS = registryTargets(["basic"]);

describe.each(TARGETS)("registry faults against $label behind a test proxy", ({ auth, start }) => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let source: Store;
  let image: ImageRecord;
  let layerDigests: string[];
  const opts = () => ({
    retries: 2,
    backoffMs: 20,
    ...(auth === "none"
      ? {}
      : { credentials: staticCredentials({ [proxy.domain]: USER, [reg.domain]: USER }) }),
  });

  beforeAll(async () => {
    reg = await start();
    proxy = await startFaultProxy(reg.domain, auth === "none" ? undefined : basicAuthorization(USER));
    source = openMemoryStore();
    image = await storeImage(source, "faulty:1", LAYERS);
    await pushImage(source, image.id, `${reg.domain}/faulty/app:1`, opts());
    const manifest = JSON.parse(new TextDecoder().decode((await source.blobs.get(image.manifest!))!));
    layerDigests = manifest.layers.map((l: { digest: string }) => l.digest);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("a blob whose bytes do not match its digest: a clear error, no image and nothing of that blob stored", async () => {
    const bad = layerDigests[1]!;
    proxy.fault = (m, p) => (m === "GET" && p.endsWith(`/blobs/${bad}`) ? { kind: "corrupt" } : undefined);
    const store = openMemoryStore();
    const err = await pullImage(store, `${proxy.domain}/faulty/app:1`, { ...opts(), concurrency: 1 }).catch(
      (e) => e,
    );
    proxy.fault = () => undefined;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("digest-mismatch");
    expect(err.message).toMatch(
      new RegExp(`layer ${bad}: the bytes received hash to sha256:[0-9a-f]{64}, not the digest`),
    );
    expect(await store.meta.list("images")).toEqual([]);
    expect(await store.blobs.has(bad as `sha256:${string}`)).toBe(false);
    // The layer verified before it stays, and the next pull does not fetch it again.
    expect(await store.blobs.has(layerDigests[0] as `sha256:${string}`)).toBe(true);
    reg.mark();
    const ok = await pullImage(store, `${proxy.domain}/faulty/app:1`, opts());
    expect(ok.record.id).toBe(image.id);
    const fetched = reg.requests().filter((r) => r.method === "GET" && r.path.includes("/blobs/sha256:"));
    expect(fetched.some((r) => r.path.endsWith(layerDigests[0]!))).toBe(false);
    expect(ok.transfer.blobs.filter((b) => b.role === "layer").map((b) => b.outcome)).toEqual([
      "skipped",
      "received",
      "received",
    ]);
  });

  it("404: a missing repository or tag is an unknown manifest (as distribution answers), its tag list an unknown name; nothing stored", async () => {
    const store = openMemoryStore();
    for (const ref of ["nobody/here:1", "faulty/app:nope", `nobody/here@sha256:${"0".repeat(64)}`]) {
      const err = await pullImage(store, `${proxy.domain}/${ref}`, opts()).catch((e) => e);
      expect(err, ref).toBeInstanceOf(RegistryError);
      expect(err.kind, ref).toBe("manifest-unknown");
      expect(err.message).toMatch(/check the tag or digest \(the repository may not exist either\)/);
    }
    const client = new RegistryClient(proxy.domain, opts());
    const tags = await client.send({
      method: "GET",
      url: "/v2/nobody/here/tags/list",
      scopes: ["repository:nobody/here:pull"],
      what: "the tag list",
      accept: (status) => status === 404,
    });
    expect((await tags.json()).errors[0].code).toBe("NAME_UNKNOWN");
    expect(await store.meta.list("images")).toEqual([]);
    expect(await store.blobs.list()).toEqual([]);
  });

  it("401 with wrong credentials: a message saying to check them, nothing stored (the embedded registry asks for none)", async () => {
    const store = openMemoryStore();
    const wrong = { username: USER.username, password: "wrong" };
    const result = await pullImage(store, `${proxy.domain}/faulty/app:1`, {
      ...opts(),
      credentials: staticCredentials({ [proxy.domain]: wrong }),
    }).catch((e) => e);
    if (auth === "none") {
      // No challenge, so the client never sends them: the pull just works.
      expect(result.record.id).toBe(image.id);
      return;
    }
    expect(result).toBeInstanceOf(RegistryError);
    expect(result.kind).toBe("unauthorized");
    expect(result.message).toMatch(/Check the user name and password/);
    expect(await store.meta.list("images")).toEqual([]);
  });

  it("refuses a manifest over the limit, declared or streamed", async () => {
    const huge = new Uint8Array(MANIFEST_MAX_BYTES + 10).fill(0x20);
    for (const chunked of [false, true]) {
      proxy.fault = (_m, p) =>
        p.includes("/manifests/")
          ? {
              kind: "serve",
              status: 200,
              headers: { "content-type": MediaType.ociManifest },
              body: huge,
              chunked,
            }
          : undefined;
      const store = openMemoryStore();
      const err = await pullImage(store, `${proxy.domain}/faulty/app:1`, opts()).catch((e) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.kind).toBe("too-large");
      expect(err.message).toMatch(/larger than LayerLab accepts \(4194304 bytes\)/);
      expect(await store.meta.list("images")).toEqual([]);
    }
    proxy.fault = () => undefined;
  });

  it("a manifest over the limit pushed to it: 400 MANIFEST_INVALID, the client says so, and nothing is stored", async () => {
    const client = new RegistryClient(reg.domain, opts());
    const huge = new Uint8Array(MANIFEST_MAX_BYTES + 10).fill(0x20);
    const putHuge: RegistryRequest = {
      method: "PUT",
      url: "/v2/faulty/huge/manifests/1",
      headers: { "content-type": MediaType.ociManifest },
      body: () => huge,
      scopes: ["repository:faulty/huge:pull,push"],
      what: "manifest 1",
    };
    // Once taking the 400 as an answer, to read the registry's own error code...
    const put = await client.send({ ...putHuge, accept: (status) => status === 400 });
    expect((await put.json()).errors[0].code).toBe("MANIFEST_INVALID");
    // ...and once as the client sends it, to read what it makes of that answer.
    const err = await client.send(putHuge).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    // Not "digest-mismatch", which a 413 SIZE_INVALID would read as (bytes changed on the way).
    expect(err.kind).toBe("protocol");
    expect(err.message).toMatch(/refused manifest 1 as invalid/);
    const after = await pullImage(openMemoryStore(), `${reg.domain}/faulty/huge:1`, opts()).catch((e) => e);
    expect(after.kind).toBe("manifest-unknown");
  });

  it("refuses an unknown manifest media type and schema 1 by name", async () => {
    for (const [type, why] of [
      [
        "application/vnd.example.thing+json",
        /media type 'application\/vnd.example.thing\+json', which is not an image/,
      ],
      ["application/vnd.docker.distribution.manifest.v1+prettyjws", /schema 1 manifest/],
    ] as const) {
      const body = new TextEncoder().encode(JSON.stringify({ schemaVersion: 1, mediaType: type }));
      proxy.fault = (_m, p) =>
        p.includes("/manifests/")
          ? { kind: "serve", status: 200, headers: { "content-type": type }, body }
          : undefined;
      const err = await pullImage(openMemoryStore(), `${proxy.domain}/faulty/app:1`, opts()).catch((e) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.kind).toBe("unsupported");
      expect(err.message).toMatch(why);
    }
    proxy.fault = () => undefined;
  });

  it("waits out 429 Too Many Requests (Retry-After) and 503, then goes on", async () => {
    let n = 0;
    proxy.fault = (m, p) => {
      if (m === "GET" && p.includes("/manifests/") && n < 2) {
        n++;
        return n === 1
          ? {
              kind: "status",
              status: 429,
              headers: { "retry-after": "0" },
              body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}',
            }
          : { kind: "status", status: 503 };
      }
      return undefined;
    };
    const r = await pullImage(openMemoryStore(), `${proxy.domain}/faulty/app:1`, opts());
    proxy.fault = () => undefined;
    expect(n).toBe(2);
    expect(r.record.id).toBe(image.id);
  });

  it("says to wait when the registry keeps answering 429", async () => {
    proxy.fault = () => ({
      kind: "status",
      status: 429,
      headers: { "retry-after": "0" },
      body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
    });
    const err = await pullImage(openMemoryStore(), `${proxy.domain}/faulty/app:1`, opts()).catch((e) => e);
    proxy.fault = () => undefined;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("too-many-requests");
    expect(err.message).toMatch(/Wait and try again.*slow down/);
  });

  it("follows blob redirects to another host without sending it the credentials", async () => {
    proxy.storageHits.length = 0;
    proxy.fault = (m, p) => (m === "GET" && p.includes("/blobs/sha256:") ? { kind: "redirect" } : undefined);
    const r = await pullImage(openMemoryStore(), `${proxy.domain}/faulty/app:1`, opts());
    proxy.fault = () => undefined;
    expect(r.record.id).toBe(image.id);
    expect(proxy.storageHits.length).toBe(4); // three layers and the config
    expect(proxy.storageHits.every((h) => !h.authorization)).toBe(true);
  });

  it("cancel during a pull: CancelledError and no image", async () => {
    const store = openMemoryStore();
    const ac = new AbortController();
    const err = await pullImage(store, `${reg.domain}/faulty/app:1`, {
      ...opts(),
      signal: ac.signal,
      onProgress: (p) => {
        if (p.state === "moving") ac.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(await store.meta.list("images")).toEqual([]);
  });

  it("cancel during a push: CancelledError, and no manifest in the registry", async () => {
    const ac = new AbortController();
    // A store that knows of no repository holding the blobs, so they are uploaded, not mounted.
    const fresh = openMemoryStore();
    await storeImage(fresh, "faulty:1", LAYERS);
    reg.mark();
    const err = await pushImage(fresh, image.id, `${reg.domain}/cancelled/app:1`, {
      ...opts(),
      signal: ac.signal,
      monolithicMaxBytes: 100_000,
      chunkBytes: 256 * 1024,
      onProgress: (p) => {
        if (p.state === "moving") ac.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(reg.requests().filter((r) => r.path.includes("/manifests/"))).toEqual([]);
  });

  it("the registry killed mid-pull: retried, then a clear error; a later pull fetches only what is missing", async () => {
    // A large middle layer, so that the kill lands while it streams (socket buffers hold megabytes).
    const big = openMemoryStore();
    const bigImage = await storeImage(big, "big:1", [
      { seed: 41, bytes: 500_000 },
      { seed: 42, bytes: 16_000_000 },
      { seed: 43, bytes: 500_000 },
    ]);
    await pushImage(big, bigImage.id, `${reg.domain}/faulty/big:1`, opts());
    const digests = JSON.parse(
      new TextDecoder().decode((await big.blobs.get(bigImage.manifest!))!),
    ).layers.map((l: { digest: string }) => l.digest);
    const store = openMemoryStore();
    let killed = false;
    let err: unknown;
    try {
      err = await pullImage(store, `${reg.domain}/faulty/big:1`, {
        ...opts(),
        concurrency: 1,
        onProgress: (p) => {
          if (!killed && p.role === "layer" && p.index === 1 && p.state === "moving") {
            killed = true;
            void reg.kill();
          }
        },
      }).catch((e) => e);
    } finally {
      await reg.kill();
      await reg.start();
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).kind).toBe("network");
    expect((err as RegistryError).message).toMatch(/running/);
    expect(await store.meta.list("images")).toEqual([]);
    const held = await Promise.all(digests.map((d: `sha256:${string}`) => store.blobs.has(d)));
    expect(held).toEqual([true, false, false]);
    reg.mark();
    const ok = await pullImage(store, `${reg.domain}/faulty/big:1`, opts());
    expect(ok.record.id).toBe(bigImage.id);
    const got = reg.requests().filter((r) => r.method === "GET" && r.path.includes("/blobs/sha256:"));
    expect(got.map((r) => r.path.slice(r.path.lastIndexOf("/") + 1)).sort()).toEqual(
      [digests[1], digests[2], bigImage.config].sort(),
    );
  }, 120_000);

  it("the registry killed mid-push: retried, then a clear error; a later push sends only what is missing", async () => {
    let killed = false;
    const target = `${reg.domain}/killed/app:1`;
    const fresh = openMemoryStore();
    await storeImage(fresh, "faulty:1", LAYERS);
    const err = await pushImage(fresh, image.id, target, {
      ...opts(),
      concurrency: 1,
      monolithicMaxBytes: 100_000,
      chunkBytes: 512 * 1024,
      onProgress: (p) => {
        if (!killed && p.role === "layer" && p.index === 1 && p.state === "moving") {
          killed = true;
          void reg.kill();
        }
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("network");
    await reg.start();
    reg.mark();
    const ok = await pushImage(fresh, image.id, target, opts());
    expect(ok.transfer.blobs.filter((b) => b.role === "layer").map((b) => b.outcome)).toEqual([
      "skipped",
      "sent",
      "sent",
    ]);
    const uploads = reg.requests().filter((r) => r.method === "PUT" && r.path.includes("/blobs/uploads/"));
    expect(uploads.some((u) => u.path.includes(encodeURIComponent(layerDigests[0]!)))).toBe(false);
  });
});
