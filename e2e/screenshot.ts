import type { Page } from "@playwright/test";

/**
 * Saves a full-page screenshot under test-results/screenshots; with LAYERLAB_SCREENSHOTS=1 it
 * writes the committed ones in e2e/screenshots instead (then look at them before committing).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.LAYERLAB_SCREENSHOTS === "1" ? "e2e/screenshots" : "test-results/screenshots";
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
