import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import { generateArchive } from "../src/bench/import.ts";
import { expandDir, importFixture, openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

// The real docker-archive the other import specs use, gzipped here as `docker save | gzip` would.
const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";
const GZ = gzipSync(readFileSync(FIXTURE));

test("a gzip-compressed docker save imports through the file input: its layers, its files, the plain tar's image", async ({
  page,
}) => {
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await page.getByLabel("Import image archive").setInputFiles({
    name: "skopeo-docker-archive.tar.gz",
    mimeType: "application/gzip",
    buffer: GZ,
  });
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toBeVisible();
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toBeVisible();
  await expect(stack.getByRole("button", { name: /Layer 2/ })).toBeVisible();
  await stack.getByRole("button", { name: /Layer 1/ }).click();
  await expandDir(page, "etc");
  await page
    .getByRole("tree", { name: "Files" })
    .getByRole("treeitem", { name: /os-release/ })
    .dblclick();
  await expect(page.getByRole("region", { name: "File content" })).toContainText("base-os 1.0");
  await screenshot(page, "imported-gzip-archive-1280");
  // The plain tar is the same image: importing it stores nothing new and adds no image.
  await expect(page.getByTestId("storage-images")).toHaveText("2");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  await importFixture(page, FIXTURE);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toContainText("0 B stored");
  await expect(page.getByTestId("storage-images")).toHaveText("2");
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
});

test("a truncated .tar.gz gets one clear sentence naming the file and what failed, and nothing is stored", async ({
  page,
}) => {
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  await page.getByLabel("Import image archive").setInputFiles({
    name: "cut.tar.gz",
    mimeType: "application/gzip",
    buffer: GZ.subarray(0, Math.floor(GZ.length / 2)),
  });
  const alert = page.getByRole("alert").filter({ hasText: "cut.tar.gz" });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText(
    /Import of cut\.tar\.gz failed: cut\.tar\.gz: (truncated or )?corrupt gzip data/,
  );
  await expect(alert).toContainText("Nothing was stored.");
  await screenshot(page, "import-truncated-gzip-1280");
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
});

test("a compressed import shows how much of the file is read as it goes, and Cancel leaves the store as it was", async ({
  page,
}) => {
  // import-cancel.spec.ts's generated archive, big enough to be still running when Cancel is
  // pressed, gzipped whole.
  const dir = mkdtempSync(join(tmpdir(), "layerlab-e2e-"));
  let gz: Buffer;
  try {
    const { archive } = await generateArchive(
      dir,
      { layers: 6, files: 30_000, bytes: 120 << 20, seed: 3 },
      "gzip",
    );
    gz = gzipSync(readFileSync(archive), { level: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  await page.getByLabel("Import image archive").setInputFiles({
    name: "big.tar.gz",
    mimeType: "application/gzip",
    buffer: gz,
  });
  const progress = page.getByRole("progressbar", { name: "Import progress" });
  const status = page.getByRole("status").filter({ has: progress });
  // Bytes of the compressed file read, of its size; what they unpacked to is told beside.
  await expect(status).toContainText(
    / of [\d.]+ MB · big\.tar\.gz \(gzip-compressed, [\d.]+ [kM]B unpacked\)/,
  );
  await screenshot(page, "import-gzip-progress-1280");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("alert")).toContainText("Import of big.tar.gz cancelled.");
  await expect(page.getByRole("alert")).toContainText("Nothing was stored.");
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
});
