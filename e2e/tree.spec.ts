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
  // The RUN layer's Python files (python3.11's standard library and Debian's helpers), nothing else.
  await expect(page.getByTestId("tree-matches")).toHaveText("551 entries match");
  await expect(tree.getByRole("treeitem", { name: /^__future__\.py, added/ })).toBeVisible();
  const shown = await tree.getByRole("treeitem").evaluateAll((els) =>
    els.map((e) => ({
      level: Number(e.getAttribute("aria-level")),
      dir: e.hasAttribute("aria-expanded"),
      open: e.getAttribute("aria-expanded") === "true",
      name: e.getAttribute("aria-label")!.split(",")[0]!,
    })),
  );
  // The filter keeps the matches and the directories leading to them, opened, in name order.
  expect(shown.slice(0, 11).map((r) => `${r.level} ${r.name}`)).toEqual([
    "1 etc",
    "2 python3.11",
    "3 sitecustomize.py",
    "1 usr",
    "2 lib",
    "3 python3.11",
    "4 __future__.py",
    "4 __hello__.py",
    "4 __phello__",
    "5 __init__.py",
    "5 spam.py",
  ]);
  expect(shown.length).toBeGreaterThan(11);
  for (const [i, r] of shown.entries()) {
    if (!r.dir) expect(r.name).toMatch(/\.py$/);
    else {
      // A directory is shown only for what it holds: open, with a row one level deeper below it.
      expect(r.open).toBe(true);
      if (i + 1 < shown.length) expect(shown[i + 1]!.level).toBe(r.level + 1);
    }
  }
  // The last row is a Python file too: one of Debian's helpers under /usr/share/python3.
  await tree.focus();
  await page.keyboard.press("End");
  const last = tree.getByRole("treeitem", { selected: true });
  await expect(last).toHaveAccessibleName(/^py3versions\.py, added,/);
  await expect(last).toHaveAttribute("title", "usr/share/python3/py3versions.py");
  // The compiled files are another set: *.py matches whole names, not a prefix of *.pyc.
  await filter.fill("*.pyc");
  await expect(page.getByTestId("tree-matches")).toHaveText("550 entries match");
  await filter.fill("*.pyx");
  await expect(page.getByTestId("tree-matches")).toHaveText("0 entries match");
  await expect(tree).toContainText("Nothing here matches.");
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
