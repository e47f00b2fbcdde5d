import type { StateCreator } from "zustand";
import { decodeSharedLesson, encodeSharedLesson, parseLessonFile } from "../../core/lessons/lesson-file.ts";
import { BUILTIN_COURSE, type CourseSpec, type LessonSpec } from "../../core/lessons/lessons.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

const KEY = "layerlab.lessons";
const COURSES_KEY = "layerlab.courses";

/** A lesson's state: done (kept once reached, across reloads) and what the check explained. */
export interface LessonState {
  done: boolean;
  explanation?: string;
}

/** Where a lesson's progress is kept: `course/lesson`. */
export const lessonKey = (course: string, lesson: string) => `${course}/${lesson}`;

export interface LessonsSlice {
  /** Progress by lessonKey. */
  lessons: Record<string, LessonState>;
  /** Courses a teacher handed over (files or links), after the built-in one. */
  courses: CourseSpec[];
  /** Per course id: what the learner did, with the numbers from their builds, once it is finished. */
  courseSummaries: Record<string, string>;
  /** Why the last lesson file or link was refused. */
  lessonError?: string;
  checkLessons(): Promise<void>;
  /** Reads a lesson or course file and adds it to the panel (replacing a course of the same id). */
  openLessonFile(text: string, name: string): void;
  /** Adds the course a `#lesson=…` fragment carries; false when it carries none. */
  openLessonLink(fragment: string): boolean;
  removeCourse(id: string): void;
  /** A link (the page's address with a fragment) that hands the course to a learner. */
  courseLink(id: string): string;
  /** Restores the lesson's Dockerfile and context and takes its tick away. */
  resetLesson(course: string, lesson: string): void;
}

function load<T>(key: string, fallback: T): T {
  try {
    return typeof localStorage === "undefined"
      ? fallback
      : ((JSON.parse(localStorage.getItem(key) ?? "null") as T) ?? fallback);
  } catch {
    return fallback;
  }
}

function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: progress still lives in the page.
  }
}

/** Progress saved before courses existed was keyed by the built-in lesson's id alone. */
function savedProgress(): Record<string, LessonState> {
  const raw = load<Record<string, LessonState>>(KEY, {});
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k.includes("/") ? k : lessonKey(BUILTIN_COURSE.id, k), v]),
  );
}

/** The Dockerfile and context a lesson starts from: its own, else the nearest earlier lesson's. */
function startingPoint(course: CourseSpec, lesson: string): Pick<LessonSpec, "dockerfile" | "context"> {
  const at = course.lessons.findIndex((l) => l.id === lesson);
  const before = course.lessons.slice(0, at + 1).reverse();
  return {
    dockerfile: before.find((l) => l.dockerfile !== undefined)?.dockerfile,
    context: before.find((l) => l.context !== undefined)?.context,
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const createLessonsSlice: StateCreator<AppState, [], [], LessonsSlice> = (set, get) => {
  const addCourse = (course: CourseSpec) => {
    const courses = [...get().courses.filter((c) => c.id !== course.id), course];
    set({ courses, lessonError: undefined });
    save(COURSES_KEY, courses);
    void get().checkLessons();
  };
  // A check answers for the store as it was when it started: a lesson started over since then
  // keeps its reset (the check's tick would be the old image's).
  let resets = 0;
  const resetAt = new Map<string, number>();
  return {
    lessons: savedProgress(),
    courses: load<CourseSpec[]>(COURSES_KEY, []),
    courseSummaries: {},
    async checkLessons() {
      const asked = resets;
      const r = await workerClient().call("lessons.check", { courses: get().courses });
      const next = { ...get().lessons };
      for (const [id, res] of Object.entries(r.results)) {
        if ((resetAt.get(id) ?? 0) > asked) continue;
        // A lesson once done stays done (its explanation kept) even if its image is deleted later.
        if (res.done) next[id] = res;
        else if (!next[id]?.done) next[id] = res;
      }
      const summaries: Record<string, string> = {};
      for (const c of [BUILTIN_COURSE, ...get().courses]) {
        if (c.lessons.every((l) => next[lessonKey(c.id, l.id)]?.done)) summaries[c.id] = r.summary;
      }
      set({ lessons: next, courseSummaries: summaries });
      save(KEY, next);
    },
    openLessonFile(text, name) {
      try {
        addCourse(parseLessonFile(text, name));
      } catch (err) {
        set({ lessonError: message(err) });
      }
    },
    openLessonLink(fragment) {
      try {
        const course = decodeSharedLesson(fragment);
        if (!course) return false;
        addCourse(course);
      } catch (err) {
        set({ lessonError: message(err) });
      }
      return true;
    },
    removeCourse(id) {
      const courses = get().courses.filter((c) => c.id !== id);
      set({ courses });
      save(COURSES_KEY, courses);
    },
    courseLink(id) {
      const course = get().courses.find((c) => c.id === id);
      if (!course) return "";
      return `${location.origin}${location.pathname}#${encodeSharedLesson(course)}`;
    },
    resetLesson(courseId, lessonId) {
      const course = [BUILTIN_COURSE, ...get().courses].find((c) => c.id === courseId);
      if (!course) return;
      const start = startingPoint(course, lessonId);
      if (start.dockerfile !== undefined) get().setDockerfile(start.dockerfile);
      if (start.context !== undefined) get().replaceContext({ ...start.context });
      const lessons = { ...get().lessons };
      delete lessons[lessonKey(courseId, lessonId)];
      resetAt.set(lessonKey(courseId, lessonId), ++resets);
      const courseSummaries = { ...get().courseSummaries };
      delete courseSummaries[courseId];
      set({ lessons, courseSummaries });
      save(KEY, lessons);
    },
  };
};
