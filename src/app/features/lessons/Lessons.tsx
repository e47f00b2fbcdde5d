import { useEffect } from "react";
import { LESSONS } from "../../../core/lessons/lessons.ts";
import { useAppStore } from "../../store/index.ts";

/** The lessons: each sets one task, is checked live against your own work, and explains the result. */
export function Lessons() {
  const lessons = useAppStore((s) => s.lessons);
  const check = useAppStore((s) => s.checkLessons);
  // Re-check whenever something a lesson looks at changes.
  const library = useAppStore((s) => s.explorer.library);
  const build = useAppStore((s) => s.build.result);
  const container = useAppStore((s) => s.explorer.container);
  // biome-ignore lint/correctness/useExhaustiveDependencies: build and container are the triggers, not inputs
  useEffect(() => {
    if (library) void check();
  }, [library, build, container, check]);
  const done = LESSONS.filter((l) => lessons[l.id]?.done).length;
  return (
    <section className="lessons" aria-label="Lessons">
      <p className="lessons-progress">
        {done} of {LESSONS.length} done
      </p>
      <ol>
        {LESSONS.map((l) => {
          const st = lessons[l.id];
          return (
            <li key={l.id} className={st?.done ? "lesson done" : "lesson"}>
              <strong>
                <span className="lesson-mark" aria-hidden="true">
                  {st?.done ? "✓" : "○"}
                </span>{" "}
                {l.title}
                {st?.done && <span className="visually-hidden"> (done)</span>}
              </strong>
              {st?.done && st.explanation ? <p>{st.explanation}</p> : <p className="lesson-task">{l.task}</p>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
