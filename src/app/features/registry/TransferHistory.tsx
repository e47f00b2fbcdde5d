import { useAppStore } from "../../store/index.ts";
import { countText, OUTCOME_WORDS } from "./transfer-text.ts";
import "./registry.css";

const COLUMNS = ["received", "sent", "skipped", "mounted"] as const;

/** The image's pulls and pushes, newest first, side by side so two of them can be compared. */
export function TransferHistory() {
  const image = useAppStore((s) => s.explorer.image);
  const history = useAppStore((s) => s.registry.history);
  if (!image) return <p className="muted">No image selected.</p>;
  const records = history.image === image.image.id ? [...history.records].reverse() : [];
  if (records.length === 0)
    return (
      <p className="muted">
        This image has not been pulled or pushed yet. Use Push to send it to a registry: a second push sends
        only the layers the registry lacks.
      </p>
    );
  return (
    <div className="transfer-history">
      <table aria-label="Transfers">
        <thead>
          <tr>
            <th scope="col">Transfer</th>
            {COLUMNS.map((c) => (
              <th key={c} scope="col">
                {OUTCOME_WORDS[c]}
              </th>
            ))}
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={`${r.startedAt}-${r.kind}-${r.reference}`}>
              <th scope="row">
                {r.kind === "pull" ? "Pull from" : "Push to"} <code>{r.reference}</code>
                <span className="muted"> · {new Date(r.startedAt).toLocaleString()}</span>
              </th>
              {COLUMNS.map((c) => (
                <td key={c} className={r.totals[c].count ? "" : "muted"}>
                  {countText(r.totals[c])}
                </td>
              ))}
              <td>{((r.finishedAt - r.startedAt) / 1000).toFixed(1)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted registry-note">
        Counts are blobs (layers, the config and the manifest) with their bytes. Already there: the other side
        had the blob and nothing moved. Mounted: the registry linked it from another of its repositories.
      </p>
    </div>
  );
}
