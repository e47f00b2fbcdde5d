import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { generateArchive } from "../src/bench/import.ts";
import { openApp } from "./helpers.ts";

let dir: string;
let archive: string;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "layerlab-e2e-"));
  // Big enough that the import is still running when Cancel is pressed.
  ({ archive } = await generateArchive(dir, { layers: 6, files: 30_000, bytes: 120 << 20, seed: 3 }, "gzip"));
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("an import shows bytes and layers as it goes, and Cancel leaves the store as it was", async ({
  page,
}) => {
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  await page.getByLabel("Import image archive").setInputFiles(archive);
  const progress = page.getByRole("progressbar", { name: "Import progress" });
  await expect(progress).toBeVisible();
  await expect(page.getByRole("status").filter({ has: progress })).toContainText(/ of [\d.]+ MB/);
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("alert")).toContainText("Import of image.tar cancelled.");
  await expect(page.getByRole("alert")).toContainText("Nothing was stored.");
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
});
