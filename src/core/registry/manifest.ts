/** Fetching and checking manifests and small blobs: size limits, media types and digests. */
import { collectAtMost } from "../archive/bytes.ts";
import { type Digest, isDigest, sha256 } from "../digest.ts";
import { type ImageIndex, type ImageManifest, MediaType } from "../image/oci.ts";
import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";

/** Manifests larger than this are refused (the limit CNCF distribution and containerd use). */
export const MANIFEST_MAX_BYTES = 4 * 2 ** 20;
/** Configs larger than this are refused. */
export const CONFIG_MAX_BYTES = 16 * 2 ** 20;

/** The manifest media types a pull asks for, best first. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(", ");

const LAYER_TYPES = new Set<string>([
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
  MediaType.ociLayerZstd,
  MediaType.dockerLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.docker.image.rootfs.diff.tar.zstd",
]);

/** Whether a layer media type is one LayerLab can pull and read. */
export function isLayerMediaType(mt: string): boolean {
  return LAYER_TYPES.has(mt);
}

/** A manifest or index as fetched: its bytes, digest and parsed document. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
  doc: ImageManifest | ImageIndex;
  isIndex: boolean;
}

/** Reads a response body up to `limit` bytes, refusing more (checked before and while reading). */
export async function readLimited(
  res: Response,
  limit: number,
  what: string,
  registry: string,
): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "");
  const tooLarge = () =>
    new RegistryError(
      "too-large",
      `${what} is larger than LayerLab accepts (${limit} bytes): refusing it. An image this big in metadata is almost certainly not a real image.`,
      { registry },
    );
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const bytes = res.body
    ? await collectAtMost(res.body as ReadableStream<Uint8Array>, limit)
    : new Uint8Array(0);
  if (!bytes) throw tooLarge();
  return bytes;
}

/**
 * GETs a manifest by tag or digest, checks its size, its media type, the registry's
 * Docker-Content-Digest and (when asked by digest) the digest of its bytes.
 */
export async function fetchManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  scopes: string[],
  signal?: AbortSignal,
): Promise<FetchedManifest> {
  const byDigest = isDigest(reference);
  const what = `manifest ${reference}`;
  const res = await client.send({
    method: "GET",
    url: `/v2/${repository}/manifests/${reference}`,
    headers: { Accept: MANIFEST_ACCEPT },
    scopes,
    what: `${what} of ${repository}`,
    ...(signal ? { signal } : {}),
  });
  const bytes = await readLimited(res, MANIFEST_MAX_BYTES, what, client.domain);
  const digest = await sha256(bytes);
  const ctx = { registry: client.domain, repository };
  if (byDigest && digest !== reference) {
    throw new RegistryError(
      "digest-mismatch",
      `${what}: the registry sent bytes whose digest is ${digest}. Nothing was stored; try again, and if it repeats something alters the data on the way.`,
      ctx,
    );
  }
  const announced = res.headers.get("docker-content-digest");
  if (announced?.startsWith("sha256:") && announced !== digest) {
    throw new RegistryError(
      "digest-mismatch",
      `${what}: the registry announced digest ${announced} but the bytes hash to ${digest}. Nothing was stored.`,
      ctx,
    );
  }
  let doc: ImageManifest & ImageIndex;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new RegistryError("protocol", `${what} is not valid JSON: ${(err as Error).message}`, ctx);
  }
  if (doc === null || typeof doc !== "object")
    throw new RegistryError("protocol", `${what} is not a JSON object`, ctx);
  const header = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const mediaType =
    typeof doc.mediaType === "string" && doc.mediaType
      ? doc.mediaType
      : header && header !== "application/json"
        ? header
        : Array.isArray(doc.manifests)
          ? MediaType.ociIndex
          : MediaType.ociManifest;
  const isIndex = mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
  const isManifest = mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
  if (!isIndex && !isManifest) {
    const schema1 = mediaType.includes("manifest.v1");
    throw new RegistryError(
      "unsupported",
      schema1
        ? `${what} is a Docker schema 1 manifest, which was retired in 2019: LayerLab reads only schema 2 and OCI images. Push the image again with a current Docker.`
        : `${what} has media type '${mediaType}', which is not an image (LayerLab reads OCI and Docker schema 2 images and indexes).`,
      ctx,
    );
  }
  if (isIndex && !Array.isArray(doc.manifests))
    throw new RegistryError("protocol", `${what} is an index without a manifests list`, ctx);
  if (isManifest) checkManifest(doc, what, ctx);
  return { bytes, digest, mediaType, doc, isIndex };
}

function checkManifest(
  doc: ImageManifest,
  what: string,
  ctx: { registry: string; repository: string },
): void {
  const bad = (why: string) => new RegistryError("protocol", `${what}: ${why}`, ctx);
  if (!doc.config || !isDigest(doc.config.digest)) throw bad("it names no valid config");
  if (!Array.isArray(doc.layers)) throw bad("it has no layers list");
  for (const d of [doc.config, ...doc.layers]) {
    if (!isDigest(d?.digest)) throw bad(`'${String(d?.digest)}' is not a sha256 digest`);
    if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0)
      throw bad(`blob ${d.digest} has no valid size`);
  }
  for (const l of doc.layers) {
    if (!isLayerMediaType(l.mediaType)) {
      throw new RegistryError(
        "unsupported",
        `${what}: layer ${l.digest} has media type '${l.mediaType}', which LayerLab cannot read (foreign, non-distributable or not a tar). Nothing was stored.`,
        ctx,
      );
    }
  }
}
