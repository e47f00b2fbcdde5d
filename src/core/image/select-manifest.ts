/**
 * Manifest and platform selection: which images an archive's manifests describe, and which
 * manifest of an index serves the wanted platform. `selectPlatform` is a pure function of an
 * index's descriptors (a registry pull follows an index to its platform the same way); the import
 * passes it what its archive holds and turns a refusal into an ArchiveError.
 */
import { type Digest, isDigest } from "../digest.ts";
import { ArchiveError } from "../errors.ts";
import { type ArchiveScan, type Entry, normalizeArchivePath } from "./archive-scan.ts";
import {
  type Descriptor,
  type DockerArchiveManifestEntry,
  formatPlatform,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
} from "./oci.ts";

/** The platform an import takes when none is asked for and the index has it. */
export const DEFAULT_PLATFORM = "linux/amd64";

/** What selectPlatform chose of an index's manifests. */
export type PlatformChoice =
  /** One manifest, or every present one when none of them names a platform. */
  | { kind: "chosen"; manifests: Descriptor[] }
  /** No manifest is usable: none has a valid digest and a known platform and is present. */
  | { kind: "none-present" }
  /** The requested platform is not among the present ones (formatted, in index order). */
  | { kind: "platform-missing"; requested: string; present: string[] };

/**
 * Picks the manifest of an index for a platform, as `docker pull --platform` would: the requested
 * platform ("os/arch" or "os/arch/variant"; without a variant any variant matches), else
 * linux/amd64, else the first manifest with a platform. Manifests with an invalid digest, of
 * platform unknown/unknown (attestations) or that `isPresent` says are absent are never chosen.
 * Pure: no I/O, the same answer for the same descriptors.
 */
export function selectPlatform(
  manifests: readonly Descriptor[],
  requested?: string,
  isPresent: (d: Descriptor) => boolean = () => true,
): PlatformChoice {
  const present = manifests.filter((d) => {
    if (!isDigest(d.digest)) return false;
    if (d.platform && (d.platform.os === "unknown" || d.platform.architecture === "unknown")) return false;
    return isPresent(d);
  });
  if (present.length === 0) return { kind: "none-present" };
  const withPlatform = present.filter((d) => d.platform);
  if (withPlatform.length === 0) return { kind: "chosen", manifests: present };
  const want = requested ?? DEFAULT_PLATFORM;
  const hit = withPlatform.find((d) => formatPlatform(d.platform!) === want || platformMatches(d, want));
  if (hit) return { kind: "chosen", manifests: [hit] };
  if (requested) {
    return {
      kind: "platform-missing",
      requested,
      present: withPlatform.map((d) => formatPlatform(d.platform!)),
    };
  }
  return { kind: "chosen", manifests: [withPlatform[0]!] };
}

/** Whether a descriptor's platform is `os/arch[/variant]` (no variant asked: any variant). */
export function platformMatches(d: Descriptor, want: string): boolean {
  const [os, arch, variant] = want.split("/");
  return (
    d.platform !== undefined &&
    d.platform.os === os &&
    d.platform.architecture === arch &&
    (!variant || d.platform.variant === variant)
  );
}

/** selectPlatform over an archive's index: present means in the archive with its config and layers. */
function pickPlatform(
  imp: ArchiveScan,
  manifests: readonly Descriptor[],
  from: string,
  requested: string | undefined,
): Descriptor[] {
  const choice = selectPlatform(manifests, requested, (d) => imp.isComplete(d.digest));
  switch (choice.kind) {
    case "chosen":
      return choice.manifests;
    case "none-present":
      throw new ArchiveError("index names no manifest present in the archive", { entry: from });
    case "platform-missing":
      throw new ArchiveError(
        `platform ${choice.requested} is not in the archive (present: ${choice.present.join(", ")})`,
        { entry: from },
      );
  }
}

/** An image found in the archive's manifests, before it is stored. */
export interface FoundImage {
  names: string[];
  manifest: { digest?: Digest; json?: ImageManifest; from: string };
  configEntry: Entry;
  layerEntries: Entry[];
  platform?: string;
}

function namesFromAnnotations(a: Record<string, string> | undefined): string[] {
  if (!a) return [];
  const full = a["io.containerd.image.name"];
  if (full) return [full];
  const ref = a["org.opencontainers.image.ref.name"];
  return ref ? [ref] : [];
}

/**
 * The images an archive's manifests describe (index.json, else docker's manifest.json), with one
 * platform chosen of each multi-platform image (selectPlatform) and each entry they name found.
 */
