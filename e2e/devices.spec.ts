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

/**
 * Every visible interactive element under 40 px tall (and, for a button that is only a symbol or
 * an icon, under 40 px wide): buttons, links, tabs, tree items, inputs, selects, text areas,
 * disclosure summaries. A check box, radio or file input drawn by its label is measured by that
 * label. A digest linked inside the Raw view's JSON text is an inline target (it keeps the line
 * height of the text around it) and is left out, as WCAG 2.5.8 leaves inline targets out.
 */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const sel =
      'button, a[href], input, select, textarea, summary, [role="tab"], [role="treeitem"], [role="button"], [role="link"]';
    const out: string[] = [];
    const seen = new Set<Element>();
    for (const el of document.querySelectorAll<HTMLElement>(sel)) {
      let target: HTMLElement = el;
      if (el.classList.contains("raw-digest") || el.classList.contains("xterm-helper-textarea")) continue;
      if (el instanceof HTMLInputElement) {
        const drawnByLabel =
          ["checkbox", "radio", "file"].includes(el.type) || el.classList.contains("visually-hidden");
        if (drawnByLabel) {
          const label = el.closest("label");
          if (!label) continue;
          target = label;
        }
      }
      if (seen.has(target)) continue;
      seen.add(target);
      const box = target.getBoundingClientRect();
      // Not rendered: hidden, in a pane the tab bar hides, or inside a closed disclosure.
      if (box.width === 0 || box.height === 0 || target.getClientRects().length === 0) continue;
      const text = (target.textContent ?? "").trim();
      const iconOnly = target.tagName === "BUTTON" && [...text].length <= 2;
      const name = `${target.tagName.toLowerCase()} "${target.getAttribute("aria-label") ?? text.slice(0, 40)}" ${Math.round(box.width)}x${Math.round(box.height)}`;
      if (box.height < 39.5 || (iconOnly && box.width < 39.5)) out.push(name);
    }
    return out;
  });
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
    if (width < 1100) expect(await smallTargets(page)).toEqual([]);
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

test("a phone's top bar is one line: Menu unfolds the tools, Escape folds them again", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openAt(page, true);
  const bar = page.locator("header.topbar");
  const menu = bar.getByRole("button", { name: "Menu" });
  const importButton = bar.getByText("Import image…");
  // One line: the title, the image picker and Menu, leaving the screen to the panes.
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(importButton).toBeHidden();
  const folded = (await bar.boundingBox())?.height ?? 0;
  expect(folded).toBeLessThan(70);
  await expect(bar.getByRole("combobox", { name: "Image" })).toBeVisible();
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  for (const name of ["Pull", "Export image", "Clear store", "Check store"])
    await expect(bar.getByRole("button", { name, exact: true })).toBeVisible();
  await expect(importButton).toBeVisible();
  await noSideScroll(page);
  expect(await smallTargets(page)).toEqual([]);
  // Whether the browser may evict the store is explained on a tap, not only on hover.
  await bar
    .getByTestId("storage-persisted")
    .getByText(/^(evictable|persistent)$/)
    .click();
  await expect(bar.getByTestId("storage-persisted")).toContainText(/may evict|keeps LayerLab's store/);
  await noSideScroll(page);
  await screenshot(page, "devices-phone-menu");
  await bar.getByRole("button", { name: "Check store" }).focus();
  await page.keyboard.press("Escape");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(menu).toBeFocused();
  await expect(importButton).toBeHidden();
});

