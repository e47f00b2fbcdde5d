import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { expandDir, importFixture, openApp, setDockerfile } from "./helpers.ts";

const FIXTURE = "src/testdata/archives/skopeo-docker-archive.tar";
// A 1x1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

test("binary files show as hex, images as a preview; a folder becomes the build context", async ({
  page,
}) => {
  await openApp(page);
  const stack = page.getByRole("list", { name: "Layer stack" });
  const tree = page.getByRole("tree", { name: "Files" });
  await stack.getByRole("button", { name: /Layer 1: base/ }).click();
  await page.getByRole("searchbox", { name: "Filter files by path" }).fill("usr/bin/dash");
  await tree.getByRole("treeitem", { name: /^dash,/ }).dblclick();
  await expect(page.getByRole("region", { name: "File content (hex)" })).toContainText(
    /^00000000 {2}[0-9a-f]{4} /,
  );

  await page.getByRole("tab", { name: "Build context" }).click();
  const folder = mkdtempSync(join(tmpdir(), "layerlab-context-"));
  writeFileSync(join(folder, "logo.png"), PNG);
  writeFileSync(join(folder, "hello.txt"), "hello\n");
  await page.getByLabel("Choose a build context folder").setInputFiles(folder);
  const files = page.getByRole("list", { name: "Context files" });
  await expect(files).toContainText("logo.png");
  await expect(files).not.toContainText("app.py");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.locator(".build-log").getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await stack.getByRole("button", { name: /Layer 3: COPY/ }).click();
  await page.getByRole("searchbox", { name: "Filter files by path" }).fill("logo.png");
  await tree.getByRole("treeitem", { name: /^logo\.png,/ }).dblclick();
  await expect(page.getByRole("img", { name: "Preview of app/logo.png" })).toBeVisible();
});

test("rename and chmod in the container layer; delete an image from the library", async ({ page }) => {
  await openApp(page);
  await importFixture(page, FIXTURE);
  const stack = page.getByRole("list", { name: "Layer stack" });
  const tree = page.getByRole("tree", { name: "Files" });
  await stack.getByRole("button", { name: /Container layer/ }).click();
  await expandDir(page, "srv");
  await expandDir(page, "app");
  await tree.getByRole("treeitem", { name: /^main\.py,/ }).dblclick();
  await page.getByRole("textbox", { name: "Rename to" }).fill("/srv/app/server.py");
  await page.getByRole("button", { name: "Rename" }).click();
  await expect(tree.getByRole("treeitem", { name: /^server\.py, added/ })).toBeVisible();
  await expect(tree.getByRole("treeitem", { name: /^main\.py, removed/ })).toBeVisible();
  await page.getByRole("textbox", { name: "Mode (octal)" }).fill("0755");
  await page.getByRole("button", { name: "Chmod" }).click();
  await expect(page.getByRole("tabpanel", { name: "File" })).toContainText("-rwxr-xr-x (0755)");
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(page.getByRole("tabpanel", { name: "File" })).toContainText("-rw-r--r-- (0644)");

  await page.getByRole("button", { name: "Reset" }).click();
  await expect(page.getByTestId("container-summary")).toContainText("No changes yet");
  await page.getByRole("tab", { name: "Images" }).click();
  const blobs = Number(await page.getByTestId("storage-blobs").textContent());
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: /Delete image .*ll-fix-app/ }).click();
  await expect(page.getByTestId("library-summary")).toContainText("1 image ");
  await expect(page.getByTestId("storage-images")).toHaveText("1");
  expect(Number(await page.getByTestId("storage-blobs").textContent())).toBeLessThan(blobs);
});

test("dropping an archive on the page imports it", async ({ page }) => {
  await openApp(page);
  const bytes = readFileSync(FIXTURE).toString("base64");
  await page.evaluate((b64) => {
    const bin = atob(b64);
    const buf = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([buf], "dropped.tar", { type: "application/x-tar" }));
    for (const type of ["dragenter", "dragover", "drop"]) {
      window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, bytes);
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toContainText("ll-fix-app");
});

test("a diff of two very different versions says so instead of pairing lines; a file a layer lacks is named", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(
    page,
    "FROM busybox\nRUN seq 1 3000 > /numbers && echo one > /note\nRUN seq 5001 8000 > /numbers\nRUN echo two > /note\n",
  );
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.locator(".build-log").getByRole("status")).toContainText("Built", { timeout: 60_000 });
  const stack = page.getByRole("list", { name: "Layer stack" });
  const tree = page.getByRole("tree", { name: "Files" });
  await stack.getByRole("button", { name: /Layer 3: RUN/ }).click();
  await tree.getByRole("treeitem", { name: /^numbers,/ }).dblclick();
  const compare = page.getByRole("combobox", { name: "Compare with layer" });
  await compare.selectOption("1");
  // 3,000 lines out and 3,000 in: past the 2,000 edits the diff searches for.
  await expect(page.locator(".file-diff")).toContainText(
    "Too different to diff line by line: more than 2000 lines differ (3000 lines of layer 2 against 3000 of layer 3",
  );
  await expect(page.getByRole("region", { name: "Differences" })).toHaveCount(0);
  await compare.selectOption("0");
  await expect(page.locator(".file-diff")).toContainText("/numbers does not exist in layer 1.");

  await stack.getByRole("button", { name: /Layer 4: RUN/ }).click();
  await tree.getByRole("treeitem", { name: /^note,/ }).dblclick();
  await page.getByRole("combobox", { name: "Compare with layer" }).selectOption("1");
  const diff = page.getByRole("region", { name: "Differences" });
  await expect(diff).toContainText("- one");
  await expect(diff).toContainText("+ two");
});
