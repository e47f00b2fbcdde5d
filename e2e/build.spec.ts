import { expect, test } from "@playwright/test";
import { openApp, setDockerfile } from "./helpers.ts";

test("build a Dockerfile from scratch: one layer per COPY, metadata as thin rows, CACHED on rebuild", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(page, "FROM scratch\nCOPY . /app\nENV GREETING=hello\nCOPY README /docs/\n");
  await page.getByRole("button", { name: "Build" }).click();
  const log = page.getByRole("tabpanel").filter({ has: page.locator(".build-log") });
  await expect(log.getByRole("status")).toContainText("Built");
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("button", { name: /Layer 1: COPY/ })).toBeVisible();
  await expect(stack.getByRole("button", { name: /Layer 2: COPY/ })).toBeVisible();
  await expect(stack.getByText("ENV GREETING=hello")).toBeVisible();
  await page.getByRole("textbox", { name: "Dockerfile" }).click();
  await page.keyboard.press("ControlOrMeta+Enter");
  await expect(log.getByRole("status")).toContainText("3 of 4 steps from the cache");
  await expect(log.getByText("CACHED")).toHaveCount(3);
});
