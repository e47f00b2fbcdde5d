import { useState } from "react";
import { useAppStore } from "../../store/index.ts";
import { workerClient } from "../../store/worker.ts";

const FORMATS = [
  { id: "docker", label: "docker-archive (docker load, skopeo)" },
  { id: "oci", label: "OCI image layout (umoci, skopeo)" },
] as const;

function fileName(name: string | undefined, id: string, format: string): string {
  const base = (name ?? id.slice(7, 19))
    .replace(/^docker\.io\/library\//, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${base}${format === "oci" ? ".oci" : ""}.tar`;
}

/** Exports the selected image as an archive that other tools load. */
export function ExportControl() {
  const image = useAppStore((s) => s.explorer.image);
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<string>();
  if (!image) return null;
  const run = async (format: "docker" | "oci") => {
    setOpen(false);
    setState("Exporting…");
    try {
      const blob = await workerClient().call("image.export", { id: image.image.id, format });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = fileName(image.image.names[0], image.image.id, format);
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState(undefined);
    } catch (err) {
      setState(`Export failed: ${(err as Error).message}`);
    }
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
