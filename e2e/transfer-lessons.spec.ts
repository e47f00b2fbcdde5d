import { expect, type Page, test } from "@playwright/test";
import { openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

/** The built-in course's list item of a lesson, by its title. */
function lesson(page: Page, title: string) {
  return page.getByRole("region", { name: "Lessons" }).getByRole("listitem").filter({ hasText: title });
}

async function transfer(page: Page, kind: "Pull" | "Push", reference: string) {
  await page.getByRole("button", { name: kind, exact: true }).click();
  const field = page.getByRole("textbox", { name: "Image reference" });
  await field.fill(reference);
  await field.press("Enter");
  const status = page.getByRole("region", { name: "Registry transfer" }).getByRole("status");
  await expect(status).toContainText(`${kind === "Push" ? "Pushed" : "Pulled"} ${reference}`, {
    // The first push gzips the stand-in base's layers (kept for every later push): minutes on a busy machine.
    timeout: 240_000,
  });
  return status;
}

test("Only missing layers move, and a pull fetches only what is missing: done against the embedded registry", async ({
  page,
}) => {
  test.setTimeout(600_000);
  await openApp(page);
  const pushLesson = lesson(page, "Only missing layers move");
  const pullLesson = lesson(page, "A pull fetches only what is missing");

  // The first push sends everything: the lesson is not done by one push.
  let status = await transfer(page, "Push", "embedded.layerlab/example:v1");
  await expect(status).toContainText("0 already there");
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(pushLesson).not.toContainText("(done)");

  // One more line, one more layer: the second push sends it, the config and the manifest.
  await setDockerfile(
    page,
    "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\nRUN echo v2 > /version\n",
  );
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.locator(".build-log").getByRole("status")).toContainText("Built", { timeout: 90_000 });
  status = await transfer(page, "Push", "embedded.layerlab/example:v2");
  await expect(status).toContainText("3 sent");
  await expect(status).toContainText("3 already there");
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(pushLesson).toContainText("(done)");
  await expect(pushLesson).toContainText(
    /sent 1 layer of 4 \([\d.]+ k?B\) plus its config and manifest; 3 layers were already in the registry/,
  );
  await expect(pullLesson).not.toContainText("(done)");

  // "Another machine" keeps its copy when this browser's store is cleared.
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Clear store" }).click();
  await expect(page.getByTestId("storage-images")).toHaveText("0");
  await page.getByRole("tab", { name: "Images", exact: true }).click();
  await expect(page.getByRole("list", { name: "Embedded registry repositories" })).toContainText("example");

  status = await transfer(page, "Pull", "embedded.layerlab/example:v2");
  await expect(status).toContainText("received");
  await expect(status).toContainText("0 already there");
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(pullLesson).not.toContainText("(done)");
  status = await transfer(page, "Pull", "embedded.layerlab/example:v2");
  // Only the manifest crosses the wire: every layer and the config are already stored.
  await expect(status).toContainText(/: 1 received \([\d.]+ k?B\), 5 already there/);
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(pullLesson).toContainText("(done)");
  await expect(pullLesson).toContainText("received all 4 layers");
  // The lesson ticked before the store was cleared stays done.
  await expect(pushLesson).toContainText("(done)");
  await pullLesson.scrollIntoViewIfNeeded();
  await screenshot(page, "lesson-transfers-done-1280");
});
