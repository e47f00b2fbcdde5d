import { useAppStore } from "../../store/index.ts";

/** One row of the stack picture. */
export interface StackRow {
  id: string;
  title: string;
  instruction: string;
  size?: number;
  digest?: string;
  writable?: boolean;
  empty?: boolean;
  cached?: boolean;
  sharedWith?: number;
}

/**
 * The stack picture from the document LayerLab grew from, made live: the writable container
 * layer on top, then each read-only layer down to the base.
 */
export function LayerStack({ rows }: { rows: StackRow[] }) {
  const selected = useAppStore((s) => s.ui.selectedLayer);
  const select = useAppStore((s) => s.selectLayer);
  const max = Math.max(1, ...rows.map((r) => r.size ?? 0));
  return (
    <ul className="stack" aria-label="Layer stack">
      {rows.map((r) => (
        <li
          key={r.id}
          className={`stack-row${r.writable ? " writable" : ""}${r.empty ? " empty-layer" : ""}`}
          aria-current={selected === r.id ? "true" : undefined}
        >
          <button type="button" className="stack-button" onClick={() => select(r.id)}>
            <span className="stack-title">{r.title}</span>
            <code className="stack-instruction">{r.instruction}</code>
            <span className="stack-kind">{r.writable ? "writable" : r.empty ? "no layer" : "read-only"}</span>
            {r.size !== undefined && !r.empty && (
              <span className="stack-bar" aria-hidden="true">
                <span style={{ width: `${Math.max(2, (r.size / max) * 100)}%` }} />
              </span>
            )}
          </button>
        </li>
      ))}
    </ul>
  );
}
