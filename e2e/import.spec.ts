import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { expandDir, importFixture, openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";

test("import a real docker-archive, browse its layers and files, open one", async ({ page }) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("listitem").first()).toContainText("Container layer");
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toBeVisible();
  await expect(stack.getByRole("button", { name: /Layer 2/ })).toBeVisible();
  await stack.getByRole("button", { name: /Layer 1/ }).click();
  const tree = page.getByRole("tree", { name: "Files" });
  await expect(tree.getByRole("treeitem", { name: /etc/ })).toBeVisible();
  await expandDir(page, "etc");
  await tree.getByRole("treeitem", { name: /os-release/ }).dblclick();
  await expect(page.getByRole("region", { name: "File content" })).toContainText("base-os 1.0");
  await screenshot(page, "imported-archive-1280");
});

test("the URL holds the selection: reload and Back restore it, and the import survives reload", async ({
  page,
}) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Layer 2/ }).click();
  await expect(page).toHaveURL(/layer=2/);
  await stack.getByRole("button", { name: /Layer 1/ }).click();
  await expect(page).toHaveURL(/layer=1/);
  const tree = page.getByRole("tree", { name: "Files" });
  await expandDir(page, "etc");
  await tree.getByRole("treeitem", { name: /passwd/ }).dblclick();
  await expect(page).toHaveURL(/path=etc%2Fpasswd/);
  await page.reload();
  await expect(page.getByRole("region", { name: "File content" })).toContainText("root:x:0:0");
  await expect(stack.locator("li[aria-current=true]")).toContainText("Layer 1");
  await page.goBack();
  await expect(page).toHaveURL(/layer=2/);
  await expect(stack.locator("li[aria-current=true]")).toContainText("Layer 2");
});

test("a shared link opens with its Dockerfile", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openApp(page);
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("FROM scratch\nCOPY shared.txt /\n");
  await page.getByRole("button", { name: "Share" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Link copied" })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/#df=/);
  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByRole("textbox", { name: "Dockerfile" })).toContainText("COPY shared.txt /");
  await expect(other).not.toHaveURL(/#df=/);
});

test("export an image as docker-archive and OCI archive; skopeo reads both", async ({ page }) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const dir = mkdtempSync(join(tmpdir(), "layerlab-export-"));
  for (const [label, transport] of [
    [/docker-archive/, "docker-archive"],
    [/OCI image layout/, "oci-archive"],
  ] as const) {
    await page.getByRole("button", { name: "Export image" }).click();
    const download = page.waitForEvent("download");
    await page.getByRole("menuitem", { name: label }).click();
    const file = join(dir, (await download).suggestedFilename());
    await (await download).saveAs(file);
    const out = execFileSync("skopeo", ["inspect", "--raw", `${transport}:${file}`], { encoding: "utf8" });
    expect(JSON.parse(out).layers).toHaveLength(2);
    const cfg = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `${transport}:${file}`], { encoding: "utf8" }),
    );
    expect(cfg.config.WorkingDir).toBe("/srv/app");
  }
});

test("diff a file between two layers; efficiency names the wasted bytes and jumps to the layer", async ({
  page,
}) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Layer 2/ }).click();
  const tree = page.getByRole("tree", { name: "Files" });
  await expandDir(page, "etc");
  await tree.getByRole("treeitem", { name: /os-release/ }).dblclick();
  await page.getByRole("combobox", { name: "Compare with layer" }).selectOption("0");
  const diff = page.getByRole("region", { name: "Differences" });
  await expect(diff).toContainText("- base-os 1.0");
  await expect(diff).toContainText("+ base-os 2.0");
  await page.getByRole("tab", { name: "Efficiency" }).click();
  await expect(page.getByTestId("efficiency-wasted")).toContainText("12 B");
  await page.getByRole("button", { name: "+1" }).click();
  await expect(stack.locator("li[aria-current=true]")).toContainText("Layer 1");
  // Another image: its own efficiency, never the imported one's, and back again.
  const images = page.getByRole("combobox", { name: "Image" });
  const imported = await images.inputValue();
  await images.selectOption({ label: "layerlab/example:latest (3 layers)" });
  await page.getByRole("tab", { name: "Efficiency" }).click();
  await expect(page.getByTestId("efficiency-wasted")).toBeVisible();
  await expect(page.getByTestId("efficiency-wasted")).not.toContainText(/^12 B of/);
  await images.selectOption(imported);
  await page.getByRole("tab", { name: "Efficiency" }).click();
  await expect(page.getByTestId("efficiency-wasted")).toContainText(/^12 B of/);
});

test("a multi-platform archive imports the platform the person picks", async ({ page }) => {
  await openApp(page);
  await page.getByRole("combobox", { name: "Platform to import" }).selectOption("linux/arm64");
  await importFixture(page, "src/testdata/archives/multi-platform.tar");
  await page.getByRole("tab", { name: "Config" }).click();
  await expect(page.getByRole("tabpanel", { name: "Config" })).toContainText("linux/arm64");
  await page.getByRole("combobox", { name: "Platform to import" }).selectOption("");
  await importFixture(page, "src/testdata/archives/multi-platform.tar");
  await page.getByRole("tab", { name: "Config" }).click();
  await expect(page.getByRole("tabpanel", { name: "Config" })).toContainText("linux/amd64");
});
