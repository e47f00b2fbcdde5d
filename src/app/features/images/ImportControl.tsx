import { useEffect, useRef, useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** Platforms people pull; "auto" takes linux/amd64, else the first the archive has. */
const PLATFORMS = [
  "linux/amd64",
  "linux/arm64",
  "linux/arm/v7",
  "linux/386",
  "linux/ppc64le",
  "linux/s390x",
  "linux/riscv64",
];

/**
 * What the file pickers offer: image archives, plain or gzip- or zstd-compressed (`docker save |
 * gzip`). Only a hint to the picker: the worker tells an archive by its bytes, whatever its name.
 */
export const ARCHIVE_ACCEPT =
  ".tar,.tar.gz,.tgz,.tar.zst,.tzst,.oci,application/x-tar,application/gzip,application/zstd";

/** Import an image archive by file picker or by dropping it anywhere on the page. */
export function ImportControl() {
  const importArchive = useAppStore((s) => s.importArchive);
  const platform = useAppStore((s) => s.importing.platform);
  const setPlatform = useAppStore((s) => s.setImportPlatform);
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes("Files") ?? false;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const f = e.dataTransfer?.files[0];
      if (f) void importArchive(f);
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [importArchive]);

  return (
    <div className="import">
      <label className="button-quiet import-label">
        Import image…
        <input
          ref={input}
          type="file"
          aria-label="Import image archive"
          accept={ARCHIVE_ACCEPT}
          className="visually-hidden"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importArchive(f);
            e.target.value = "";
          }}
        />
      </label>
      <select
        aria-label="Platform to import"
        title="Which platform to take from a multi-platform archive"
        value={platform}
        onChange={(e) => setPlatform(e.target.value)}
      >
        <option value="">auto platform</option>
        {PLATFORMS.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop a <code>docker save</code> or OCI image archive (a tar, or gzip- or zstd-compressed) to import
          it
        </div>
      )}
    </div>
  );
}

/** The import's progress (with cancel), or how it ended, in one line under the header. */
export function ImportStatus() {
  const importing = useAppStore((s) => s.importing);
  const cancel = useAppStore((s) => s.cancelImport);
  const storageFull = useAppStore((s) => s.storage.full !== undefined);
  const p = importing.progress;
  if (!importing.running && !importing.error && !importing.result) return null;
  return (
    <div className="statusbar">
      {importing.running && p && (
        <span className="import-progress" role="status">
          <progress aria-label="Import progress" max={p.total ?? 1} value={p.done} />
          <span>
            {formatBytes(p.done)}
            {p.total ? ` of ${formatBytes(p.total)}` : ""} · {p.detail ?? importing.name}
          </span>
          <button type="button" className="button-quiet" onClick={cancel}>
            Cancel
          </button>
        </span>
      )}
      {!importing.running && importing.error && (
        <span className="import-error" role="alert">
          {importing.cancelled
            ? `Import of ${importing.name} cancelled.`
            : `Import of ${importing.name} failed: ${importing.error.replace(/\.$/, "")}.`}
          {/* A full store's message already says that nothing of the import was kept. */}
          {!storageFull && " Nothing was stored."}
        </span>
      )}
      {!importing.running && importing.result && (
        <span className="import-done" role="status">
          Imported {importing.result.images.map((i) => i.names[0] ?? i.id.slice(7, 19)).join(", ")}:{" "}
          {formatBytes(importing.result.bytesAdded)} stored
          {importing.result.bytesShared > 0 &&
            `, ${formatBytes(importing.result.bytesShared)} already there (shared)`}
        </span>
      )}
    </div>
  );
}

/** Picks which stored image the stack, tree and details show. */
export function ImagePicker() {
  const library = useAppStore((s) => s.explorer.library);
  const selected = useAppStore((s) => s.ui.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  if (!library || library.images.length === 0) return null;
  return (
    <label className="image-picker">
      <span className="visually-hidden">Image</span>
      <select aria-label="Image" value={selected ?? ""} onChange={(e) => void selectImage(e.target.value)}>
        {library.images.map((i) => (
          <option key={i.id} value={i.id}>
            {i.names[0] ?? i.id.slice(7, 19)} ({i.layers.length} layers)
          </option>
        ))}
      </select>
    </label>
  );
}
