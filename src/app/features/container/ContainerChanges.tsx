import { formatCount } from "../../../core/format.ts";
import { DIFF_LINES_MORE } from "../../store/container-slice.ts";
import { useAppStore } from "../../store/index.ts";

const WORDS = { A: "added", C: "changed", D: "deleted" } as const;

/** `docker diff` of the attached container: A/C/D lines as Docker prints them (the first ones). */
export function ContainerChanges() {
  const changes = useAppStore((s) => s.terminal.changes);
  const total = useAppStore((s) => s.terminal.changesTotal);
  const name = useAppStore((s) => s.terminal.info?.name);
  const showMore = useAppStore((s) => s.showMoreChanges);
  return (
    <section className="container-changes" aria-labelledby="container-changes-title">
      <h3 id="container-changes-title">
        docker diff <span className="muted">{name}</span>
      </h3>
      {total === 0 ? (
        <p className="muted">No changes: the container layer is empty.</p>
      ) : (
        <ul aria-label="Container changes">
          {changes.map((c) => (
            <li key={`${c.kind}${c.path}`} className={`diff-${c.kind}`} title={WORDS[c.kind]}>
              <code>
                {c.kind} {c.path}
              </code>
            </li>
          ))}
        </ul>
      )}
      {total > changes.length && (
        <p className="muted">
          … and {formatCount(total - changes.length)} more lines ({formatCount(total)} in all){" "}
          <button type="button" className="changes-more" onClick={() => void showMore()}>
            Show {formatCount(Math.min(DIFF_LINES_MORE, total - changes.length))} more
          </button>
        </p>
      )}
    </section>
  );
}
