import { useState } from "react";
import { formatBytes, formatCount } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** "1 change", "2,004 changes". */
function changesText(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "change" : "changes"}`;
}

/** The image's containers, as `docker ps -a` lists them, with attach, stop/start, commit and remove. */
export function ContainerList() {
  const all = useAppStore((s) => s.terminal.all);
  const attached = useAppStore((s) => s.terminal.id);
  const attach = useAppStore((s) => s.attachTerminal);
  const stop = useAppStore((s) => s.stopContainer);
  const start = useAppStore((s) => s.startContainer);
  const remove = useAppStore((s) => s.removeContainer);
  const commit = useAppStore((s) => s.commitContainerAs);
  const image = useAppStore((s) => s.explorer.image?.image.names[0] ?? "image");
  const [tag, setTag] = useState("");
  if (all.length === 0) return null;
  return (
    <section className="container-list" aria-labelledby="container-list-title">
      <h3 id="container-list-title">Containers</h3>
      <ul aria-label="Containers">
        {all.map((c) => (
          <li key={c.id} aria-current={c.id === attached ? "true" : undefined}>
            <span className="container-name">{c.name}</span>{" "}
            <span className="muted">
              {c.state === "running" ? "Up" : "Exited"} · {changesText(c.added + c.modified + c.removed)} ·{" "}
              {formatBytes(c.bytes)}
            </span>
            <span className="container-actions">
              {c.state === "running" && c.id !== attached && (
                <button type="button" className="button-quiet" onClick={() => void attach(c.id)}>
                  Attach {c.name}
                </button>
              )}
              {c.state === "running" ? (
                <button type="button" className="button-quiet" onClick={() => void stop(c.id)}>
                  Stop {c.name}
                </button>
              ) : (
                <button type="button" className="button-quiet" onClick={() => void start(c.id)}>
                  Start {c.name}
                </button>
              )}
              <button
                type="button"
                className="button-quiet"
                disabled={c.added + c.modified + c.removed === 0}
                onClick={() => void commit(c.id, tag || `${image.split(":")[0]}:${c.name}`)}
              >
                Commit {c.name}
              </button>
              <button type="button" className="button-quiet" onClick={() => void remove(c.id)}>
                Remove {c.name}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <input
        aria-label="Commit as"
        placeholder={`${image.split(":")[0]}:<container name>`}
        value={tag}
        onChange={(e) => setTag(e.target.value)}
      />
    </section>
  );
}
