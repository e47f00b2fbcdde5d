import { expect, test } from "@playwright/test";
import { encodeSharedLesson, validateCourse } from "../src/core/lessons/lesson-file.ts";
import { openApp } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

const LESSON = {
  format: "layerlab-lesson/1",
  id: "no-docs",
  title: "Leave the docs out",
  text: "Press Start over to get its Dockerfile, then build it.",
  dockerfile: "FROM ubuntu:20.04\nRUN rm -rf /usr/share/doc\n",
  check: { kind: "whiteout-for", path: "/usr/share/doc" },
};

test("a teacher's lesson file: opened, started from its own Dockerfile, checked live, summarized; a bad file is refused naming the field", async ({
  page,
}) => {
  await openApp(page);
  const lessons = page.getByRole("region", { name: "Lessons" });
  await lessons.getByLabel("Open lesson file").setInputFiles({
    name: "no-docs.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(LESSON)),
  });
  const course = lessons.getByRole("list", { name: "Leave the docs out" });
  await expect(course.getByRole("listitem")).toHaveCount(1);
  await expect(course.getByRole("listitem")).not.toContainText("(done)");
  await expect(lessons.getByText("0 of 1 done")).toBeVisible();

  await course.getByRole("button", { name: "Start over: lesson 1" }).click();
  await expect(page.getByRole("textbox", { name: "Dockerfile" })).toContainText("RUN rm -rf /usr/share/doc");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByRole("tab", { name: "Lessons" }).click();
  await expect(course.getByRole("listitem")).toContainText("(done)");
  await expect(course.getByRole("listitem")).toContainText(/Layer 2 of \S+ holds usr\/share\/\.wh\.doc/);
  await expect(lessons.getByRole("status").filter({ hasText: "Course finished." })).toContainText(
    /ran \d+ steps/,
  );
  await screenshot(page, "lesson-file-done-1280");

  // Reset takes the tick away again.
  await course.getByRole("button", { name: "Start over: lesson 1" }).click();
  await expect(course.getByRole("listitem")).not.toContainText("(done)");

  await lessons.getByLabel("Open lesson file").setInputFiles({
    name: "bad.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ ...LESSON, check: { kind: "step-cached", step: "two" } })),
  });
  await expect(lessons.getByRole("alert")).toHaveText("bad.json: check.step: must be an integer");
});

test("a lesson link hands the course to a learner", async ({ page }) => {
  const course = validateCourse({ id: "docs-course", title: "Docs course", lessons: [LESSON] });
  await openApp(page, `/#${encodeSharedLesson(course)}`);
  const lessons = page.getByRole("region", { name: "Lessons" });
  await expect(lessons.getByRole("heading", { name: "Docs course" })).toBeVisible();
  await expect(lessons.getByRole("list", { name: "Docs course" }).getByRole("listitem")).toHaveCount(1);
  expect(page.url()).not.toContain("lesson=");
});
