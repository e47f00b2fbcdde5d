import { expect, type Page } from "@playwright/test";

/** Opens the app and waits for the first visit's automatic build of the example to finish. */
export async function openApp(page: Page, path = "/"): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole("combobox", { name: "Image" })).toContainText("layerlab/example", {
    timeout: 60_000,
  });
  await expect(
    page.getByRole("list", { name: "Layer stack" }).getByRole("button", { name: /Layer 3/ }),
  ).toBeVisible();
}

/** Replaces the editor's text. */
export async function setDockerfile(page: Page, text: string): Promise<void> {
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await expect(editor).toContainText("FROM");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** Imports an archive through the file input and waits for it to be stored. */
export async function importFixture(page: Page, file: string): Promise<void> {
  await page.getByLabel("Import image archive").setInputFiles(file);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toBeVisible();
}

/** Opens a directory of the Files tree (small trees are shown open already: then it stays open). */
export async function expandDir(page: Page, name: string): Promise<void> {
  const tree = page.getByRole("tree", { name: "Files" });
  // A tree still loading is about to be replaced, and its rows to move under the pointer.
  await expect(tree).toHaveAttribute("aria-busy", "false");
  const item = tree.getByRole("treeitem", { name: new RegExp(`^${name},`) });
  await expect(item).toBeVisible();
  if ((await item.getAttribute("aria-expanded")) !== "true") await item.click();
  await expect(item).toHaveAttribute("aria-expanded", "true");
}
