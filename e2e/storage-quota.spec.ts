import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { generateArchive } from "../src/bench/import.ts";
import { openApp, setDockerfile } from "./helpers.ts";

/** The browser's own figure of what the origin stores (the quota manager's, which CDP overrides). */
async function usage(page: Page, origin: string): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  const r = await cdp.send("Storage.getUsageAndQuota", { origin });
  await cdp.detach();
  return r.usage;
}

/**
 * Sets the origin's quota, for as long as the DevTools session lasts (so it is not detached); the
 * browser applies it to a store opened after this, so: before the page loads.
 */
async function setQuota(page: Page, origin: string, bytes: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: bytes });
}

/** Types one line into the container's terminal and runs it. */
async function runInTerminal(page: Page, line: string): Promise<void> {
  const input = page.getByRole("textbox", { name: "Terminal input" });
  await input.pressSequentially(line);
  await input.press("Enter");
}

/**
 * A shell line writing `kb` kB to `path`, after `tag` (so each tag gives a blob of its own): 64 kB
 * at a time, the most the simulated shell's /dev/urandom gives in one read.
 *
 * How the browser meets the quota: Chromium refuses a transaction whose bytes (as written) are
 * more than the room left, while the room left counts what is stored as stored (compressed). The
 * simulated /dev/urandom repeats one deterministic 64 kB block, so these files compress well and
 * take little room once stored: what a test makes not fit is one write larger than the room.
 */
function shellFile(path: string, kb: number, tag = "0"): string {
  return `echo ${tag} > ${path} && for i in $(seq ${kb / 64}); do head -c 65536 /dev/urandom >> ${path}; done`;
}

test("a commit larger than the quota stops with a clear message; the store is as before; a smaller commit works", async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  // The example takes about 2 MB; the room left (4.5 MB) takes each 3 MB file the container's
  // shell writes, but not the committed layer's tar of both (6 MB, written in one transaction).
  await setQuota(page, origin, 6.5 * (1 << 20));
  await openApp(page);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByTestId("terminal")).toContainText("root@");
  const changes = page.getByRole("list", { name: "Container changes" });
  await runInTerminal(page, shellFile("/one.bin", 3072, "1"));
  await expect(changes.getByRole("listitem")).toHaveText(["A /one.bin"], { timeout: 30_000 });
  await runInTerminal(page, shellFile("/two.bin", 3072, "2"));
  await expect(changes.getByRole("listitem")).toHaveText(["A /one.bin", "A /two.bin"], { timeout: 30_000 });
  await expect(page.getByRole("alert", { name: "Storage full" })).toHaveCount(0);
  const images = await page.getByTestId("storage-images").textContent();
  const before = await usage(page, origin);

  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Container layer/ }).click();
  await page.getByRole("textbox", { name: "New image name" }).fill("demo:big");
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  const notice = page.getByRole("alert", { name: "Storage full" });
  await expect(notice).toContainText("What uses it: layerlab/example:latest");
  await expect(page.getByText(/Not enough storage: the commit of demo:big was refused/)).toBeVisible();
  await expect(page.getByText(/delete images you no longer need or clear the store/).first()).toBeVisible();
  // Nothing of the commit stays: no new image, the browser's count back where it was.
  await expect(page.getByTestId("storage-images")).toHaveText(images!);
  await expect(page.getByRole("combobox", { name: "Image" }).getByRole("option")).toHaveCount(1);
  await expect.poll(() => usage(page, origin)).toBeLessThan(before + (1 << 20));
  // The container layer keeps its changes, and the example still opens.
  await expect(changes.getByRole("listitem")).toHaveText(["A /one.bin", "A /two.bin"]);
  await stack.getByRole("button", { name: /Layer 3/ }).click();
  await expect(
    page.getByRole("tree", { name: "Files" }).getByRole("treeitem", { name: /^app,/ }),
  ).toBeVisible();

  // A smaller commit fits.
  await runInTerminal(page, "rm /two.bin");
  await expect(changes.getByRole("listitem")).toHaveText(["A /one.bin"]);
  await stack.getByRole("button", { name: /Container layer/ }).click();
  await page.getByRole("textbox", { name: "New image name" }).fill("demo:smaller");
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  await expect(page.getByRole("combobox", { name: "Image" })).toContainText("demo:smaller");
  await expect(page.getByTestId("storage-images")).toHaveText(String(Number(images) + 1));
});

