import { shortDigest } from "../../../core/digest.ts";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";
import { ImageCompare } from "./ImageCompare.tsx";

/** Every stored image, its layers as blocks, layers shared with other images marked, and the bytes saved. */
export function ImageLibrary() {
  const library = useAppStore((s) => s.explorer.library);
  const selected = useAppStore((s) => s.ui.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  const deleteImage = useAppStore((s) => s.deleteImage);
  if (!library || library.images.length === 0) {
    return <p className="muted">No images yet. Build the Dockerfile or import an image archive.</p>;
  }
  return (
    <div className="library">
      <p className="library-summary" data-testid="library-summary">
        {library.images.length} image{library.images.length === 1 ? "" : "s"} ·{" "}
        {formatBytes(library.logicalBytes)} of layers, {formatBytes(library.storedBytes)} stored ·{" "}
        <strong>{formatBytes(library.savedBytes)} saved by sharing</strong>
      </p>
      <ul className="library-list" aria-label="Images">
        {library.images.map((img) => (
          <li key={img.id} aria-current={img.id === selected ? "true" : undefined}>
            <button type="button" className="library-pick" onClick={() => void selectImage(img.id)}>
              <strong>{img.names[0] ?? shortDigest(img.id)}</strong>
              <span className="muted">
                {img.source} · {img.layers.length} layer{img.layers.length === 1 ? "" : "s"} ·{" "}
                {formatBytes(img.size)}
              </span>
            </button>
            <span className="library-layers" aria-hidden="true">
              {img.layers.map((l) => (
                <span
                  key={l.id}
                  className={l.sharedWith > 0 ? "block shared" : "block"}
                  title={`${shortDigest(l.id)} · ${formatBytes(l.size)}${l.sharedWith ? ` · shared with ${l.sharedWith}` : ""}`}
                  style={{ flexGrow: Math.max(1, Math.log10(1 + l.size)) }}
                />
              ))}
            </span>
            <button
              type="button"
              className="button-quiet"
              aria-label={`Delete image ${img.names[0] ?? shortDigest(img.id)}`}
              onClick={() => {
                if (confirm(`Delete ${img.names[0] ?? shortDigest(img.id)}? Layers other images use stay.`))
                  void deleteImage(img.id);
              }}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      {library.images.length > 1 && <ImageCompare library={library} first={selected} />}
    </div>
  );
}
