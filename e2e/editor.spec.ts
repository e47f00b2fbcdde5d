import { expect, test } from "@playwright/test";
import { openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test("a Dockerfile error is underlined at its line with its message", async ({ page }) => {
  await openApp(page);
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await expect(editor).toContainText("COPY . /app");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.type("COPPY app.py /app/\nCMD python3 /app/app.py\n");
  const error = page.locator(".cm-lintRange-error");
  await expect(error).toHaveCount(1);
  await expect(error).toHaveText("COPPY");
  await expect(page.locator(".cm-lintRange-warning")).toHaveCount(1);
  await error.hover();
  await expect(page.locator(".cm-tooltip-lint")).toContainText(
    /unknown instruction: COPPY.*did you mean COPY\?/i,
  );
  await screenshot(page, "editor-error-1280");
});
