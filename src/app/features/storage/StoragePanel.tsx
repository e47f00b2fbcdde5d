import { useEffect } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

const PERSISTENT = "The browser keeps LayerLab's store until you clear it (persistent storage).";
const EVICTABLE =
  "The browser may evict (delete) LayerLab's store when the disk runs low or the site goes unused; persistent storage prevents that.";

/** How much the store holds, the browser's quota, whether it is kept, and ways to check or start over. */
export function StoragePanel() {
  const storage = useAppStore((s) => s.storage);
  const refresh = useAppStore((s) => s.refreshStorage);
  const clear = useAppStore((s) => s.clearStorage);
  const repair = useAppStore((s) => s.repairStorage);
  const check = useAppStore((s) => s.checkStorage);
  useEffect(() => {
    // At load: images whose bytes the browser removed are taken out (and said so), leftovers of
    // a tab closed mid-write are collected, and other tabs' changes are listened to.
    void repair().then(refresh);
  }, [repair, refresh]);
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
        <div>
          <dt>Kept</dt>
          <dd data-testid="storage-persisted">
            {st?.persisted === undefined ? (
              "…"
            ) : (
              // A disclosure, not only a title: a finger cannot hover, and this is worth knowing.
              <details className="storage-kept">
                <summary title={st.persisted ? PERSISTENT : EVICTABLE}>
                  {st.persisted ? "persistent" : "evictable"}
                </summary>
                <p>{st.persisted ? PERSISTENT : EVICTABLE}</p>
              </details>
            )}
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
      <button
        type="button"
        className="button-quiet"
        disabled={storage.check.running}
        title="Read every stored blob back and check it against its digest"
        onClick={() => void check()}
      >
        Check store
      </button>
      {storage.error && (
        <p role="alert" className="error">
          {storage.error}
        </p>
      )}
    </section>
  );
}
