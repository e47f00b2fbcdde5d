import type { StateCreator } from "zustand";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

const KEY = "layerlab.lessons";

/** A lesson's state: done (kept once reached, across reloads) and what the check explained. */
export interface LessonState {
  done: boolean;
  explanation?: string;
}

export interface LessonsSlice {
  lessons: Record<string, LessonState>;
  checkLessons(): Promise<void>;
}

function saved(): Record<string, LessonState> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? "{}") as Record<string, LessonState>;
  } catch {
    return {};
  }
}

export const createLessonsSlice: StateCreator<AppState, [], [], LessonsSlice> = (set, get) => ({
  lessons: typeof localStorage === "undefined" ? {} : saved(),
  async checkLessons() {
    const results = await workerClient().call("lessons.check", undefined);
    const next = { ...get().lessons };
    for (const [id, r] of Object.entries(results)) {
      // A lesson once done stays done (its explanation kept) even if its image is deleted later.
      if (r.done) next[id] = r;
      else if (!next[id]?.done) next[id] = r;
    }
    set({ lessons: next });
    localStorage.setItem(KEY, JSON.stringify(next));
  },
});