export function findImages(imp: ArchiveScan, requested: string | undefined): FoundImage[] {
  const found: FoundImage[] = [];
  const dockerManifest = imp.byPath.get("manifest.json");
  const dockerEntries = dockerManifest
    ? imp.json<DockerArchiveManifestEntry[]>(dockerManifest, "manifest.json")
    : undefined;
  if (dockerEntries !== undefined && !Array.isArray(dockerEntries)) {
    throw new ArchiveError("manifest.json is not a list of images", { entry: "manifest.json" });
  }
  const tagsByConfig = new Map<Entry, string[]>();
  for (const d of dockerEntries ?? []) {
    if (typeof d?.Config !== "string" || !Array.isArray(d.Layers)) {
      throw new ArchiveError("manifest.json entry lacks Config or Layers", { entry: "manifest.json" });
    }
    const cfg = imp.resolvePath(normalizeArchivePath(d.Config, "manifest.json"), "manifest.json");
    tagsByConfig.set(cfg, [...(tagsByConfig.get(cfg) ?? []), ...(d.RepoTags ?? [])]);
  }
  const indexEntry = imp.byPath.get("index.json");
  if (indexEntry) {
    const index = imp.json<ImageIndex>(indexEntry, "index.json");
    if (!Array.isArray(index?.manifests))
      throw new ArchiveError("index.json has no manifests list", { entry: "index.json" });
    const walk = (desc: Descriptor, names: string[], from: string, depth: number) => {
      if (depth > 8) throw new ArchiveError("indexes nested too deeply", { entry: from }, "ARCHIVE_HOSTILE");
      if (!isDigest(desc.digest)) throw new ArchiveError(`invalid digest '${desc.digest}'`, { entry: from });
      const entry = imp.blob(desc.digest, from);
      const doc = imp.json<ImageManifest & ImageIndex>(entry, from);
      if (
        isIndexMediaType(desc.mediaType) ||
        isIndexMediaType(doc.mediaType) ||
        Array.isArray(doc.manifests)
      ) {
        for (const child of pickPlatform(imp, doc.manifests ?? [], entry.path, requested))
          walk(child, names, entry.path, depth + 1);
        return;
      }
      if (!doc.config || !Array.isArray(doc.layers)) {
        throw new ArchiveError("manifest lacks config or layers", { entry: entry.path });
      }
      if (!isDigest(doc.config.digest))
        throw new ArchiveError("invalid config digest", { entry: entry.path });
      const configEntry = imp.blob(doc.config.digest, entry.path);
      const layerEntries = doc.layers.map((l) => {
        if (!isDigest(l.digest))
          throw new ArchiveError(`invalid layer digest '${l.digest}'`, { entry: entry.path });
        return imp.blob(l.digest, entry.path);
      });
      found.push({
        names: [...names, ...(tagsByConfig.get(configEntry) ?? [])],
        manifest: { digest: desc.digest, json: doc, from: entry.path },
        configEntry,
        layerEntries,
        platform: desc.platform ? formatPlatform(desc.platform) : undefined,
      });
    };
    // Descriptors of one name with platforms are one multi-platform image: pick one of them.
    const groups = new Map<string, Descriptor[]>();
    for (const d of index.manifests) {
      const key = d.platform ? namesFromAnnotations(d.annotations).join(",") : `#${groups.size}`;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const group of groups.values()) {
      const chosen = group.length > 1 ? pickPlatform(imp, group, "index.json", requested) : group;
      for (const d of chosen) walk(d, namesFromAnnotations(d.annotations), "index.json", 0);
    }
    return dedupe(found);
  }
  if (!dockerEntries) {
    throw new ArchiveError("not an image archive: it has neither index.json nor manifest.json", {
      entry: "index.json",
    });
  }
  for (const d of dockerEntries) {
    const configEntry = imp.resolvePath(normalizeArchivePath(d.Config, "manifest.json"), "manifest.json");
    const layerEntries = d.Layers.map((l) =>
      imp.resolvePath(normalizeArchivePath(l, "manifest.json"), "manifest.json"),
    );
    found.push({
      names: d.RepoTags ?? [],
      manifest: { from: "manifest.json" },
      configEntry,
      layerEntries,
    });
  }
  return dedupe(found);
}

function dedupe(images: FoundImage[]): FoundImage[] {
  const out = new Map<string, FoundImage>();
  for (const im of images) {
    const key = `${im.manifest.digest ?? ""}|${im.configEntry.path}|${im.layerEntries.map((l) => l.path).join(",")}`;
    const prev = out.get(key);
    if (prev) prev.names = [...new Set([...prev.names, ...im.names])];
    else out.set(key, { ...im, names: [...new Set(im.names)] });
  }
  return [...out.values()];
}
