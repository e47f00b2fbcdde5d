import { describe, expect, it, vi } from "vitest";
import { create } from "zustand";
import { BUILTIN_COURSE } from "../../core/lessons/lessons.ts";
import type { AppState } from "./index.ts";

/** lessons.check calls that wait until the test answers them. */
const pending: ((result: unknown) => void)[] = [];
vi.mock("./worker.ts", () => ({
  workerClient: () => ({
    call: () => new Promise((resolve) => pending.push(resolve)),
    onNotice: () => () => undefined,
  }),
}));

const { createLessonsSlice } = await import("./lessons-slice.ts");

describe("lesson progress", () => {
  it("a check that was running when a lesson was started over does not tick it again", async () => {
    const store = create<AppState>()(
      (...a) =>
        ({
          ...createLessonsSlice(...a),
          setDockerfile: () => undefined,
          replaceContext: () => undefined,
        }) as unknown as AppState,
    );
    const lesson = BUILTIN_COURSE.lessons[0]!.id;
    const key = `${BUILTIN_COURSE.id}/${lesson}`;
    const done = { results: { [key]: { done: true, explanation: "built" } }, summary: "" };

    // Done once, then a new check starts (a build finished), then the learner starts over.
    const first = store.getState().checkLessons();
    pending.shift()!(done);
    await first;
    expect(store.getState().lessons[key]?.done).toBe(true);
    const running = store.getState().checkLessons();
    store.getState().resetLesson(BUILTIN_COURSE.id, lesson);
    expect(store.getState().lessons[key]).toBeUndefined();
    pending.shift()!(done);
    await running;
    expect(store.getState().lessons[key]).toBeUndefined();

    // A check asked after the reset counts.
    const later = store.getState().checkLessons();
    pending.shift()!(done);
    await later;
    expect(store.getState().lessons[key]?.done).toBe(true);
  });
});
