import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";
import { ARCHIVE_ACCEPT } from "../images/ImportControl.tsx";

/**
 * What the store has to tell, under the header: a write refused for want of room (what uses the
 * store and what to do), images the browser evicted or damaged, another tab's upgrade, and the
 * progress and findings of `Check store`.
 */
export function StorageNotices() {
  const storage = useAppStore((s) => s.storage);
  const persist = useAppStore((s) => s.persistStorage);
  const dismiss = useAppStore((s) => s.dismissStorageNotice);
  const clear = useAppStore((s) => s.clearStorage);
  const runBuild = useAppStore((s) => s.runBuild);
  const cancelCheck = useAppStore((s) => s.cancelStorageCheck);
  const importArchive = useAppStore((s) => s.importArchive);
  const { full, repair, closed, check, stats, evicted } = storage;
  const lost = repair?.lost ?? [];
  if (!full && lost.length === 0 && !evicted && !closed && !check.running && !check.report && !check.error)
    return null;
  return (
    <div className="storage-notices">
      {closed && (
        <div role="alert" className="storage-notice">
          LayerLab was opened in a newer version in another tab, which upgraded the store; this tab closed its
          copy so the upgrade could finish. Reload this tab to go on.{" "}
          <button type="button" className="button-quiet" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {full && (
        <div role="alert" className="storage-notice" aria-label="Storage full">
          <strong>Storage is full.</strong>{" "}
          {full.using && full.using.length > 0 && (
            <>
              What uses it: {full.using.map((u) => `${u.name} ${formatBytes(u.bytes)}`).join(", ")}
              {full.sharedBytes ? `, layers shared between images ${formatBytes(full.sharedBytes)}` : ""}.{" "}
            </>
          )}
          {!stats?.persisted && (
            <button type="button" className="button-quiet" onClick={() => void persist()}>
              Keep data (persistent storage)
            </button>
          )}{" "}
          <button
            type="button"
            className="button-quiet"
            onClick={() => {
              if (confirm("Remove every image, layer and container LayerLab has stored in this browser?"))
                void clear();
            }}
          >
            Clear store
          </button>{" "}
          <button type="button" className="button-quiet" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {evicted && (
        <div role="alert" className="storage-notice" aria-label="Store evicted">
          <strong>
            The browser removed LayerLab's stored images ({evicted.images}{" "}
            {evicted.images === 1 ? "image" : "images"}
            {evicted.names.length > 0 ? `: ${evicted.names.join(", ")}` : ""}
            {evicted.images > evicted.names.length && evicted.names.length > 0
              ? ` and ${evicted.images - evicted.names.length} more`
              : ""}
            ).
          </strong>{" "}
          Browsers evict a site's stored data, all of it at once, when the disk runs low or the site has not
          been used for a while, unless its storage is persistent. The example is built again from its
          Dockerfile; import your archives again to see them.{" "}
          <button type="button" className="button-quiet" onClick={() => void runBuild()}>
            Rebuild example
          </button>{" "}
          <ReimportInput onFile={(f) => void importArchive(f)} />{" "}
          {!stats?.persisted && (
            <button type="button" className="button-quiet" onClick={() => void persist()}>
              Keep data (persistent storage)
            </button>
          )}{" "}
          <button type="button" className="button-quiet" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {lost.length > 0 && (
        <div role="alert" className="storage-notice" aria-label="Images lost">
          <strong>The browser removed part of LayerLab's store</strong> (it evicts or damages stored data when
          space runs low). These images had lost bytes and were taken out:{" "}
          {lost.map((l) => `${l.name} (${l.missing.length} missing: ${l.missing.join("; ")})`).join(", ")}.
          Rebuild the example or import the archives again.{" "}
          <button type="button" className="button-quiet" onClick={() => void runBuild()}>
            Rebuild example
          </button>{" "}
          {!evicted && (
            <>
              <ReimportInput onFile={(f) => void importArchive(f)} />{" "}
            </>
          )}
          <button type="button" className="button-quiet" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {check.running && (
        <span role="status" className="storage-notice">
          <progress
            aria-label="Check progress"
            max={check.progress?.total ?? 1}
            value={check.progress?.done ?? 0}
          />{" "}
          Checking the store: {formatBytes(check.progress?.done ?? 0)}
          {check.progress?.total ? ` of ${formatBytes(check.progress.total)}` : ""} · {check.progress?.detail}{" "}
          <button type="button" className="button-quiet" onClick={cancelCheck}>
            Cancel check
          </button>
        </span>
      )}
      {!check.running && check.error && (
        <span role="status" className="storage-notice">
          {check.error}
        </span>
      )}
      {!check.running && check.report && (
        <span role="status" className="storage-notice" aria-label="Check result">
          {check.report.damaged.length === 0
            ? `Store checked: all ${check.report.checked} blobs (${formatBytes(check.report.bytes)}) match their digests.`
            : `Store checked: ${check.report.damaged.length} of ${check.report.checked} blobs are damaged: ${check.report.damaged
                .map((d) => `${d.digest.slice(0, 19)} (${formatBytes(d.size)}): ${d.problem}`)
                .join("; ")}. Delete the images that use them and import or build them again.`}
        </span>
      )}
    </div>
  );
}

/** A second way to the import, inside a notice of lost images: the archives they came from. */
function ReimportInput({ onFile }: { onFile: (file: File) => void }) {
  return (
    <label className="button-quiet import-label">
      Import an archive again
      <input
        type="file"
        aria-label="Import an archive again"
        accept={ARCHIVE_ACCEPT}
        className="visually-hidden"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = "";
        }}
      />
    </label>
  );
}
