import type { Digest } from "../digest.ts";
import type { MetaBatch, MetaStore } from "../store/types.ts";

/** What happened to one blob in a transfer. */
export type BlobOutcome =
  /** Its bytes came from the registry. */
  | "received"
  /** Its bytes went to the registry. */
  | "sent"
  /** The other side already had it: nothing moved. */
  | "skipped"
  /** The registry linked it from another repository of its own: nothing moved. */
  | "mounted";

/** One blob of a transfer: a layer, the config or the manifest. */
export interface BlobTransfer {
  role: "layer" | "config" | "manifest";
  digest: Digest;
  mediaType: string;
  /** Bytes of the blob. */
  size: number;
  outcome: BlobOutcome;
  /** Bytes that actually crossed the wire for it (0 when skipped or mounted). */
  bytesMoved: number;
}

/** Count and bytes of blobs of one outcome. */
export interface OutcomeTotal {
  count: number;
  bytes: number;
}

/** What one pull or push moved, kept with the image's history so two transfers can be compared. */
export interface TransferRecord {
  kind: "pull" | "push";
  /** The full reference (`docker.io/library/ubuntu:20.04`). */
  reference: string;
  registry: string;
  repository: string;
  /** The manifest digest pulled or pushed. */
  manifestDigest: Digest;
  /** The image (config digest) in the store. */
  image: Digest;
  startedAt: number;
  finishedAt: number;
  /** Every blob, layers bottom first, then the config and the manifest. */
  blobs: BlobTransfer[];
  totals: Record<BlobOutcome, OutcomeTotal>;
  /** HTTP requests sent, by method (and TOKEN for token fetches). */
  requests: Record<string, number>;
}

/** Sums a transfer's blobs by outcome (bytes are blob sizes; bytesMoved says what crossed). */
export function sumTransfers(blobs: readonly BlobTransfer[]): Record<BlobOutcome, OutcomeTotal> {
  const totals: Record<BlobOutcome, OutcomeTotal> = {
    received: { count: 0, bytes: 0 },
    sent: { count: 0, bytes: 0 },
    skipped: { count: 0, bytes: 0 },
    mounted: { count: 0, bytes: 0 },
  };
  for (const b of blobs) {
    totals[b.outcome].count++;
    totals[b.outcome].bytes += b.size;
  }
  return totals;
}

/** The kv key holding an image's transfers, newest last. */
export function transfersKey(image: Digest): string {
  return `registry-transfers:${image}`;
}

const KEEP = 20;

/** Reads the transfers kept with an image. */
export async function readTransfers(meta: MetaStore, image: Digest): Promise<TransferRecord[]> {
  return ((await meta.get("kv", transfersKey(image)))?.value as TransferRecord[] | undefined) ?? [];
}

/** A batch put that appends a transfer to its image's history (the last 20 are kept). */
export async function appendTransferPut(
  meta: MetaStore,
  record: TransferRecord,
): Promise<NonNullable<MetaBatch["put"]>["kv"]> {
  const prev = await readTransfers(meta, record.image);
  return [{ id: transfersKey(record.image), value: [...prev, record].slice(-KEEP) }];
}
