import { expect, test } from "@playwright/test";
import { LESSONS } from "../src/core/lessons/lessons.ts";
import { openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test("the first screen shows the example Dockerfile, the layer stack, files, lessons and storage", async ({
  page,
}) => {
  await openApp(page);
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await expect(editor).toContainText("FROM ubuntu:20.04");
  await expect(editor).toContainText("RUN apt-get update && apt-get install -y python3");
  await expect(page.getByRole("button", { name: "Build" })).toBeVisible();
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("listitem").first()).toContainText("Container layer");
  await expect(page.getByRole("tree", { name: "Files" })).toBeAttached();
  const lessons = page.getByRole("region", { name: "Lessons" });
  await expect(lessons.getByRole("listitem")).toHaveCount(LESSONS.length);
  await expect(lessons.getByRole("listitem").first()).toContainText("(done)");
  await expect(lessons).toContainText(`1 of ${LESSONS.length} done`);
  await expect(page.getByTestId("storage-blobs")).toHaveText(/^\d+$/);
  await expect(page.getByTestId("storage-quota")).toContainText(" of ");
  await screenshot(page, "first-screen-1280");
});

test("the Dockerfile survives a reload", async ({ page }) => {
  await openApp(page);
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await expect(editor).toContainText("COPY . /app");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.type("ENV GREETING=hello\n");
  await expect(editor).toContainText("ENV GREETING=hello");
  await page.waitForTimeout(300);
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Dockerfile" })).toContainText("ENV GREETING=hello");
});

test("dark theme and projector size render the same regions", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await openApp(page);
  await page.getByRole("button", { name: "Use dark theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByRole("list", { name: "Layer stack" })).toBeVisible();
  await screenshot(page, "first-screen-1920-dark");
});

test("clearing the store empties it", async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId("storage-blobs")).toHaveText(/^\d+$/);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Clear store" }).click();
  await expect(page.getByTestId("storage-blobs")).toHaveText("0");
  await expect(page.getByTestId("storage-images")).toHaveText("0");
});
