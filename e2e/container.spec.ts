import { expect, test } from "@playwright/test";
import { expandDir, importFixture, openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";

test("edit, delete and commit in the container layer; the stack and library change; it survives reload", async ({
  page,
}) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Container layer/ }).click();
  await expect(page.getByTestId("container-summary")).toContainText("No changes yet");

  const tree = page.getByRole("tree", { name: "Files" });
  await expandDir(page, "etc");
  await tree.getByRole("treeitem", { name: /os-release/ }).dblclick();
  await expect(page.getByTestId("file-from")).toHaveText("layer 2");
  const editor = page.getByRole("textbox", { name: "Edit /etc/os-release" });
  await editor.fill("edited in the container\n");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("file-from")).toHaveText("the container layer (copied up from layer 2)");
  await expect(tree.getByRole("treeitem", { name: /os-release, modified/ })).toBeVisible();

  await expandDir(page, "opt");
  await tree.getByRole("treeitem", { name: /keep/ }).dblclick();
  await page.getByRole("button", { name: "Delete /opt/keep" }).click();
  await expect(tree.getByRole("treeitem", { name: /keep, removed/ })).toBeVisible();
  await expect(
    page.getByRole("status").filter({ hasText: "a whiteout in the container layer now hides it" }),
  ).toBeVisible();
  await expect(page.getByTestId("container-summary")).toContainText("1 copied up, 1 whiteout");
  await screenshot(page, "container-layer-1280");

  await page.reload();
  await stack.getByRole("button", { name: /Container layer/ }).click();
  await expect(page.getByTestId("container-summary")).toContainText("1 copied up, 1 whiteout");

  await page.getByRole("textbox", { name: "New image name" }).fill("demo:edited");
  await page.getByRole("button", { name: "Commit" }).click();
  await expect(page.getByRole("combobox", { name: "Image" })).toHaveValue(/sha256:/);
  await expect(stack.getByRole("button", { name: /Layer 3/ })).toBeVisible();
  await expect(stack.getByRole("listitem")).toHaveCount(4);
  await page.getByRole("tab", { name: "Images" }).click();
  await expect(page.getByTestId("library-summary")).toContainText("3 images");
  await expect(page.getByTestId("library-summary")).toContainText("saved by sharing");
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toContainText("shared with 1 image");
  const compare = page.getByRole("region", { name: "Compare images" });
  await compare
    .getByRole("combobox", { name: "Second image" })
    .selectOption({ label: "docker.io/library/ll-fix-app:latest" });
  await expect(page.getByTestId("compare-summary")).toContainText("transfers 0 B");
  await expect(compare.getByRole("row").filter({ hasText: "shared" })).toHaveCount(2);
});
