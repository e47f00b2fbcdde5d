import { expect, test } from "@playwright/test";
import { expandDir, openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

test("Run opens a shell in a new container; its writes land in the container layer live and survive a reload", async ({
  page,
}) => {
  await openApp(page);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const input = page.getByRole("textbox", { name: "Terminal input" });
  await expect(input).toBeFocused();
  const terminal = page.getByTestId("terminal");
  await expect(terminal).toContainText("root@");

  // At 1280x720 the terminal spans the editor's and the stack's columns, and its top edge drags.
  const width = (await terminal.boundingBox())?.width ?? 0;
  expect(width).toBeGreaterThan(450);
  const bottom = page.locator(".pane-bottom");
  const before = (await bottom.boundingBox())?.height ?? 0;
  const handle = page.getByRole("separator", { name: "Resize the bottom panel" });
  await handle.focus();
  for (let i = 0; i < 3; i++) await handle.press("ArrowUp");
  await expect.poll(async () => (await bottom.boundingBox())?.height ?? 0).toBeGreaterThan(before + 40);
  await input.focus();

  await input.pressSequentially("echo hello > /app/new.txt && rm /app/README");
  await input.press("Enter");

  const changes = page.getByRole("list", { name: "Container changes" });
  await expect(changes.getByRole("listitem")).toHaveText(["C /app", "D /app/README", "A /app/new.txt"]);
  const tree = page.getByRole("tree", { name: "Files" });
  await expandDir(page, "app");
  await expect(tree.getByRole("treeitem", { name: /^new\.txt, added/ })).toBeVisible();
  await expect(tree.getByRole("treeitem", { name: /^README, removed/ })).toBeVisible();

  // The shell keeps working: its output shows, and the history comes back with the arrow key.
  await input.pressSequentially("cat /app/new.txt");
  await input.press("Enter");
  await expect(terminal).toContainText("hello");
  await screenshot(page, "terminal");

  await page.reload();
  await expect(changes.getByRole("listitem")).toHaveText(["C /app", "D /app/README", "A /app/new.txt"], {
    timeout: 60_000,
  });
  await expect(terminal).toContainText("a command that was running when the page closed was not");
  await expandDir(page, "app");
  await expect(tree.getByRole("treeitem", { name: /^new\.txt, added/ })).toBeVisible();
  await expect(tree.getByRole("treeitem", { name: /^README, removed/ })).toBeVisible();
  await input.press("ArrowUp");
  await expect(terminal).toContainText("cat /app/new.txt");

  // Keys typed while a command runs are not lost: they are read at the next prompt, as bash does.
  await input.press("Control+C");
  await input.pressSequentially("for i in $(seq 1 2000); do echo $i > /tmp/f$i; done");
  await input.press("Enter");
  await input.pressSequentially("echo $((6*7))");
  await input.press("Enter");
  await expect(page.locator(".xterm-rows > div").filter({ hasText: /^42\s*$/ })).toHaveCount(1);
  // The page holds and draws the first 50 lines of docker diff, says how many there are, and
  // shows more on request (2,000 files in /tmp, /tmp itself and the three lines above).
  await expect(changes.getByRole("listitem")).toHaveCount(50);
  await expect(page.locator(".container-changes")).toContainText("… and 1,954 more lines (2,004 in all)");
  await expect(changes.getByRole("listitem").first()).toHaveText("C /app");
  await page.getByRole("button", { name: "Show 200 more" }).scrollIntoViewIfNeeded();
  await screenshot(page, "terminal-diff-more");
  await page.getByRole("button", { name: "Show 200 more" }).click();
  await expect(changes.getByRole("listitem")).toHaveCount(250);
  await expect(page.locator(".container-changes")).toContainText("… and 1,754 more lines (2,004 in all)");
  // The next command's refresh keeps the longer list.
  await input.pressSequentially("touch /tmp/f1");
  await input.press("Enter");
  await expect(page.locator(".container-changes")).toContainText("… and 1,754 more lines");
  await expect(changes.getByRole("listitem")).toHaveCount(250);
});

test("a command printing 100,000 lines is drawn a piece at a time and ends with its last line and the prompt", async ({
  page,
}) => {
  await openApp(page);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const input = page.getByRole("textbox", { name: "Terminal input" });
  await expect(page.getByTestId("terminal")).toContainText("root@");
  // Every frame the page draws, the number on the terminal's last line: a page that froze while
  // the output was written would draw no frame between the first number and the last.
  await page.evaluate(() => {
    const w = window as unknown as { __seen: Set<number> };
    w.__seen = new Set();
    const rows = document.querySelector(".xterm-rows") as HTMLElement;
    const tick = () => {
      const last = [...rows.children].map((r) => (r.textContent ?? "").trim()).filter(Boolean);
      for (const t of last.slice(-3)) if (/^\d+$/.test(t)) w.__seen.add(Number(t));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await input.pressSequentially("seq 1 100000");
  await input.press("Enter");
  const rows = page.locator(".xterm-rows > div");
  await expect(rows.filter({ hasText: /^100000\s*$/ })).toHaveCount(1, { timeout: 60_000 });
  await expect(rows.filter({ hasText: /^99999\s*$/ })).toHaveCount(1);
  // The prompt comes back on the line after the last number.
  await expect
    .poll(async () => {
      const text = (await rows.allTextContents())
        .map((t) => t.replace(/\u00a0/g, " ").trim())
        .filter(Boolean);
      return text.slice(text.indexOf("100000") + 1, text.indexOf("100000") + 2);
    })
    .toEqual([expect.stringMatching(/^root@\S+:\S*#$/)]);
  const seen = await page.evaluate(() => [...(window as unknown as { __seen: Set<number> }).__seen]);
  expect(seen.some((n) => n > 1 && n < 99_000)).toBe(true);
  // The shell is still there: a new command runs and prints.
  await input.pressSequentially("echo $((6*7))");
  await input.press("Enter");
  await expect(rows.filter({ hasText: /^42\s*$/ })).toHaveCount(1);
});
