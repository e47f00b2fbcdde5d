/** How registry transfers are said on screen: one set of words for the panel, the stack and the list. */
import { shortDigest } from "../../../core/digest.ts";
import { formatBytes } from "../../../core/format.ts";
import type { BlobOutcome, BlobTransfer, TransferRecord } from "../../../worker/protocol.ts";
import type { BlobRow } from "../../store/registry-slice.ts";

/** The words for an outcome: what a learner reads beside a layer. */
export const OUTCOME_WORDS: Record<BlobOutcome, string> = {
  received: "received",
  sent: "sent",
  skipped: "already there",
  mounted: "mounted",
};

/** The outcomes a kind of transfer can have, in the order they are listed. */
export const OUTCOMES_OF: Record<TransferRecord["kind"], BlobOutcome[]> = {
  pull: ["received", "skipped"],
  push: ["sent", "skipped", "mounted"],
};

/** A blob's name: `Layer 2 3e4acca49512`, `Config …`, `Manifest …` (progress bars are named so). */
export function blobName(b: Pick<BlobRow, "role" | "index" | "digest">): string {
  const what =
    b.role === "layer" ? `Layer ${(b.index ?? 0) + 1}` : b.role === "config" ? "Config" : "Manifest";
  return `${what} ${shortDigest(b.digest)}`;
}

/**
 * How one blob stands: `checking…`, `1.2 MB of 3.4 MB`, `sent 3.4 MB`, `already there (3.4 MB)`;
 * `stopped` for one left unfinished when the transfer failed or was cancelled.
 */
export function blobState(b: BlobRow, running = true): string {
  if (b.state !== "done" && !running) return b.bytes > 0 ? `stopped at ${formatBytes(b.bytes)}` : "stopped";
  if (b.state === "checking") return "checking…";
  if (b.state === "moving") return `${formatBytes(b.bytes)} of ${formatBytes(b.size)}`;
  return outcomeText(b.outcome ?? "received", b.size);
}

/** An outcome with its bytes: bytes moved for received and sent, the blob's size for the others. */
export function outcomeText(outcome: BlobOutcome, size: number): string {
  return outcome === "received" || outcome === "sent"
    ? `${OUTCOME_WORDS[outcome]} ${formatBytes(size)}`
    : `${OUTCOME_WORDS[outcome]} (${formatBytes(size)})`;
}

/** `3 · 12.3 MB`: a count of blobs and their bytes. */
export function countText(t: { count: number; bytes: number }): string {
  return `${t.count} · ${formatBytes(t.bytes)}`;
}

/** The sentence a finished transfer ends with, from its record. */
export function summarizeTransfer(r: TransferRecord): string {
  const verb = r.kind === "pull" ? "Pulled" : "Pushed";
  const seconds = Math.max(0, r.finishedAt - r.startedAt) / 1000;
  const parts = OUTCOMES_OF[r.kind].map((o) => {
    const t = r.totals[o];
    return `${t.count} ${OUTCOME_WORDS[o]}${t.count ? ` (${formatBytes(t.bytes)})` : ""}`;
  });
  const moved = r.blobs.reduce((n, b) => n + b.bytesMoved, 0);
  return `${verb} ${r.reference} in ${seconds.toFixed(1)} s: ${parts.join(", ")} of ${r.blobs.length} blobs; ${formatBytes(moved)} crossed the wire. Manifest ${r.manifestDigest}.`;
}

/**
 * What the newest transfer of an image did with layer `layer` (bottom first), or undefined when
 * there is none or it does not line up with the image's `layerCount` layers.
 */
export function layerTransfer(
  records: readonly TransferRecord[],
  layer: number,
  layerCount: number,
): { record: TransferRecord; blob: BlobTransfer } | undefined {
  const record = records.at(-1);
  if (!record) return undefined;
  const layers = record.blobs.filter((b) => b.role === "layer");
  if (layers.length !== layerCount) return undefined;
  const blob = layers[layer];
  return blob ? { record, blob } : undefined;
}
