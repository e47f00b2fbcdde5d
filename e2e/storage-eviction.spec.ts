import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { importFixture, openApp } from "./helpers.ts";

const SMALL = "src/testdata/archives/oci.tar";
const MARKER = "layerlab-store";

/** The note of what the store held, as the browser keeps it (undefined when there is none). */
async function marker(context: BrowserContext): Promise<{ images: number; names: string[] } | undefined> {
  const c = (await context.cookies()).find((k) => k.name === MARKER);
  return c ? JSON.parse(decodeURIComponent(c.value)) : undefined;
}

/** Leaves LayerLab (its worker and database connection end with the page) for a page of the same origin. */
async function leave(page: Page): Promise<void> {
  await page.goto("/favicon.svg");
}

/**
 * What the browser's eviction does to the origin: its storage bucket (IndexedDB among it) is
 * deleted; cookies are not part of the bucket and stay. `Storage.clearDataForOrigin` with
 * "indexeddb" does exactly that part; with "all" it is "Clear site data", cookies included.
 */
async function clearOrigin(page: Page, origin: string, storageTypes: "indexeddb" | "all"): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Storage.clearDataForOrigin", { origin, storageTypes });
  await cdp.detach();
}

/** The names of the images the picker lists. */
async function imageNames(page: Page): Promise<string[]> {
  return page
    .getByRole("combobox", { name: "Image" })
    .getByRole("option")
    .evaluateAll((os) => os.map((o) => o.textContent ?? ""));
}

test("a store the browser evicted is told apart from a first visit: the lost images are named, rebuild and re-import offered", async ({
  page,
  context,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  await openApp(page);
  await importFixture(page, SMALL);
  await expect(page.getByTestId("storage-images")).toHaveText("3");
  await expect.poll(async () => (await marker(context))?.images).toBe(3);
  const names = (await marker(context))!.names;
  expect(names).toContain("layerlab/example:latest");
  expect((await imageNames(page)).join(" ")).toContain(names.at(-1)!);

  await leave(page);
  await clearOrigin(page, origin, "indexeddb");
  // The database is gone, the note is not.
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).not.toContain(
    "layerlab",
  );
  expect((await marker(context))?.images).toBe(3);

  await openApp(page);
  const notice = page.getByRole("alert", { name: "Store evicted" });
  await expect(notice).toContainText("The browser removed LayerLab's stored images (3 images:");
  for (const n of names) await expect(notice).toContainText(n);
  await expect(notice).toContainText("when the disk runs low or the site has not been used for a while");
  await expect(notice.getByRole("button", { name: "Rebuild example" })).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/storage-evicted.png" });
  // The example was built again on its own; the archive comes back from the notice.
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await notice.getByLabel("Import an archive again").setInputFiles(SMALL);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toBeVisible();
  await expect(page.getByTestId("storage-images")).toHaveText("3");
  await expect.poll(async () => (await marker(context))?.images).toBe(3);
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await expect(notice).toHaveCount(0);

  // Told once: the next load is an ordinary one.
  await page.reload();
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("3");
  await expect(page.getByRole("alert", { name: "Store evicted" })).toHaveCount(0);
});

test("a first visit, and a visit after the person cleared the site's data, show no eviction notice", async ({
  page,
  context,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  expect(await marker(context)).toBeUndefined();
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await expect.poll(async () => (await marker(context))?.images).toBe(1);
  await expect(page.getByRole("alert", { name: "Store evicted" })).toHaveCount(0);

  // "Clear site data" takes the note with the database: the next load is a first visit again.
  await leave(page);
  await clearOrigin(page, origin, "all");
  expect(await marker(context)).toBeUndefined();
  await openApp(page);
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  await expect(page.getByRole("alert", { name: "Store evicted" })).toHaveCount(0);
});
