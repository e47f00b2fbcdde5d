import { shortDigest } from "../../../core/digest.ts";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** `docker history` for the selected image, newest first; rows with a layer select it. */
export function HistoryTable() {
  const image = useAppStore((s) => s.explorer.image);
  const select = useAppStore((s) => s.selectLayer);
  if (!image) return <p className="muted">No image selected.</p>;
  const rows = image.history.map((h, at) => ({ ...h, at })).reverse();
  return (
    <table className="history">
      <caption className="visually-hidden">History of {image.image.names[0] ?? image.image.id}</caption>
      <thead>
        <tr>
          <th scope="col">Layer</th>
          <th scope="col">Created by</th>
          <th scope="col">Size</th>
          <th scope="col">diffId</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.at} className={r.emptyLayer ? "empty-layer" : ""}>
            <td>
              {r.layer === undefined ? (
                "—"
              ) : (
                <button type="button" className="link" onClick={() => select(r.layer!)}>
                  {r.layer + 1}
                </button>
              )}
            </td>
            <td>
              <code>{r.createdBy || "(no history)"}</code>
            </td>
            <td className="num">{r.emptyLayer ? "0 B" : formatBytes(r.size ?? 0)}</td>
            <td>{r.diffId ? <code title={r.diffId}>{shortDigest(r.diffId)}</code> : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The selected image's full config, as `docker inspect` would show its Config. */
export function ConfigView() {
  const image = useAppStore((s) => s.explorer.image);
  if (!image) return <p className="muted">No image selected.</p>;
  return (
    <div>
      <dl className="facts">
        <dt>Image ID</dt>
        <dd>
          <code className="digest">{image.image.id}</code>
        </dd>
        <dt>Names</dt>
        <dd>{image.image.names.join(", ") || "(untagged)"}</dd>
        <dt>Platform</dt>
        <dd>
          {image.image.platform ?? [image.config.os, image.config.architecture].filter(Boolean).join("/")}
        </dd>
        {image.image.notes?.standIn && (
          <>
            <dt>Note</dt>
            <dd>{image.image.notes.standIn}</dd>
          </>
        )}
      </dl>
      <section aria-label="Image config">
        <pre className="file-text">{JSON.stringify(image.config.config ?? {}, null, 2)}</pre>
      </section>
    </div>
  );
}
