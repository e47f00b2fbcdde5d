import { useEffect } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** How much the store holds, the browser's quota, and a way to start over. */
export function StoragePanel() {
  const storage = useAppStore((s) => s.storage);
  const refresh = useAppStore((s) => s.refreshStorage);
  const clear = useAppStore((s) => s.clearStorage);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const st = storage.stats;
  const pct = st?.quota ? Math.min(100, ((st.usage ?? 0) / st.quota) * 100) : 0;
  return (
    <section className="storage" aria-labelledby="storage-title">
      <h2 id="storage-title" className="visually-hidden">
        Storage
      </h2>
      <dl className="storage-figures" aria-live="polite">
        <div>
          <dt>Blobs</dt>
          <dd data-testid="storage-blobs">{st ? st.blobs : "…"}</dd>
        </div>
        <div>
          <dt>Stored</dt>
          <dd data-testid="storage-bytes">{st ? formatBytes(st.bytes) : "…"}</dd>
        </div>
        <div>
          <dt>Images</dt>
          <dd data-testid="storage-images">{st ? st.images : "…"}</dd>
        </div>
        <div title="What this browser lets LayerLab keep (navigator.storage.estimate)">
          <dt>Quota</dt>
          <dd data-testid="storage-quota">
            {st?.quota ? `${formatBytes(st.usage ?? 0)} of ${formatBytes(st.quota)}` : "unknown"}
          </dd>
        </div>
      </dl>
      <meter className="storage-meter" aria-label="Quota used" min={0} max={100} value={pct} />
      <button
        type="button"
        className="button-quiet"
        disabled={storage.busy}
        onClick={() => {
          if (confirm("Remove every image, layer and container LayerLab has stored in this browser?"))
            void clear();
        }}
      >
        Clear store
      </button>
      {storage.error && (
        <p role="alert" className="error">
          {storage.error}
        </p>
      )}
    </section>
  );
}
