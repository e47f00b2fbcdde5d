import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { generateArchive } from "../src/bench/import.ts";
import { importFixture, openApp, setDockerfile } from "./helpers.ts";

let dir: string;
let big: string;
const SMALL = "src/testdata/archives/oci.tar";

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "layerlab-faults-"));
  // About 36 MB as stored (gzip layers are kept as they came): larger than the quotas below.
  ({ archive: big } = await generateArchive(
    dir,
    { layers: 6, files: 3000, bytes: 120 << 20, seed: 5 },
    "gzip",
  ));
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The browser's own figure of what the origin stores (the quota manager's, which CDP overrides). */
async function usage(page: Page, origin: string): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  return (await cdp.send("Storage.getUsageAndQuota", { origin })).usage;
}

test("an import larger than the quota stops with a clear message; nothing of it stays; a smaller one still works", async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  const cdp = await page.context().newCDPSession(page);
  // Set before the store opens: the browser reads the quota when the origin's storage starts.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 12 << 20 });
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  const stored = await page.getByTestId("storage-bytes").textContent();

  await page.getByLabel("Import image archive").setInputFiles(big);
  const failed = page.getByRole("alert").filter({ hasText: "Import of image.tar failed" });
  await expect(failed).toContainText("Not enough storage: the import of image.tar was refused");
  await expect(failed).toContainText("it needs about 36.0 MB");
  await expect(failed).toContainText("delete images you no longer need or clear the store");
  const notice = page.getByRole("alert", { name: "Storage full" });
  await expect(notice).toContainText("What uses it: layerlab/example:latest");
  await expect(notice.getByRole("button", { name: "Clear store" })).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/storage-full.png" });

  // The store is as it was: the same blobs and bytes, the example still opens.
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-bytes")).toHaveText(stored!);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await page
    .getByRole("list", { name: "Layer stack" })
    .getByRole("button", { name: /Layer 3/ })
    .click();
  await expect(
    page.getByRole("tree", { name: "Files" }).getByRole("treeitem", { name: /^app,/ }),
  ).toBeVisible();

  // The smaller archive (two images) fits.
  await importFixture(page, SMALL);
  await expect(page.getByTestId("storage-images")).toHaveText("3");
});

test("a build larger than the quota stops with a clear message, removes its layers, and a smaller build still works", async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  const cdp = await page.context().newCDPSession(page);
  // Room for the example (about 2 MB as the browser counts it) and little more: the browser counts
  // what a transaction adds only roughly, so the layer's first transaction (8 MB) must not fit.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 5 << 20 });
  await openApp(page);
  const blobs = await page.getByTestId("storage-blobs").textContent();
  const before = await usage(page, origin);
  // A 16.7 MB layer, doubled up from 64 kB of random bytes in the simulated shell (random, as the
  // browser compresses what it stores: zeros would take no room).
  const doubling = Array.from({ length: 7 }, (_, i) => `cat /a${i} /a${i} > /a${i + 1}`).join(" && ");
  await setDockerfile(page, `FROM busybox\nRUN head -c 65536 /dev/urandom > /a0 && ${doubling}\n`);
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const notice = page.getByRole("alert", { name: "Storage full" });
  await expect(notice).toContainText("What uses it: layerlab/example:latest", { timeout: 30_000 });
  await expect(
    page.getByText(/Not enough storage: the build of layerlab\/example:latest was refused/),
  ).toBeVisible();
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await expect.poll(() => usage(page, origin)).toBeLessThan(before + (2 << 20));

  await setDockerfile(page, "FROM scratch\nCOPY . /app\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.getByRole("combobox", { name: "Image" })).toContainText("(1 layers)");
});

test("a tab closed mid-import leaves no partial image, and the next load collects what it wrote", async ({
  context,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  // The second point stays well before the last of the 6 layers: a page closed as the import ends
  // may let it finish whole, which is correct but not what this test is about.
  for (const point of [/ MB of /, /[1-3] layers?,/]) {
    const page = await context.newPage();
    await openApp(page);
    await expect(page.getByTestId("storage-images")).toHaveText("1");
    const blobs = await page.getByTestId("storage-blobs").textContent();
    const before = await usage(page, origin);
    await page.getByLabel("Import image archive").setInputFiles(big);
    // Closed at two points: once the first bytes are read, and once layers are being stored.
    const progress = page
      .getByRole("status")
      .filter({ has: page.getByRole("progressbar", { name: "Import progress" }) });
    await expect(progress).toContainText(point, { timeout: 30_000 });
    await page.close();

    const again = await context.newPage();
    await openApp(again);
    await expect(again.getByTestId("storage-images")).toHaveText("1");
    await expect(again.getByTestId("storage-blobs")).toHaveText(blobs!);
    await expect(again.getByRole("combobox", { name: "Image" }).getByRole("option")).toHaveCount(1);
    // What the browser counts is back to what the example accounts for (within its own overhead:
    // IndexedDB reclaims deleted space lazily, so allow what 4 layers' chunks would be).
    await expect.poll(() => usage(again, origin)).toBeLessThan(before + (4 << 20));
    await again.close();
  }
  const page = await context.newPage();
  await openApp(page);
  await page.getByLabel("Import image archive").setInputFiles(big);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("storage-images")).toHaveText("2");
});

