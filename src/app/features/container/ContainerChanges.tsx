import { useAppStore } from "../../store/index.ts";

const WORDS = { A: "added", C: "changed", D: "deleted" } as const;

/** Lines drawn at most: a loop that writes 10,000 files would otherwise hold up the page (and the typing). */
const SHOWN = 200;

/** `docker diff` of the attached container: A/C/D lines as Docker prints them. */
export function ContainerChanges() {
  const changes = useAppStore((s) => s.terminal.changes);
  const name = useAppStore((s) => s.terminal.info?.name);
  return (
    <section className="container-changes" aria-labelledby="container-changes-title">
      <h3 id="container-changes-title">
        docker diff <span className="muted">{name}</span>
      </h3>
      {changes.length === 0 ? (
        <p className="muted">No changes: the container layer is empty.</p>
      ) : (
        <ul aria-label="Container changes">
          {changes.slice(0, SHOWN).map((c) => (
            <li key={`${c.kind}${c.path}`} className={`diff-${c.kind}`} title={WORDS[c.kind]}>
              <code>
                {c.kind} {c.path}
              </code>
            </li>
          ))}
        </ul>
      )}
      {changes.length > SHOWN && (
        <p className="muted">
          … and {(changes.length - SHOWN).toLocaleString("en")} more lines (
          {changes.length.toLocaleString("en")} in all)
        </p>
      )}
    </section>
  );
}
