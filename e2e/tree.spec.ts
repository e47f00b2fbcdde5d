import { expect, test } from "@playwright/test";
import { openApp } from "./helpers.ts";

test("the file tree: keyboard navigation, type-ahead, glob and kind filters, sort by size", async ({
  page,
}) => {
  await openApp(page);
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Layer 1: base/ }).click();
  const tree = page.getByRole("tree", { name: "Files" });
  await expect(tree.getByRole("treeitem", { name: /^etc, added/ })).toBeVisible();
  await tree.focus();
  await page.keyboard.press("Home");
  await page.keyboard.type("et");
  await expect(tree.getByRole("treeitem", { selected: true })).toHaveAccessibleName(/^etc,/);
  await page.keyboard.press("ArrowRight");
  await expect(tree.getByRole("treeitem", { name: /^etc,/ })).toHaveAttribute("aria-expanded", "true");
  await page.keyboard.press("ArrowDown");
  await expect(tree.getByRole("treeitem", { selected: true })).toHaveAttribute("aria-level", "2");
  await page.keyboard.press("ArrowLeft");
  await expect(tree.getByRole("treeitem", { selected: true })).toHaveAccessibleName(/^etc,/);

  // Open /usr/lib/os-release (where /etc/os-release points) with the keyboard: the base's real text.
  const filter = page.getByRole("searchbox", { name: "Filter files by path" });
  await filter.fill("usr/lib/os-release");
  await tree.getByRole("treeitem", { name: /^os-release,/ }).click();
  await tree.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("region", { name: "File content" })).toContainText("PRETTY_NAME");

  await filter.fill("*.py");
  await stack.getByRole("button", { name: /Layer 2: RUN/ }).click();
  await expect(tree.getByRole("treeitem", { name: /\.py, added/ }).first()).toBeVisible();
  for (const name of await tree
    .getByRole("treeitem")
    .evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")!))) {
    expect(name.split(",")[0]).toMatch(/\.py$|^[^.]+$|^python3[\d.]*$|^[\w.-]+$/);
  }
  await filter.fill("");
  await page.getByRole("checkbox", { name: "added" }).uncheck();
  await page.getByRole("checkbox", { name: "unchanged" }).uncheck();
  await page.getByRole("checkbox", { name: "removed" }).uncheck();
  await expect(tree.getByRole("treeitem", { name: /, added,/ })).toHaveCount(0);
  await page.getByRole("checkbox", { name: "added" }).check();
  await page.getByRole("checkbox", { name: "unchanged" }).check();
  await page.getByRole("checkbox", { name: "removed" }).check();
  await page.getByRole("combobox", { name: "Sort" }).selectOption("size");
  const sizes = await tree
    .getByRole("treeitem", { level: 1 })
    .evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")!.split(", ").at(-1)!));
  const bytes = sizes.map((s) => {
    const [n, u] = s.split(" ");
    return Number(n) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9 } as Record<string, number>)[u!]!;
  });
  expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
});

test("the build context: add a file, edit it, build; only the COPY step rebuilds", async ({ page }) => {
  await openApp(page);
  await page.getByRole("tab", { name: "Build context" }).click();
  const context = page.getByRole("region", { name: "Build context" });
  await expect(context.getByRole("list", { name: "Context files" })).toContainText("app.py");
  await context.getByRole("textbox", { name: "New context file name" }).fill("notes.txt");
  await context.getByRole("button", { name: "Add file" }).click();
  await context.getByRole("textbox", { name: "Content of notes.txt" }).fill("hello from the context\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const log = page.locator(".build-log");
  await expect(log.getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await expect(log.locator("li").filter({ hasText: "RUN apt-get" })).toContainText("CACHED");
  await expect(log.locator("li").filter({ hasText: "COPY . /app" })).toContainText("rebuilt");
  const tree = page.getByRole("tree", { name: "Files" });
  await expect(tree.getByRole("treeitem", { name: /^notes\.txt, added/ })).toBeVisible();
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(
    page.getByRole("region", { name: "Lessons" }).getByRole("listitem").filter({ hasText: "build cache" }),
  ).toContainText("came from the cache");
});
