import { expect, test } from "@playwright/test";
import { expandDir, openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test("npm in the browser over the node stand-in: real package sizes, the cache cleaned in the same RUN", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(
    page,
    "FROM node:20-bookworm-slim\nWORKDIR /app\nRUN npm install express@4 && npm cache clean --force\n",
  );
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const log = page.locator(".build-log");
  await expect(log.getByRole("status")).toContainText("Built", { timeout: 90_000 });
  const run = log.locator("li").filter({ hasText: "RUN npm install express@4" });
  await expect(run).toContainText(/added \d+ packages/);
  // The stand-in says what it is, in the stack as in the CLI.
  await expect(page.getByText(/stand-in for node:20-bookworm-slim/).first()).toBeVisible();
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /RUN npm install express@4/ }).click();
  const tree = page.getByRole("tree", { name: "Files" });
  await expandDir(page, "app");
  await expect(
    tree.getByRole("treeitem", { name: /^node_modules, added, .* inside: \d+ added/ }),
  ).toBeVisible();
  await page
    .getByRole("searchbox", { name: "Filter files by path" })
    .fill("app/node_modules/express/package.json");
  await expect(tree.getByRole("treeitem", { name: /^package\.json, added/ })).toBeVisible();
  await tree.getByRole("treeitem", { name: /^package\.json, added/ }).dblclick();
  await expect(page.getByRole("region", { name: "File content" })).toContainText('"name": "express"');
  await screenshot(page, "npm-layer-1280");
  // npm cache clean --force in the same RUN: the layer keeps none of the cache's tarballs.
  await page.getByRole("searchbox", { name: "Filter files by path" }).fill("root/.npm/_cacache/**");
  await expect(tree.getByRole("treeitem", { name: /^content-v2,/ })).toHaveCount(0);
});