test("two tabs share the store: a build in one and an import in the other both finish and each sees the other's image", async ({
  context,
}) => {
  const a = await context.newPage();
  await openApp(a);
  const b = await context.newPage();
  await openApp(b);
  await setDockerfile(a, "FROM scratch\nCOPY . /app\n");
  const importing = b.getByLabel("Import image archive").setInputFiles(SMALL);
  await a.getByRole("button", { name: "Build", exact: true }).click();
  await importing;
  await expect(b.getByRole("status").filter({ hasText: "Imported" })).toBeVisible();
  await expect(a.getByRole("combobox", { name: "Image" })).toContainText("(1 layers)");
  // Each tab shows the other's image without a reload.
  for (const p of [a, b]) {
    const picker = p.getByRole("combobox", { name: "Image" });
    await expect(picker).toContainText("(1 layers)");
    // The example, the new build and the archive's two images.
    await expect(picker.getByRole("option")).toHaveCount(4);
    await expect(p.getByTestId("storage-images")).toHaveText("4");
  }
});

test("a schema upgrade in a newer tab completes while an old tab is open, and the old tab asks to reload", async ({
  context,
}) => {
  const old = await openAppIn(context);
  const newer = await context.newPage();
  // A page of the same origin that does not open the store itself.
  await newer.goto("/favicon.svg");
  // What a newer LayerLab does on open: the next schema version (here from the test).
  const upgraded = await newer.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const probe = indexedDB.open("layerlab");
        probe.onsuccess = () => {
          const version = probe.result.version;
          probe.result.close();
          const req = indexedDB.open("layerlab", version + 1);
          req.onupgradeneeded = () => req.result.createObjectStore("from-a-newer-version");
          req.onblocked = () => resolve("blocked");
          req.onsuccess = () => {
            const names = [...req.result.objectStoreNames];
            req.result.close();
            resolve(names.includes("from-a-newer-version") ? "upgraded" : "not upgraded");
          };
          req.onerror = () => resolve(`error ${req.error?.name}`);
        };
      }),
  );
  expect(upgraded).toBe("upgraded");
  await expect(
    old.getByRole("alert").filter({ hasText: "opened in a newer version in another tab" }),
  ).toBeVisible();
  await expect(old.getByRole("button", { name: "Reload" })).toBeVisible();
  // Leave the browser's database as this version of LayerLab opens it.
  await newer.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const del = indexedDB.deleteDatabase("layerlab");
        del.onsuccess = () => resolve();
        del.onerror = () => resolve();
      }),
  );
});

async function openAppIn(context: import("@playwright/test").BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await openApp(page);
  return page;
}

/** Runs `fn` on LayerLab's database from the page, as the browser's eviction or a bad disk would. */
async function tamper(page: Page, what: "drop-layer" | "corrupt-chunk"): Promise<string> {
  return page.evaluate(async (kind) => {
    const db: IDBDatabase = await new Promise((resolve, reject) => {
      const req = indexedDB.open("layerlab");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const ask = <T>(r: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const tx = db.transaction(["images", "layers", "blobs", "chunks"], "readwrite");
    let done = "";
    if (kind === "drop-layer") {
      // The imported images' top layer loses its bytes (its blob as it came, and its tar).
      const images = (await ask(tx.objectStore("images").getAll())) as {
        source: string;
        layers: string[];
        names: string[];
      }[];
      const imported = images.find((i) => i.source === "import")!;
      const layer = (await ask(tx.objectStore("layers").get(imported.layers.at(-1)!))) as {
        id: string;
        blob: string;
      };
      await ask(tx.objectStore("blobs").delete(layer.blob));
      await ask(tx.objectStore("blobs").delete(layer.id));
      done = imported.names[0] ?? "";
    } else {
      // One stored chunk's first byte flips: its blob no longer hashes to its name.
      const rows = (await ask(tx.objectStore("blobs").getAll())) as {
        digest: string;
        upload: string;
        whole?: boolean;
        size: number;
      }[];
      const row = rows.find((r) => !r.whole && r.size > 0)!;
      const chunk = (await ask(tx.objectStore("chunks").get([row.upload, 0]))) as Uint8Array;
      const bad = chunk.slice();
      bad[0] = bad[0]! ^ 0xff;
      await ask(tx.objectStore("chunks").put(bad, [row.upload, 0]));
      done = row.digest;
    }
    await new Promise<void>((resolve) => {
      tx.oncomplete = () => resolve();
    });
    db.close();
    return done;
  }, what);
}

test("images whose bytes the browser removed are listed on load and never shown as if they were there", async ({
  page,
}) => {
  await openApp(page);
  await importFixture(page, SMALL);
  await expect(page.getByTestId("storage-images")).toHaveText("3");
  const name = await tamper(page, "drop-layer");
  await page.reload();
  const lost = page.getByRole("alert", { name: "Images lost" });
  await expect(lost).toContainText("The browser removed part of LayerLab's store");
  await expect(lost).toContainText(name);
  await expect(lost.getByRole("button", { name: "Rebuild example" })).toBeVisible();
  await expect(lost.getByLabel("Import an archive again")).toBeAttached();
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  // Only the example is left to choose: no image stands there without its bytes.
  await expect(page.getByRole("combobox", { name: "Image" }).getByRole("option")).toHaveCount(1);
});

test("Check store reads every blob back and names the one whose bytes changed", async ({ page }) => {
  await openApp(page);
  const digest = await tamper(page, "corrupt-chunk");
  await page.getByRole("button", { name: "Check store" }).click();
  const result = page.getByRole("status", { name: "Check result" });
  await expect(result).toContainText("1 of");
  await expect(result).toContainText(`${digest.slice(0, 19)}`);
  await expect(result).toContainText("its content hashes to sha256:");
  await page.screenshot({ path: "e2e/screenshots/storage-check.png" });
});
