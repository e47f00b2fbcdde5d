import { expect, test } from "@playwright/test";

test("the store conformance suite passes on real IndexedDB in Chromium", async ({ page }) => {
  await page.goto("/e2e/harness/store-conformance.html");
  const handle = await page.waitForFunction(
    () => (window as unknown as { conformanceResults?: unknown }).conformanceResults,
    undefined,
    { timeout: 60_000 },
  );
  const results = (await handle.jsonValue()) as { name: string; ok: boolean; error?: string }[];
  expect(results.length).toBeGreaterThanOrEqual(10);
  for (const r of results) expect(r, r.error).toMatchObject({ ok: true });
  expect(results.map((r) => r.name)).toEqual(
    expect.arrayContaining([
      "writing the same content twice stores it once",
      "a digest mismatch on a streaming put is rejected and leaves nothing behind",
      "delete removes a blob and reports whether it was there",
      "list and stats show every blob with its size",
      "blobs and records persist across a reopen; clear removes everything",
    ]),
  );
});
