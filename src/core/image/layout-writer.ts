import { type TarWriteEntry, writeTar } from "../archive/tar-writer.ts";
import { type Digest, sha256 } from "../digest.ts";
import { type Descriptor, type ImageConfig, type ImageManifest, MediaType } from "./oci.ts";

/** A blob to write into an archive: its digest and size up front, its bytes streamed on demand. */
export interface BlobSource {
  digest: Digest;
  size: number;
  open(): AsyncIterable<Uint8Array>;
}

/** One image to write: config bytes as stored (so the image ID is kept), layer blobs in order. */
export interface ArchiveImage {
  /** name:tag references. */
  names: string[];
  config: Uint8Array;
  layers: (BlobSource & { mediaType: string })[];
  /** The manifest bytes to write; generated (OCI) when absent. */
  manifest?: Uint8Array;
}

/** A blob held in memory. */
export async function memoryBlob(bytes: Uint8Array): Promise<BlobSource> {
  return {
    digest: await sha256(bytes),
    size: bytes.byteLength,
    async *open() {
      yield bytes;
    },
  };
}

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

/** The OCI manifest of an image whose layers are written as given. */
export async function ociManifestFor(image: ArchiveImage): Promise<Uint8Array> {
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: {
      mediaType: MediaType.ociConfig,
      digest: await sha256(image.config),
      size: image.config.byteLength,
    },
    layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return enc(m);
}

/** Splits "repo:tag" (the tag defaults to latest; a digest or port colon is not a tag). */
export function splitReference(name: string): { repo: string; tag: string } {
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > slash) return { repo: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repo: name, tag: "latest" };
}

/** "repo:tag" with the tag made explicit (docker load wants one). */
export function taggedName(name: string): string {
  const { repo, tag } = splitReference(name);
  return `${repo}:${tag}`;
}

/** The fully qualified form containerd and Docker 25+ write (`docker.io/library/x:tag`). */
export function qualifiedName(name: string): string {
  const tagged = taggedName(name);
  const first = tagged.split("/")[0]!;
  const hasDomain =
    tagged.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain) return tagged;
  return tagged.includes("/") ? `docker.io/${tagged}` : `docker.io/library/${tagged}`;
}

interface Planned {
  image: ArchiveImage;
  manifest: Uint8Array;
  manifestDigest: Digest;
  configDigest: Digest;
}

async function plan(images: ArchiveImage[]): Promise<{ planned: Planned[]; blobs: Map<Digest, BlobSource> }> {
  const blobs = new Map<Digest, BlobSource>();
  const planned: Planned[] = [];
  for (const image of images) {
    const manifest = image.manifest ?? (await ociManifestFor(image));
    const configBlob = await memoryBlob(image.config);
    const manifestBlob = await memoryBlob(manifest);
    for (const b of [...image.layers, configBlob, manifestBlob])
      if (!blobs.has(b.digest)) blobs.set(b.digest, b);
    planned.push({ image, manifest, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest });
  }
  return { planned, blobs };
}

function blobEntries(blobs: Map<Digest, BlobSource>): TarWriteEntry[] {
  const sorted = [...blobs.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  return [
    { name: "blobs", type: "dir" },
    { name: "blobs/sha256", type: "dir" },
    ...sorted.map((b) => ({
      name: `blobs/sha256/${b.digest.slice(7)}`,
      size: b.size,
      body: b.open(),
      mode: 0o644,
    })),
  ];
}

function indexJson(planned: Planned[], docker: boolean): Uint8Array {
  const manifests: Descriptor[] = [];
  for (const p of planned) {
    const base = { mediaType: MediaType.ociManifest, digest: p.manifestDigest, size: p.manifest.byteLength };
    const names = p.image.names.length ? p.image.names : [undefined];
    for (const name of names) {
      const annotations: Record<string, string> = {};
      if (name) {
        if (docker) annotations["io.containerd.image.name"] = qualifiedName(name);
        annotations["org.opencontainers.image.ref.name"] = docker ? splitReference(name).tag : name;
      }
      manifests.push(Object.keys(annotations).length ? { ...base, annotations } : base);
    }
  }
  return enc({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
}

const OCI_LAYOUT = enc({ imageLayoutVersion: "1.0.0" });

/**
 * Writes images as Docker 25+ `docker save` does: an OCI layout (blobs, index.json, oci-layout)
 * plus manifest.json and repositories, which `docker load` and skopeo's docker-archive read.
 * Same images in, same bytes out.
 */
export async function* writeDockerArchive(images: ArchiveImage[]): AsyncGenerator<Uint8Array> {
  const { planned, blobs } = await plan(images);
  const manifestJson = planned.map((p) => ({
    Config: `blobs/sha256/${p.configDigest.slice(7)}`,
    RepoTags: p.image.names.map(taggedName),
    Layers: p.image.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
  }));
  const repositories: Record<string, Record<string, string>> = {};
  for (const p of planned) {
    const top = p.image.layers.at(-1);
    if (!top) continue;
    for (const name of p.image.names) {
      const { repo, tag } = splitReference(name);
      repositories[repo] ??= {};
      repositories[repo]![tag] = top.digest.slice(7);
    }
  }
  yield* writeTar([
    ...blobEntries(blobs),
    { name: "index.json", body: indexJson(planned, true) },
    { name: "manifest.json", body: enc(manifestJson) },
    { name: "oci-layout", body: OCI_LAYOUT },
    { name: "repositories", body: enc(repositories) },
  ]);
}

/** Writes images as an OCI image layout archive (oci-layout, index.json, blobs). */
export async function* writeOciArchive(images: ArchiveImage[]): AsyncGenerator<Uint8Array> {
  const { planned, blobs } = await plan(images);
  yield* writeTar([
    { name: "oci-layout", body: OCI_LAYOUT },
    { name: "index.json", body: indexJson(planned, false) },
    ...blobEntries(blobs),
  ]);
}

/** Writes a legacy `docker save` archive (`<id>/layer.tar`, `<id>.json` config, manifest.json). */
export async function* writeLegacyDockerArchive(images: ArchiveImage[]): AsyncGenerator<Uint8Array> {
  const entries: TarWriteEntry[] = [];
  const manifest: unknown[] = [];
  const seen = new Set<string>();
  for (const image of images) {
    const configDigest = await sha256(image.config);
    const layers: string[] = [];
    for (const l of image.layers) {
      const id = l.digest.slice(7);
      layers.push(`${id}/layer.tar`);
      if (seen.has(id)) continue;
      seen.add(id);
      entries.push(
        { name: id, type: "dir" },
        { name: `${id}/VERSION`, body: new TextEncoder().encode("1.0") },
        { name: `${id}/layer.tar`, size: l.size, body: l.open() },
      );
    }
    entries.push({ name: `${configDigest.slice(7)}.json`, body: image.config });
    manifest.push({ Config: `${configDigest.slice(7)}.json`, RepoTags: image.names, Layers: layers });
  }
  entries.push({ name: "manifest.json", body: enc(manifest) });
  yield* writeTar(entries);
}

/** A minimal image config for the given diffIds (synthetic and test images). */
export function minimalConfig(diffIds: Digest[], extra: Partial<ImageConfig> = {}): ImageConfig {
  return {
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    ...extra,
    rootfs: { type: "layers", diff_ids: diffIds },
  };
}
