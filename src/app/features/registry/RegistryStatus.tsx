import { useEffect } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";
import { RegistryFormBar } from "./RegistryControls.tsx";
import { blobName, blobState, summarizeTransfer } from "./transfer-text.ts";
import "./registry.css";

/**
 * Under the top bar: the open Pull or Push form, then the pull or push under way: one progress bar per blob (named by its short digest), the speed
 * and Cancel; then how it ended, from the transfer's record or the registry's error.
 */
export function RegistryStatus() {
  const transfer = useAppStore((s) => s.registry.transfer);
  const cancel = useAppStore((s) => s.cancelTransfer);
  const dismiss = useAppStore((s) => s.dismissTransfer);
  const imageId = useAppStore((s) => s.explorer.image?.image.id);
  const loadTransfers = useAppStore((s) => s.loadTransfers);
  // The shown image's transfers feed the stack's badges and the Transfers tab.
  useEffect(() => {
    void loadTransfers(imageId);
  }, [imageId, loadTransfers]);
  if (!transfer) return <RegistryFormBar />;
  const verb = transfer.kind === "pull" ? "Pulling" : "Pushing to";
  return (
    <>
      <RegistryFormBar />
      <section className="registry-status" aria-label="Registry transfer">
        <div className="registry-status-head">
          <strong>
            {transfer.running ? verb : transfer.kind === "pull" ? "Pull of" : "Push to"} {transfer.reference}
          </strong>
          <span className="muted" data-testid="registry-speed">
            {formatBytes(transfer.bytesMoved)} moved · {formatBytes(transfer.bytesPerSecond)}/s
          </span>
          {transfer.running ? (
            <button type="button" className="button-quiet" onClick={cancel}>
              Cancel
            </button>
          ) : (
            <button type="button" className="button-quiet" onClick={dismiss}>
              Dismiss
            </button>
          )}
        </div>
        {transfer.running && transfer.blobs.length === 0 && (
          <p className="muted" role="status">
            {transfer.kind === "pull"
              ? "Reading the manifest…"
              : "Preparing the layers (compressing any stored only as tars)…"}
          </p>
        )}
        <ul className="registry-blobs" aria-label="Blobs">
          {transfer.blobs.map((b) => {
            const name = blobName(b);
            return (
              <li
                key={`${b.role}-${b.index ?? ""}-${b.digest}`}
                className={`registry-blob is-${b.outcome ?? b.state}`}
              >
                <span className="registry-blob-name">{name}</span>
                <progress
                  aria-label={name}
                  max={Math.max(1, b.size)}
                  value={b.state === "done" ? Math.max(1, b.size) : b.bytes}
                />
                <span className="registry-blob-state">{blobState(b, transfer.running)}</span>
              </li>
            );
          })}
        </ul>
        {!transfer.running && transfer.record && (
          <p className="registry-done" role="status">
            {summarizeTransfer(transfer.record)}
          </p>
        )}
        {!transfer.running && transfer.error && (
          <p className="registry-error" role="alert">
            {transfer.cancelled
              ? `${transfer.kind === "pull" ? "Pull" : "Push"} cancelled.${transfer.kind === "pull" ? " No image was stored; layers already verified are kept for the next try." : ""}`
              : transfer.error}
          </p>
        )}
      </section>
    </>
  );
}
