import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** The build log: each step with CACHED or its time and layer size, RUN output, and why a step rebuilt. */
export function BuildLog() {
  const build = useAppStore((s) => s.build);
  const image = useAppStore((s) => s.explorer.image);
  const selectLayer = useAppStore((s) => s.selectLayer);
  const cancel = useAppStore((s) => s.cancelBuild);
  if (!build.running && build.steps.length === 0 && !build.error && !build.result) {
    return <p className="muted">Press Build (or Ctrl+Enter in the editor) to build the Dockerfile.</p>;
  }
  // A step's layer is found by its diffId among the shown image's layers (final stage only).
  const layerIndex = new Map(image?.layers.map((l, i) => [l.id as string, i]) ?? []);
  const r = build.result;
  const delta = r && build.previousSize !== undefined ? r.size - build.previousSize : undefined;
  return (
    <div className="build-log" aria-live="polite">
      {build.stages.map((st) => (
        <p key={st.name} className="log-stage">
          Stage <strong>{st.name}</strong> from <code>{st.base}</code>
          {st.standIn && <span className="log-standin">{st.standIn}</span>}
        </p>
      ))}
      <ol className="log-steps">
        {build.steps.map((s) => {
          const layer = s.diffId ? layerIndex.get(s.diffId) : undefined;
          return (
            <li key={s.step} className={s.failed ? "failed" : s.cached ? "cached" : ""}>
              <div className="log-head">
                <span className="log-n">
                  [{s.step}/{s.steps}]
                </span>
                <code className="log-instr">{s.instruction}</code>
                <span className="log-status">
                  {!s.done ? (
                    "running…"
                  ) : s.failed ? (
                    "failed"
                  ) : s.cached ? (
                    <strong>CACHED</strong>
                  ) : (
                    `${((s.ms ?? 0) / 1000).toFixed(2)} s`
                  )}
                  {s.done &&
                    !s.failed &&
                    (s.emptyLayer ? " · no layer" : ` · ${formatBytes(s.layerSize ?? 0)}`)}
                  {layer !== undefined && (
                    <>
                      {" · "}
                      <button type="button" className="link" onClick={() => selectLayer(layer)}>
                        layer {layer + 1}
                      </button>
                    </>
                  )}
                </span>
              </div>
              {s.reason && !s.cached && <p className="log-reason">rebuilt: {s.reason}</p>}
              {s.output && <pre className="log-output">{s.output}</pre>}
            </li>
          );
        })}
      </ol>
      {build.warnings.map((w) => (
        <p key={w} className="log-warning">
          warning: {w}
        </p>
      ))}
      {build.running && (
        <button type="button" className="button-quiet" onClick={cancel}>
          Cancel build
        </button>
      )}
      {build.error && (
        <p role="alert" className="error">
          {build.error}
        </p>
      )}
      {r && (
        <p className="log-done" role="status">
          Built {r.names[0] ?? r.id.slice(7, 19)}: {r.layers} layers, {formatBytes(r.size)}
          {delta !== undefined && delta !== 0 && ` (${delta > 0 ? "+" : "−"}${formatBytes(Math.abs(delta))})`}
          , {r.cachedSteps} of {r.totalSteps} steps from the cache, in {(r.ms / 1000).toFixed(2)} s
        </p>
      )}
    </div>
  );
}