test("on a phone, Run turns to the terminal; Layers and back keep it", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openAt(page, true);
  await show(page, true, "Layers");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const input = page.getByRole("textbox", { name: "Terminal input" });
  await expect(page.getByTestId("terminal")).toBeVisible();
  await expect(page.getByTestId("terminal")).toContainText("root@");
  await input.pressSequentially("echo hi > /app/x.txt");
  await input.press("Enter");
  await expect(page.getByRole("list", { name: "Container changes" })).toContainText("A /app/x.txt");
  await expect(page.getByRole("list", { name: "Containers" })).toContainText(/Up · 1 change · 3 B/);
  await noSideScroll(page);
  await screenshot(page, "devices-phone-run");
  await show(page, true, "Layers");
  await expect(page.getByTestId("terminal")).toBeHidden();
  await expect(page.getByText("1 added, 0 copied up")).toBeVisible();
  // The fifth pane is the terminal's now: back to it, the session as it was.
  await show(page, true, "Terminal");
  await expect(page.getByTestId("terminal")).toContainText("echo hi > /app/x.txt");
  await expect(page.getByTestId("terminal")).toBeVisible();
});

/** The two touch devices of a classroom: a phone and a tablet, with touch and a mobile viewport. */
for (const [width, height] of [
  [390, 844],
  [768, 1024],
] as const) {
  test.describe(`a ${width}×${height} touch screen`, () => {
    test.use({ viewport: { width, height }, hasTouch: true, isMobile: true });

    test("every interactive element of every pane is a 40 px target; nothing scrolls across; tree rows are 40 px and the tree scrolls to its last row", async ({
      page,
    }) => {
      const phone = width < 640;
      await openAt(page, phone);
      expect(await page.evaluate(() => matchMedia("(pointer: coarse)").matches)).toBe(true);
      for (const name of ["Dockerfile", "Layers", "Files", "Details", "Lessons"]) {
        await show(page, phone, name);
        await noSideScroll(page);
        expect(await smallTargets(page), `small targets with ${name} shown`).toEqual([]);
      }
      // The base layer's merged tree, every entry shown by a filter that matches them all.
      await show(page, phone, "Layers");
      await page
        .getByRole("list", { name: "Layer stack" })
        .getByRole("button", { name: /Layer 2: RUN/ })
        .click();
      await show(page, phone, "Files");
      const merged = page.getByRole("radio", { name: "Merged up to this layer" });
      await page.locator("label", { has: merged }).click();
      await page.getByRole("searchbox", { name: "Filter files by path" }).fill("**");
      const matches = Number(
        ((await page.getByTestId("tree-matches").textContent()) ?? "").replace(/\D/g, ""),
      );
      expect(matches).toBeGreaterThan(1000);
      const tree = page.getByRole("tree", { name: "Files" });
      const rows = tree.getByRole("treeitem");
      await expect(rows.first()).toBeVisible();
      // The rows the list places are the rows the CSS draws: 40 px apart, 40 px tall.
      const tops = await rows.evaluateAll((els) =>
        els
          .slice(0, 6)
          .map((e) => ({ top: e.getBoundingClientRect().top, height: e.getBoundingClientRect().height })),
      );
      expect(tops.length).toBeGreaterThan(3);
      tops.forEach((r, i) => {
        expect(r.height).toBe(40);
        if (i > 0) expect(r.top - tops[i - 1]!.top).toBe(40);
      });
      expect(await tree.locator(".tree-canvas").evaluate((e) => e.getBoundingClientRect().height)).toBe(
        matches * 40,
      );
      // The last of thousands of rows: selected by End, drawn inside the tree's box.
      await rows.first().click();
      await page.keyboard.press("End");
      const last = tree.getByRole("treeitem", { selected: true });
      await expect(last).toBeVisible();
      const [treeBox, lastBox] = await Promise.all([tree.boundingBox(), last.boundingBox()]);
      expect(lastBox!.y).toBeGreaterThanOrEqual(treeBox!.y);
      expect(lastBox!.y + lastBox!.height).toBeLessThanOrEqual(treeBox!.y + treeBox!.height + 0.5);
      await noSideScroll(page);
      await screenshot(page, `touch-files-${width}x${height}`);
      await show(page, phone, "Layers");
      await screenshot(page, `touch-layers-${width}x${height}`);
    });
  });
}
