import { expect, test } from "@playwright/test";
import { openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

/** What the page saw while driving the distribution API (statuses and headers, as plain data). */
interface Seen {
  layer: string;
  config: string;
  manifestDigest: string;
  steps: Record<string, { status: number; headers: Record<string, string> }>;
  manifestBack: boolean;
  rangeOk: boolean;
  wrongDigest: { status: number; code: string };
}

test("the embedded registry answers the OCI distribution API from its Service Worker, over a second IndexedDB database", async ({
  page,
}) => {
  await openApp(page);
  // The Service Worker installs in the background and claims the page: no reload needed.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, {
    timeout: 30_000,
  });

  const seen: Seen = await page.evaluate(async () => {
    const base = "/embedded-registry/v2";
    const steps: Seen["steps"] = {};
    const keep = (name: string, res: Response) => {
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        headers[k] = v;
      });
      steps[name] = { status: res.status, headers };
      return res;
    };
    const digestOf = async (bytes: Uint8Array) =>
      `sha256:${[...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>))]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("")}`;
    const layerBytes = new Uint8Array(300_000);
    for (let at = 0; at < layerBytes.length; at += 65536)
      crypto.getRandomValues(layerBytes.subarray(at, at + 65536));
    const layer = await digestOf(layerBytes);
    const configBytes = new TextEncoder().encode(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer] } }),
    );
    const config = await digestOf(configBytes);

    // A chunked upload: POST, PATCH (Content-Range), then PUT with the rest and the digest.
    const opened = keep("post", await fetch(`${base}/e2e/app/blobs/uploads/`, { method: "POST" }));
    const half = 150_000;
    const patched = keep(
      "patch",
      await fetch(opened.headers.get("location")!, {
        method: "PATCH",
        headers: { "Content-Type": "application/octet-stream", "Content-Range": `0-${half - 1}` },
        body: layerBytes.subarray(0, half),
      }),
    );
    const wrong = new URL(patched.headers.get("location")!);
    wrong.searchParams.set("digest", `sha256:${"0".repeat(64)}`);
    const refused = await fetch(wrong, { method: "PUT", body: layerBytes.subarray(half) });
    const wrongDigest = { status: refused.status, code: (await refused.json()).errors[0].code };
    const done = new URL(patched.headers.get("location")!);
    done.searchParams.set("digest", layer);
    keep("put", await fetch(done, { method: "PUT" }));
    keep("head", await fetch(`${base}/e2e/app/blobs/${layer}`, { method: "HEAD" }));

    // A monolithic upload of the config.
    const again = await fetch(`${base}/e2e/app/blobs/uploads/`, { method: "POST" });
    const mono = new URL(again.headers.get("location")!);
    mono.searchParams.set("digest", config);
    keep("config", await fetch(mono, { method: "PUT", body: configBytes }));

    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: config,
          size: configBytes.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer, size: layerBytes.length },
        ],
      }),
    );
    keep(
      "manifest",
      await fetch(`${base}/e2e/app/manifests/v1`, {
        method: "PUT",
        headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
        body: manifest,
      }),
    );
    const back = keep(
      "get-manifest",
      await fetch(`${base}/e2e/app/manifests/v1`, {
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      }),
    );
    const backBytes = new Uint8Array(await back.arrayBuffer());
    keep(
      "mount",
      await fetch(`${base}/other/app/blobs/uploads/?mount=${layer}&from=e2e/app`, { method: "POST" }),
    );
    keep("head-mounted", await fetch(`${base}/other/app/blobs/${layer}`, { method: "HEAD" }));
    const part = keep(
      "range",
      await fetch(`${base}/e2e/app/blobs/${layer}`, { headers: { Range: "bytes=1000-1999" } }),
    );
    const partBytes = new Uint8Array(await part.arrayBuffer());
    return {
      layer,
      config,
      manifestDigest: await digestOf(manifest),
      steps,
      manifestBack: backBytes.length === manifest.length && backBytes.every((b, i) => b === manifest[i]),
      rangeOk: partBytes.length === 1000 && partBytes.every((b, i) => b === layerBytes[1000 + i]),
      wrongDigest,
    };
  });

  const s = seen.steps;
  expect(s.post!.status).toBe(202);
  expect(s.post!.headers.location).toMatch(/\/embedded-registry\/v2\/e2e\/app\/blobs\/uploads\/[\w-]+$/);
  expect(s.post!.headers["docker-upload-uuid"]).toBeTruthy();
  expect([s.patch!.status, s.patch!.headers.range]).toEqual([202, "0-149999"]);
  expect(seen.wrongDigest).toEqual({ status: 400, code: "DIGEST_INVALID" });
  expect([s.put!.status, s.put!.headers["docker-content-digest"]]).toEqual([201, seen.layer]);
  expect(s.put!.headers.location).toMatch(new RegExp(`/embedded-registry/v2/e2e/app/blobs/${seen.layer}$`));
  expect([s.head!.status, s.head!.headers["content-length"]]).toEqual([200, "300000"]);
  expect(s.config!.status).toBe(201);
  expect([s.manifest!.status, s.manifest!.headers["docker-content-digest"]]).toEqual([
    201,
    seen.manifestDigest,
  ]);
  expect(s["get-manifest"]!.status).toBe(200);
  expect(s["get-manifest"]!.headers["docker-content-digest"]).toBe(seen.manifestDigest);
  expect(s["get-manifest"]!.headers["content-type"]).toBe("application/vnd.oci.image.manifest.v1+json");
  expect(seen.manifestBack).toBe(true);
  expect([s.mount!.status, s.mount!.headers["docker-content-digest"]]).toEqual([201, seen.layer]);
  expect(s["head-mounted"]!.status).toBe(200);
  expect([s.range!.status, s.range!.headers["content-range"]]).toEqual([206, "bytes 1000-1999/300000"]);
  expect(seen.rangeOk).toBe(true);

  // The blobs are in the embedded registry's own database, and not in the page's store.
  const held = await page.evaluate(async () => {
    const keys = (name: string) =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction("blobs").objectStore("blobs").getAllKeys();
          req.onsuccess = () => {
            db.close();
            resolve(req.result as string[]);
          };
          req.onerror = () => reject(req.error);
        };
      });
    return { embedded: await keys("layerlab-embedded-registry"), main: await keys("layerlab") };
  });
  expect(held.embedded.sort()).toEqual([seen.layer, seen.config, seen.manifestDigest].sort());
  expect(held.main.length).toBeGreaterThan(0);
  for (const d of [seen.layer, seen.config, seen.manifestDigest]) expect(held.main).not.toContain(d);

  // The page shows it as another machine beside its own images: blobs, bytes, repositories, tags.
  await page.getByRole("tab", { name: "Images" }).click();
  const line = page.getByTestId("embedded-registry");
  await expect(line.getByTestId("embedded-registry-summary")).toHaveText(/^3 blobs, 30\d(\.\d)? kB$/);
  const repos = page.getByRole("list", { name: "Embedded registry repositories" });
  await expect(repos.getByRole("listitem")).toHaveText([
    "embedded.layerlab/e2e/app: v1",
    "embedded.layerlab/other/app (no tags)",
  ]);
  await page.getByRole("button", { name: "Clear embedded registry" }).scrollIntoViewIfNeeded();
  await screenshot(page, "embedded-registry-1280");

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Clear embedded registry" }).click();
  await expect(line.getByTestId("embedded-registry-summary")).toHaveText("0 blobs, 0 B");
  const after = await page.evaluate(() =>
    fetch("/embedded-registry/v2/e2e/app/manifests/v1").then((r) => r.status),
  );
  expect(after).toBe(404);
});

test.describe("without Service Workers", () => {
  test.use({ serviceWorkers: "block" });

  test("the app works, and the embedded registry says it is unavailable and why", async ({ page }) => {
    // The page gives a Service Worker that never starts 20 s before it says so.
    test.setTimeout(120_000);
    await openApp(page);
    await page.getByRole("tab", { name: "Images" }).click();
    const line = page.getByTestId("embedded-registry");
    await expect(line.getByTestId("embedded-registry-summary")).toHaveText("unavailable", {
      timeout: 30_000,
    });
    await expect(line.getByRole("alert")).toContainText("The embedded registry is unavailable");
    await expect(page.getByRole("button", { name: "Clear embedded registry" })).toBeDisabled();
  });
});
