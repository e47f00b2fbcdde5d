import { expect, test } from "@playwright/test";
import { screenshot } from "./screenshot.ts";

const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";

test("import a real docker-archive, browse its layers and files, open one", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Import image archive").setInputFiles(FIXTURE);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toBeVisible();
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("listitem").first()).toContainText("Container layer");
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toBeVisible();
  await expect(stack.getByRole("button", { name: /Layer 2/ })).toBeVisible();
  await stack.getByRole("button", { name: /Layer 1/ }).click();
  const tree = page.getByRole("tree", { name: "Files" });
  await expect(tree.getByRole("treeitem", { name: /etc/ })).toBeVisible();
  await tree.getByRole("treeitem", { name: /etc/ }).click();
  await tree.getByRole("treeitem", { name: /os-release/ }).dblclick();
  await expect(page.getByRole("region", { name: "File content" })).toContainText("base-os 1.0");
  await screenshot(page, "imported-archive-1280");
});
