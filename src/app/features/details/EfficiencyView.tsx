import { useEffect } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** The image's efficiency: score, wasted bytes, and the paths that waste them with their layers. */
export function EfficiencyView() {
  const image = useAppStore((s) => s.explorer.image);
  const selectLayer = useAppStore((s) => s.selectLayer);
  const loadEfficiency = useAppStore((s) => s.loadEfficiency);
  const efficiency = useAppStore((s) => s.details.efficiency);
  const id = image?.image.id;
  useEffect(() => {
    if (id) void loadEfficiency(id);
  }, [id, loadEfficiency]);
  // Only what was computed for the image shown (an answer for an earlier one is never shown).
  const report = efficiency.image === id ? efficiency.report : undefined;
  const error = efficiency.image === id ? efficiency.error : undefined;
  if (!image) return <p className="muted">No image selected.</p>;
  if (error) return <p className="error">{error}</p>;
  if (!report) return <p className="muted">Computing…</p>;
  return (
    <div className="efficiency">
      <dl className="facts">
        <dt>Efficiency</dt>
        <dd data-testid="efficiency-score">
          <strong>{(report.score * 100).toFixed(1)} %</strong>
        </dd>
        <dt>Wasted</dt>
        <dd data-testid="efficiency-wasted">
          {formatBytes(report.wastedBytes)} of {formatBytes(report.totalBytes)} in layers (
          {formatBytes(report.finalBytes)} visible in a container)
        </dd>
      </dl>
      {report.inefficiencies.length === 0 ? (
        <p className="muted">No file is written twice or deleted later: nothing to reclaim.</p>
      ) : (
        <table className="history">
          <caption className="visually-hidden">Wasted space by path</caption>
          <thead>
            <tr>
              <th scope="col">Wasted</th>
              <th scope="col">Path</th>
              <th scope="col">Layers</th>
            </tr>
          </thead>
          <tbody>
            {report.inefficiencies.map((w) => (
              <tr key={w.path}>
                <td className="num">{formatBytes(w.wastedBytes)}</td>
                <td>
                  <code>/{w.path}</code>
                </td>
                <td>
                  {w.occurrences.map((o) => (
                    <button
                      key={`${o.layer}-${o.action}`}
                      type="button"
                      className="link occurrence"
                      title={
                        o.action === "removed"
                          ? `removed (${o.cause ?? "whiteout"})`
                          : `written, ${formatBytes(o.size)}`
                      }
                      onClick={() => selectLayer(o.layer)}
                    >
                      {o.action === "removed" ? "−" : "+"}
                      {o.layer + 1}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
