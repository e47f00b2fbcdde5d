import { type ChangeEvent, useEffect, useState } from "react";
import { BUILTIN_COURSE, type CourseSpec } from "../../../core/lessons/lessons.ts";
import { useAppStore } from "../../store/index.ts";
import { lessonKey } from "../../store/lessons-slice.ts";
import "./lessons.css";

/** One course: its lessons in order, what is done, and a summary once all are. */
function Course({ course, own }: { course: CourseSpec; own: boolean }) {
  const lessons = useAppStore((s) => s.lessons);
  const summary = useAppStore((s) => s.courseSummaries[course.id]);
  const reset = useAppStore((s) => s.resetLesson);
  const remove = useAppStore((s) => s.removeCourse);
  const link = useAppStore((s) => s.courseLink);
  const [copied, setCopied] = useState(false);
  const done = course.lessons.filter((l) => lessons[lessonKey(course.id, l.id)]?.done).length;
  const headingId = `course-${course.id}`;
  return (
    <div className="course">
      <div className="course-head">
        {own ? <h3 id={headingId}>{course.title}</h3> : null}
        <p className="lessons-progress">
          {done} of {course.lessons.length} done
        </p>
        {own && (
          <>
            <button
              type="button"
              onClick={() => {
                void navigator.clipboard?.writeText(link(course.id)).then(() => setCopied(true));
              }}
            >
              {copied ? "Link copied" : "Copy link"}
            </button>
            <button type="button" onClick={() => remove(course.id)}>
              Remove course
            </button>
          </>
        )}
      </div>
      {summary && (
        <div className="course-summary" role="status">
          <strong>Course finished.</strong> {summary}
        </div>
      )}
      <ol aria-labelledby={own ? headingId : undefined}>
        {course.lessons.map((l, i) => {
          const st = lessons[lessonKey(course.id, l.id)];
          return (
            <li key={l.id} className={st?.done ? "lesson done" : "lesson"}>
              <strong>
                <span className="lesson-mark" aria-hidden="true">
                  {st?.done ? "✓" : "○"}
                </span>{" "}
                {l.title}
                {st?.done && <span className="visually-hidden"> (done)</span>}
              </strong>{" "}
              <button
                type="button"
                className="lesson-reset"
                aria-label={`Start over: lesson ${i + 1}`}
                title="Put the lesson's Dockerfile and build context back, and take its tick away"
                onClick={() => reset(course.id, l.id)}
              >
                Start over
              </button>
              {st?.done && st.explanation ? <p>{st.explanation}</p> : <p className="lesson-task">{l.text}</p>}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

/** The lessons: each sets one task, is checked live against your own work, and explains the result. */
export function Lessons() {
  const courses = useAppStore((s) => s.courses);
  const check = useAppStore((s) => s.checkLessons);
  const openFile = useAppStore((s) => s.openLessonFile);
  const error = useAppStore((s) => s.lessonError);
  // Re-check whenever something a lesson looks at changes.
  const library = useAppStore((s) => s.explorer.library);
  const build = useAppStore((s) => s.build.result);
  const container = useAppStore((s) => s.explorer.container);
  // biome-ignore lint/correctness/useExhaustiveDependencies: build, container and courses are the triggers, not inputs
  useEffect(() => {
    if (library) void check();
  }, [library, build, container, courses, check]);
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (file) openFile(await file.text(), file.name);
  };
  return (
    <section className="lessons" aria-label="Lessons">
      <div className="lessons-tools">
        <label className="lesson-open">
          Open lesson file
          <input type="file" accept=".json,application/json" onChange={(e) => void onFile(e)} />
        </label>
        <a href="lesson.schema.json" target="_blank" rel="noreferrer">
          Lesson file schema
        </a>
      </div>
      {error && (
        <p role="alert" className="lesson-error">
          {error}
        </p>
      )}
      <Course course={BUILTIN_COURSE} own={false} />
      {courses.map((c) => (
        <Course key={c.id} course={c} own />
      ))}
    </section>
  );
}
