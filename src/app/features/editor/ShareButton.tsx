import { useState } from "react";
import { useAppStore } from "../../store/index.ts";
import { shareLink } from "../../url-state.ts";

/** Copies a link that opens LayerLab with this Dockerfile (compressed into the URL fragment). */
export function ShareButton() {
  const [copied, setCopied] = useState<string>();
  return (
    <>
      <button
        type="button"
        className="button-quiet"
        onClick={async () => {
          const link = shareLink(useAppStore.getState().editor.text);
          try {
            await navigator.clipboard.writeText(link);
            setCopied("Link copied");
          } catch {
            setCopied(link);
          }
          setTimeout(() => setCopied(undefined), 4000);
        }}
      >
        Share
      </button>
      {copied && (
        <span role="status" className="share-status">
          {copied}
        </span>
      )}
    </>
  );
}
