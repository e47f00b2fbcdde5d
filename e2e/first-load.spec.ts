import { expect, test } from "@playwright/test";
import { screenshot } from "./screenshot.ts";

test("first load: the example is already built, three read-only layers under the container layer", async ({
  page,
}) => {
  await page.goto("/");
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("button", { name: /Layer 3: COPY/ })).toBeVisible({ timeout: 30_000 });
  await expect(stack.getByRole("listitem").first()).toContainText("Container layer");
  await expect(stack.getByRole("button", { name: /Layer 2: RUN/ })).toContainText(
    "apt-get install -y python3",
  );
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toContainText("stand-in");
  await screenshot(page, "first-load-1280");
});
