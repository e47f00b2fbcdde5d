import { describe, expect, it } from "vitest";
import { sumTransfers, type TransferRecord } from "../../../core/registry/transfer.ts";
import { blobName, blobState, layerTransfer, summarizeTransfer } from "./transfer-text.ts";

const D = (n: number) => `sha256:${String(n).repeat(64)}` as const;

function push(outcomes: ("sent" | "skipped" | "mounted")[]): TransferRecord {
  const blobs: TransferRecord["blobs"] = [
    ...outcomes.map((outcome, i) => ({
      role: "layer" as const,
      digest: D(i + 1),
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      size: 1000 * (i + 1),
      outcome,
      bytesMoved: outcome === "sent" ? 1000 * (i + 1) : 0,
    })),
    { role: "manifest", digest: D(9), mediaType: "m", size: 500, outcome: "sent", bytesMoved: 500 },
  ];
  return {
    kind: "push",
    reference: "127.0.0.1:5000/example:v1",
    registry: "127.0.0.1:5000",
    repository: "example",
    manifestDigest: D(9),
    image: D(8),
    startedAt: 1000,
    finishedAt: 3500,
    blobs,
    totals: sumTransfers(blobs),
    requests: {},
  };
}

describe("transfer text", () => {
  it("names blobs by role, position and short digest, as the progress bars are named", () => {
    expect(blobName({ role: "layer", index: 1, digest: D(3) })).toBe("Layer 2 333333333333");
    expect(blobName({ role: "config", digest: D(4) })).toBe("Config 444444444444");
    expect(blobName({ role: "manifest", digest: D(5) })).toBe("Manifest 555555555555");
  });

  it("says how a blob stands: checking, bytes of size, or its outcome with bytes", () => {
    const row = { role: "layer" as const, index: 0, digest: D(1), size: 2000, bytes: 1000 };
    expect(blobState({ ...row, state: "checking" })).toBe("checking…");
    expect(blobState({ ...row, state: "moving" })).toBe("1.00 kB of 2.00 kB");
    expect(blobState({ ...row, state: "done", outcome: "sent" })).toBe("sent 2.00 kB");
    expect(blobState({ ...row, state: "done", outcome: "skipped" })).toBe("already there (2.00 kB)");
    expect(blobState({ ...row, state: "done", outcome: "mounted" })).toBe("mounted (2.00 kB)");
    // The transfer ended (failed or cancelled) before these did.
    expect(blobState({ ...row, state: "moving" }, false)).toBe("stopped at 1.00 kB");
    expect(blobState({ ...row, state: "checking", bytes: 0 }, false)).toBe("stopped");
    expect(blobState({ ...row, state: "done", outcome: "sent" }, false)).toBe("sent 2.00 kB");
  });

  it("sums a push: sent, already there and mounted, with the bytes that crossed the wire", () => {
    expect(summarizeTransfer(push(["sent", "skipped", "mounted"]))).toBe(
      `Pushed 127.0.0.1:5000/example:v1 in 2.5 s: 2 sent (1.50 kB), 1 already there (2.00 kB), 1 mounted (3.00 kB) of 4 blobs; 1.50 kB crossed the wire. Manifest ${D(9)}.`,
    );
  });

  it("gives each layer of the newest transfer, and nothing when the layers do not line up", () => {
    const records = [push(["sent", "sent"]), push(["skipped", "mounted"])];
    expect(layerTransfer(records, 0, 2)?.blob.outcome).toBe("skipped");
    expect(layerTransfer(records, 1, 2)?.blob.outcome).toBe("mounted");
    expect(layerTransfer(records, 2, 2)).toBeUndefined();
    expect(layerTransfer(records, 0, 3)).toBeUndefined();
    expect(layerTransfer([], 0, 2)).toBeUndefined();
  });
});
