import { expect, test } from "@playwright/test";
import { hostileCases } from "../src/testdata/archives/hostile.ts";
import { importFixture, openApp } from "./helpers.ts";

const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";

test("a hostile archive gets one clear sentence naming the bad entry, and nothing stored changes", async ({
  page,
}) => {
  const cases = await hostileCases();
  await openApp(page);
  await importFixture(page, FIXTURE);
  await expect(page.getByTestId("storage-images")).toHaveText("2");
  const blobs = await page.getByTestId("storage-blobs").textContent();
  expect(Number(blobs)).toBeGreaterThan(0);
  for (const name of ["dotdot-path", "symlink-escape-write", "blob-digest-mismatch", "not-tar"]) {
    const c = cases.find((x) => x.name === name)!;
    await page.getByLabel("Import image archive").setInputFiles({
      name: `${name}.tar`,
      mimeType: "application/x-tar",
      buffer: Buffer.from(c.bytes),
    });
    const alert = page.getByRole("alert").filter({ hasText: `${name}.tar` });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText(c.message);
    await expect(alert).toContainText("Nothing was stored.");
  }
  await expect(page.getByTestId("storage-blobs")).toHaveText(blobs!);
  await expect(page.getByTestId("storage-images")).toHaveText("2");
});