test("a build that does not fit after one that did stops with a clear message; the earlier images stay; a smaller build works", async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  // Room left after the example: 4 MB. The first build writes 2 MB, the second 6 MB at once.
  await setQuota(page, origin, 6 << 20);
  await openApp(page);
  const picker = page.getByRole("combobox", { name: "Image" });
  await setDockerfile(page, `FROM busybox\nRUN ${shellFile("/fill.bin", 2048, "1")}\n`);
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(picker.getByRole("option")).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByTestId("storage-images")).toHaveText("2");
  const firstBuild = await picker.inputValue();
  const blobs = await page.getByTestId("storage-blobs").textContent();
  const before = await usage(page, origin);

  await setDockerfile(page, `FROM busybox\nRUN ${shellFile("/fill.bin", 6144, "2")}\n`);
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const notice = page.getByRole("alert", { name: "Storage full" });
  await expect(notice).toContainText("What uses it:", { timeout: 60_000 });
  await expect(
    page.getByText(/Not enough storage: the build of layerlab\/example:latest was refused/),
  ).toBeVisible();
  // The refused build left nothing; the example and the build before it stay and open.
  await expect(page.getByTestId("storage-images")).toHaveText("2");
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(picker.getByRole("option")).toHaveCount(2);
  await expect.poll(() => usage(page, origin)).toBeLessThan(before + (1 << 20));
  const stack = page.getByRole("list", { name: "Layer stack" });
  const files = page.getByRole("tree", { name: "Files" });
  await picker.selectOption(firstBuild);
  await stack.getByRole("button", { name: /Layer 2/ }).click();
  await expect(files.getByRole("treeitem", { name: /^fill\.bin,/ })).toBeVisible();
  await picker.selectOption({ index: 0 });
  await stack.getByRole("button", { name: /Layer 3/ }).click();
  await expect(files.getByRole("treeitem", { name: /^app,/ })).toBeVisible();

  // A smaller build still works.
  await setDockerfile(page, "FROM scratch\nCOPY . /app\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(picker).toContainText("(1 layers)");
  await expect(page.getByTestId("storage-images")).toHaveText("3");
});

test.describe("before a large import", () => {
  let dir: string;
  let archive: string;
  test.beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "layerlab-estimate-"));
    // About 45 MB: more than the 40 MB the browser is made to report below.
    ({ archive } = await generateArchive(dir, { layers: 4, files: 2000, bytes: 150 << 20, seed: 9 }, "gzip"));
  });
  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("an archive larger than the room the browser reports is refused up front, with the numbers and what to do", async ({
    page,
    baseURL,
  }) => {
    const origin = new URL(baseURL!).origin;
    const QUOTA = 40_000_000;
    // navigator.storage.estimate() ignores the DevTools protocol's quota override (it reports the
    // disk's), so the quota is made small where the check reads it: in LayerLab's worker. An init
    // script runs in pages only, so it wraps the page's Worker constructor: LayerLab's worker
    // starts from a module that first replaces estimate() (the real usage, a 40 MB quota) and then
    // imports the real worker script unchanged.
    await page.addInitScript((quota: number) => {
      const Native = window.Worker;
      window.Worker = class extends Native {
        constructor(url: string | URL, options?: WorkerOptions) {
          const real = new URL(String(url), location.href).href;
          if (!/\/worker-[^/]*\.js$/.test(real)) {
            super(url, options);
            return;
          }
          const patch = `const estimate = StorageManager.prototype.estimate;
Object.defineProperty(StorageManager.prototype, "estimate", {
  configurable: true,
  value: async function () { const r = await estimate.call(this); return { usage: r.usage, quota: ${quota} }; },
});`;
          const patchUrl = URL.createObjectURL(new Blob([patch], { type: "text/javascript" }));
          const entry = `import ${JSON.stringify(patchUrl)};\nimport ${JSON.stringify(real)};\n`;
          super(URL.createObjectURL(new Blob([entry], { type: "text/javascript" })), {
            ...options,
            type: "module",
          });
        }
      };
    }, QUOTA);
    await openApp(page);
    await expect(page.getByTestId("storage-quota")).toContainText("of 40.0 MB");
    const blobs = await page.getByTestId("storage-blobs").textContent();
    const before = await usage(page, origin);
    const size = statSync(archive).size;
    expect(size).toBeGreaterThan(QUOTA);

    await page.getByLabel("Import image archive").setInputFiles(archive);
    const failed = page.getByRole("alert").filter({ hasText: "Import of image.tar failed" });
    await expect(failed).toContainText(
      /Not enough storage: the import of image\.tar needs about 4\d\.\d MB, but the browser has only 3\d\.\d MB left for this site \(it allows 40\.0 MB, .* of it in use\), so it was not started\. Nothing was written\./,
    );
    await expect(failed).toContainText("To make room, delete images you no longer need or clear the store");
    await expect(failed).toContainText("let the browser keep LayerLab's data (persistent storage)");
    const notice = page.getByRole("alert", { name: "Storage full" });
    await expect(notice).toContainText("What uses it: layerlab/example:latest");
    await expect(notice.getByRole("button", { name: "Clear store" })).toBeVisible();
    // Nothing was written: the same blobs, the browser's count unchanged (within its own overhead).
    await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
    expect(await usage(page, origin)).toBeLessThan(before + (1 << 20));
    await page.screenshot({ path: "e2e/screenshots/storage-estimate.png" });
  });
});
