import { expect, type Page, test } from "@playwright/test";
import { openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

/** The built-in course's list item of a lesson, by its title. */
function lesson(page: Page, title: string) {
  return page.getByRole("region", { name: "Lessons" }).getByRole("listitem").filter({ hasText: title });
}

async function build(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.locator(".build-log").getByRole("status")).toContainText("Built", { timeout: 90_000 });
}

async function editContextFile(page: Page, name: string, append: string): Promise<void> {
  await page.getByRole("tab", { name: "Build context" }).click();
  const context = page.getByRole("region", { name: "Build context" });
  await context
    .getByRole("list", { name: "Context files" })
    .getByRole("button", { name, exact: true })
    .click();
  const box = context.getByRole("textbox", { name: `Content of ${name}` });
  await box.fill((await box.inputValue()) + append);
}

test("Order for the cache, as a learner: npm ci re-runs after a source edit until the manifest is copied first", async ({
  page,
}) => {
  await openApp(page);
  const item = lesson(page, "Order for the cache");
  await item.getByRole("button", { name: /^Start over: lesson/ }).click();
  await expect(page.getByRole("textbox", { name: "Dockerfile" })).toContainText("RUN npm ci");
  await build(page);
  await editContextFile(page, "index.js", "// edited\n");
  await build(page);
  const log = page.locator(".build-log");
  await expect(log.locator("li").filter({ hasText: "RUN npm ci" })).toContainText("rebuilt");
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).not.toContainText("(done)");

  await setDockerfile(
    page,
    'FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD ["node", "index.js"]\n',
  );
  await build(page);
  await editContextFile(page, "index.js", "// edited again\n");
  await build(page);
  await expect(log.locator("li").filter({ hasText: "RUN npm ci" })).toContainText("CACHED");
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).toContainText("(done)");
  await expect(item).toContainText(/"RUN npm ci" came from the cache, so its [\d.]+ MB were not made again/);
  await item.scrollIntoViewIfNeeded();
  await screenshot(page, "lesson-cache-order-done-1280");
});

test("Multi-stage builds, as a learner: the build stage's layers stay out of the final image", async ({
  page,
}) => {
  await openApp(page);
  const item = lesson(page, "Multi-stage builds");
  await item.getByRole("button", { name: /^Start over: lesson/ }).click();
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).not.toContainText("(done)");
  await setDockerfile(
    page,
    "FROM ubuntu:20.04 AS build\nRUN apt-get update && apt-get install -y python3\nCOPY . /src\nRUN mkdir /out && cp /src/app.py /out/app.py\nFROM busybox\nCOPY --from=build /out /app\n",
  );
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).toContainText("(done)");
  await expect(item).toContainText(
    /The build stage made 3 layers \([\d.]+ MB\) and none of them is in the final image/,
  );
  await expect(
    page.getByRole("list", { name: "Layer stack" }).getByRole("button", { name: /^Layer \d/ }),
  ).toHaveCount(2);
  await item.scrollIntoViewIfNeeded();
  await screenshot(page, "lesson-multi-stage-done-1280");
});

test("What a layer is on disk, as a learner: the rm's .wh. file and the opaque marker found in the Raw view", async ({
  page,
}) => {
  await openApp(page);
  const item = lesson(page, "What a layer is on disk");
  await item.getByRole("button", { name: /^Start over: lesson/ }).click();
  await expect(page.getByRole("textbox", { name: "Dockerfile" })).toContainText("/srv/notes.txt");
  const start =
    "FROM ubuntu:20.04\nRUN mkdir -p /srv/cache && echo one > /srv/cache/a && echo note > /srv/notes.txt";
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).not.toContainText("(done)");
  // Half the task: the file removed, the directory only emptied (a whiteout per file, no marker).
  await setDockerfile(page, `${start}\nRUN rm /srv/notes.txt && rm -rf /srv/cache/*\n`);
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).not.toContainText("(done)");

  await setDockerfile(page, `${start}\nRUN rm /srv/notes.txt && rm -rf /srv/cache && mkdir /srv/cache\n`);
  await build(page);
  await page
    .getByRole("list", { name: "Layer stack" })
    .getByRole("button", { name: /Layer 3: RUN/ })
    .click();
  const radio = page.getByRole("radio", { name: "Raw" });
  await page.locator("label", { has: radio }).click();
  const entries = page.getByRole("listbox", { name: "Raw tar entries" });
  await expect(entries.getByRole("option", { name: /^srv\/\.wh\.notes\.txt, whiteout/ })).toBeVisible();
  await expect(
    entries.getByRole("option", { name: /^srv\/cache\/\.wh\.\.wh\.\.opq, opaque marker/ }),
  ).toBeVisible();
  // The marker stands for the old contents: no whiteout per file that was in the directory.
  await expect(entries.getByRole("option", { name: /^srv\/cache\/\.wh\.a/ })).toHaveCount(0);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).toContainText("(done)");
  await expect(item).toContainText("holds srv/.wh.notes.txt");
  await expect(item).toContainText("srv/cache/.wh..wh..opq");
  await item.scrollIntoViewIfNeeded();
  await screenshot(page, "lesson-layer-on-disk-done-1280");
});

test(".dockerignore and the build context, as a learner: the COPY layer shrinks and its digest changes", async ({
  page,
}) => {
  await openApp(page);
  const item = lesson(page, ".dockerignore and the build context");
  await item.getByRole("button", { name: /^Start over: lesson/ }).click();
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).not.toContainText("(done)");
  await page.getByRole("tab", { name: "Build context" }).click();
  const context = page.getByRole("region", { name: "Build context" });
  await context.getByRole("textbox", { name: "New context file name" }).fill(".dockerignore");
  await context.getByRole("button", { name: "Add file" }).click();
  await context.getByRole("textbox", { name: "Content of .dockerignore" }).fill("logs/\n");
  await build(page);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(item).toContainText("(done)");
  await expect(item).toContainText(/"COPY \. \/app" made [\d.]+ kB instead of [\d.]+ kB/);
  await item.scrollIntoViewIfNeeded();
  await screenshot(page, "lesson-dockerignore-done-1280");
});
