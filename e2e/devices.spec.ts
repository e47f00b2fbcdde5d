import { expect, type Page, test } from "@playwright/test";
import { openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

async function noSideScroll(page: Page): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll).toBeLessThanOrEqual(client);
}

/** Shows a pane: on a phone through the tab bar, on wider screens it is always there. */
async function show(page: Page, phone: boolean, name: string): Promise<void> {
  if (phone)
    await page.getByRole("navigation", { name: "Panes" }).getByRole("button", { name, exact: true }).click();
}

/** Opens the app; a phone shows only the editor, so the first build is awaited in the Layers pane. */
async function openAt(page: Page, phone: boolean): Promise<void> {
  if (!phone) return openApp(page);
  await page.goto("/");
  await expect(page.getByRole("combobox", { name: "Image" })).toContainText("layerlab/example", {
    timeout: 60_000,
  });
  await show(page, true, "Layers");
  await expect(
    page.getByRole("list", { name: "Layer stack" }).getByRole("button", { name: /Layer 3/ }),
  ).toBeVisible();
}

for (const [width, height] of [
  [390, 844],
  [768, 1024],
  [1280, 720],
] as const) {
  test(`at ${width}×${height}: no page scroll across; build, select a layer and open a file`, async ({
    page,
  }) => {
    const phone = width < 640;
    await page.setViewportSize({ width, height });
    await openAt(page, phone);
    await noSideScroll(page);
    await expect(page.getByRole("navigation", { name: "Panes" })).toBeVisible({ visible: phone });
    await show(page, phone, "Dockerfile");
    await page.getByRole("button", { name: "Build", exact: true }).click();
    await show(page, phone, "Lessons");
    await page.getByRole("tab", { name: "Build log" }).click();
    await expect(page.locator(".build-log").getByRole("status")).toContainText("Built");
    await show(page, phone, "Layers");
    await page
      .getByRole("list", { name: "Layer stack" })
      .getByRole("button", { name: /Layer 3: COPY/ })
      .click();
    await show(page, phone, "Files");
    const tree = page.getByRole("tree", { name: "Files" });
    await tree.getByRole("treeitem", { name: /^app\.py, / }).dblclick();
    await show(page, phone, "Details");
    await expect(page.getByRole("region", { name: "File content" })).toContainText(
      "Hello from a LayerLab image",
    );
    await noSideScroll(page);
    // Touch targets on touch-sized screens.
    if (width < 1100) {
      const small = await page.getByRole("button").evaluateAll((els) =>
        els
          // A visually hidden file input is reached through its label, which is measured instead.
          .filter((e) => (e as HTMLElement).offsetParent !== null && !e.classList.contains("visually-hidden"))
          .concat(
            [...document.querySelectorAll("label")].filter(
              (l) => l.querySelector("input[type=file]") && (l as HTMLElement).offsetParent !== null,
            ),
          )
          .filter((e) => e.getBoundingClientRect().height < 40)
          .map((e) => e.getAttribute("aria-label") ?? e.textContent),
      );
      expect(small).toEqual([]);
    }
    await screenshot(page, `devices-${width}x${height}`);
  });
}

test("no page scroll across at 360 px, whichever pane a phone shows", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await openAt(page, true);
  for (const name of ["Dockerfile", "Layers", "Files", "Details", "Lessons"]) {
    await show(page, true, name);
    await noSideScroll(page);
  }
});
