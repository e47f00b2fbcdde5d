import { useEffect } from "react";
import { formatBytes } from "../../../core/format.ts";
import { EMBEDDED_REGISTRY_HOST } from "../../../core/registry/endpoints.ts";
import { useAppStore } from "../../store/index.ts";

/**
 * The embedded registry as "another machine" beside this browser's images: its own blobs and
 * bytes, its repositories and tags, and a way to empty it.
 */
export function EmbeddedRegistryPanel() {
  const reg = useAppStore((s) => s.embeddedRegistry);
  const refresh = useAppStore((s) => s.refreshEmbeddedRegistry);
  const clear = useAppStore((s) => s.clearEmbeddedRegistry);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const st = reg.status;
  const repos = st?.repositories ?? [];
  return (
    <section
      className="embedded-registry"
      aria-labelledby="embedded-registry-title"
      data-testid="embedded-registry"
    >
      <p className="embedded-registry-summary">
        <strong id="embedded-registry-title">Embedded registry (another machine):</strong>{" "}
        <span data-testid="embedded-registry-summary">
          {st
            ? `${st.blobs} ${st.blobs === 1 ? "blob" : "blobs"}, ${formatBytes(st.bytes)}`
            : reg.error
              ? "unavailable"
              : "starting…"}
        </span>
        <span className="muted">
          {" "}
          · a registry this page serves over a store of its own, as <code>{EMBEDDED_REGISTRY_HOST}</code>
        </span>
      </p>
      {repos.length > 0 && (
        <ul className="embedded-registry-repos" aria-label="Embedded registry repositories">
          {repos.map((r) => (
            <li key={r.name}>
              <code>
                {EMBEDDED_REGISTRY_HOST}/{r.name}
              </code>
              {r.tags.length > 0 ? `: ${r.tags.join(", ")}` : " (no tags)"}
            </li>
          ))}
        </ul>
      )}
      {reg.error && (
        <p role="alert" className="error">
          {reg.error}
        </p>
      )}
      <button
        type="button"
        className="button-quiet"
        disabled={reg.busy || !st || st.blobs === 0}
        onClick={() => {
          if (confirm("Remove every image the embedded registry holds?")) void clear();
        }}
      >
        Clear embedded registry
      </button>
    </section>
  );
}
