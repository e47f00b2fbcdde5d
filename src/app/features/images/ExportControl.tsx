import { useState } from "react";
import type { ExportFormat } from "../../store/images-slice.ts";
import { useAppStore } from "../../store/index.ts";

const FORMATS = [
  { id: "docker", label: "docker-archive (docker load, skopeo)" },
  { id: "oci", label: "OCI image layout (umoci, skopeo)" },
] as const;

/** Hands a blob to the browser as a download under `fileName`. */
function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  a.click();
  // The download has taken its copy well before this: only then may the URL go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Exports the selected image as an archive that other tools load. */
export function ExportControl() {
  const image = useAppStore((s) => s.explorer.image);
  const exporting = useAppStore((s) => s.exporting);
  const exportImage = useAppStore((s) => s.exportImage);
  const [open, setOpen] = useState(false);
  if (!image) return null;
  const mine = exporting.image === image.image.id;
  const state = mine && exporting.running ? "Exporting…" : mine ? exporting.error : undefined;
  const run = async (format: ExportFormat) => {
    setOpen(false);
    const archive = await exportImage(image.image.id, image.image.names[0], format);
    if (archive) saveBlob(archive.blob, archive.fileName);
  };
  return (
    <div className="export">
      <button
        type="button"
        className="button-quiet"
        aria-expanded={open}
        aria-haspopup="menu"
        onClick={() => setOpen(!open)}
      >
        Export image
      </button>
      {open && (
        <div role="menu" aria-label="Export format" className="menu">
          {FORMATS.map((f) => (
            <button key={f.id} type="button" role="menuitem" onClick={() => void run(f.id)}>
              {f.label}
            </button>
          ))}
        </div>
      )}
      {state && (
        <span role="status" className="muted">
          {state}
        </span>
      )}
    </div>
  );
}
