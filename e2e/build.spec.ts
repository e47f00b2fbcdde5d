import { expect, test } from "@playwright/test";
import { openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test("build a Dockerfile from scratch: one layer per COPY, metadata as thin rows, CACHED on rebuild", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(page, "FROM scratch\nCOPY . /app\nENV GREETING=hello\nCOPY README /docs/\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const log = page.getByRole("tabpanel").filter({ has: page.locator(".build-log") });
  await expect(log.getByRole("status")).toContainText("Built");
  const stack = page.getByRole("list", { name: "Layer stack" });
  await expect(stack.getByRole("button", { name: /Layer 1: COPY/ })).toBeVisible();
  await expect(stack.getByRole("button", { name: /Layer 2: COPY/ })).toBeVisible();
  await expect(stack.getByText("ENV GREETING=hello")).toBeVisible();
  // One list item per layer (the container layer first); the ENV line rides with layer 1.
  await expect(stack.getByRole("listitem")).toHaveCount(3);
  await expect(stack.getByRole("listitem").nth(2)).toContainText("ENV GREETING=hello");
  await screenshot(page, "metadata-rows-1280");
  await page.getByRole("textbox", { name: "Dockerfile" }).click();
  await page.keyboard.press("ControlOrMeta+Enter");
  await expect(log.getByRole("status")).toContainText("3 of 4 steps from the cache");
  await expect(log.getByText("CACHED")).toHaveCount(3);
});

test("RUN in the browser: shell features, gzip through the zlib shim, a failing command fails the build at its line", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(
    page,
    [
      "FROM busybox",
      "RUN for i in 1 2 3; do echo line $i; done > /notes.txt && gzip -c /notes.txt > /notes.gz && gunzip -c /notes.gz | wc -l > /count",
      "RUN cat /count",
      "",
    ].join("\n"),
  );
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const log = page.locator(".build-log");
  await expect(log.getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await expect(log.locator("li").filter({ hasText: "RUN cat /count" })).toContainText("3");

  await setDockerfile(page, "FROM busybox\nRUN echo before\nRUN nosuchcommand --flag\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(log.getByRole("alert")).toContainText(/line 3/);
  await expect(log.getByRole("alert")).toContainText(/127|not found/);
  await expect(log.locator("li.failed")).toContainText("nosuchcommand");
});
