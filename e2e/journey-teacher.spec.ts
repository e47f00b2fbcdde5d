import { expect, test } from "@playwright/test";
import { expandDir, openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test.setTimeout(180_000);

const EXAMPLE = "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n";

/** The teacher's first minutes (JOURNEYS.md, journey 1), step by step. */
test("teacher journey: example built, apt caches visible, cache and waste lessons, container edit and commit", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await openApp(page);
  const stack = page.getByRole("list", { name: "Layer stack" });
  const lessons = page.getByRole("region", { name: "Lessons" });
  await expect(stack.getByRole("button", { name: /Layer 1/ })).toContainText("stand-in");
  await expect(
    lessons.getByRole("listitem").filter({ hasText: "An image is a stack of layers" }),
  ).toContainText(/has 3 layers/);

  // 2. The RUN layer: python3 and the apt caches, sorted by size.
  await stack.getByRole("button", { name: /Layer 2: RUN/ }).click();
  await page.getByRole("combobox", { name: "Sort" }).selectOption("size");
  const tree = page.getByRole("tree", { name: "Files" });
  await expect(tree.getByRole("treeitem").first()).toHaveAccessibleName(/^(usr|var),/);
  await expandDir(page, "var");
  await expect(tree.getByRole("treeitem", { name: /^(cache|lib),/ }).first()).toBeVisible();
  await screenshot(page, "teacher-run-layer-1920");

  const log = page.locator(".build-log");
  const runSize = await stack
    .getByRole("button", { name: /Layer 2: RUN/ })
    .locator(".stack-size")
    .textContent();
  // 4. A later RUN rm: a new layer with whiteouts, the image does not shrink, efficiency names the waste.
  await setDockerfile(page, `${EXAMPLE}RUN rm -rf /var/lib/apt/lists\n`);
  await page.keyboard.press("ControlOrMeta+Enter");
  await expect(log.getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await expect(stack.getByRole("button", { name: /Layer 4: RUN/ })).toBeVisible();
  await stack.getByRole("button", { name: /Layer 4: RUN/ }).click();
  await expect(tree.getByRole("treeitem", { name: /^lists, removed/ })).toBeVisible();
  await page.getByRole("tab", { name: "Efficiency" }).click();
  await expect(page.getByTestId("efficiency-wasted")).not.toContainText(/^0 B/);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(
    lessons.getByRole("listitem").filter({ hasText: "Deleting in a later layer does not shrink the image" }),
  ).toContainText("still holds");
  await screenshot(page, "teacher-waste-1920");

  // 3. Instead, clean the lists in the same RUN in the same RUN: FROM and nothing else cached, the RUN layer shrinks.
  await setDockerfile(page, EXAMPLE.replace("python3\n", "python3 && rm -rf /var/lib/apt/lists/*\n"));
  await page.keyboard.press("ControlOrMeta+Enter");
  await expect(log.getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await expect(log.locator("li").filter({ hasText: "COPY . /app" })).toContainText("rebuilt");
  await expect(stack.getByRole("button", { name: /Layer 4/ })).toHaveCount(0);
  const newRun = await stack
    .getByRole("button", { name: /Layer 2: RUN/ })
    .locator(".stack-size")
    .textContent();
  expect(Number.parseFloat(newRun!)).toBeLessThan(Number.parseFloat(runSize!));
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(lessons.getByRole("listitem").filter({ hasText: "Clean up in the same RUN" })).toContainText(
    "The RUN layer shrank from",
  );
});
