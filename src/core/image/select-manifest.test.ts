import { describe, expect, it } from "vitest";
import type { Digest } from "../digest.ts";
import { MediaType, type Platform } from "./oci.ts";
import { selectPlatform } from "./select-manifest.ts";

const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}` as Digest;
const manifest = (n: number, platform?: Platform) => ({
  mediaType: MediaType.ociManifest,
  digest: digestOf(n),
  size: 100 + n,
  ...(platform ? { platform } : {}),
});
const linux = (architecture: string, variant?: string): Platform => ({
  os: "linux",
  architecture,
  ...(variant ? { variant } : {}),
});

/** A typical multi-platform index: arm/v7, arm64/v8, amd64 and an attestation manifest. */
const INDEX = [
  manifest(1, linux("arm", "v7")),
  manifest(2, linux("arm64", "v8")),
  manifest(3, linux("amd64")),
  manifest(4, { os: "unknown", architecture: "unknown" }),
];

const chosen = (...n: number[]) => ({
  kind: "chosen",
  manifests: n.map((i) => expect.objectContaining({ digest: digestOf(i) })),
});

describe("selectPlatform", () => {
  it.each([
    [undefined, 3], // linux/amd64 by default
    ["linux/amd64", 3],
    ["linux/arm64", 2], // no variant asked: any variant matches
    ["linux/arm64/v8", 2],
    ["linux/arm/v7", 1],
    ["linux/arm", 1],
  ])("asked for %s, takes manifest %i", (requested, n) => {
    expect(selectPlatform(INDEX, requested)).toEqual(chosen(n));
  });

  it("refuses a platform the index lacks, naming those it has (attestations left out)", () => {
    expect(selectPlatform(INDEX, "linux/s390x")).toEqual({
      kind: "platform-missing",
      requested: "linux/s390x",
      present: ["linux/arm/v7", "linux/arm64/v8", "linux/amd64"],
    });
    expect(selectPlatform(INDEX, "linux/arm64/v9").kind).toBe("platform-missing");
  });

  it("without amd64, takes the first manifest with a platform when none is asked for", () => {
    expect(selectPlatform([INDEX[3]!, INDEX[1]!, INDEX[0]!])).toEqual(chosen(2));
  });

  it("never takes a manifest that is absent: the next wanted one is taken instead", () => {
    const absent = new Set([digestOf(3)]);
    const isPresent = (d: { digest: Digest }) => !absent.has(d.digest);
    expect(selectPlatform(INDEX, undefined, isPresent)).toEqual(chosen(1));
    expect(selectPlatform(INDEX, "linux/amd64", isPresent).kind).toBe("platform-missing");
    expect(selectPlatform(INDEX, undefined, () => false)).toEqual({ kind: "none-present" });
  });

  it("takes every manifest when none names a platform, skipping invalid digests", () => {
    const bad = { ...manifest(9), digest: "sha256:nothex" as Digest };
    expect(selectPlatform([manifest(5), bad, manifest(6)])).toEqual(chosen(5, 6));
    expect(selectPlatform([bad])).toEqual({ kind: "none-present" });
    expect(selectPlatform([])).toEqual({ kind: "none-present" });
  });

  it("is pure: the same answer twice, and the descriptors untouched", () => {
    const before = JSON.stringify(INDEX);
    expect(selectPlatform(INDEX, "linux/arm")).toEqual(selectPlatform(INDEX, "linux/arm"));
    expect(JSON.stringify(INDEX)).toBe(before);
  });
});
