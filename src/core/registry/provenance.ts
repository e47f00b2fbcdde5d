/**
 * Where blobs came from and went to: for each blob, the repositories of registries known to hold
 * it. A push asks a registry to mount a blob from another of its repositories that holds it
 * instead of uploading it again. And the gzip a tar-only layer was compressed to, so a second
 * push sends the same digest.
 */
import type { Digest } from "../digest.ts";
import type { KvRecord, MetaStore } from "../store/types.ts";

const SOURCE = "registry-blob-sources:";
const COMPRESSED = "registry-compressed:";
const KEEP = 16;

/** `domain/repository` names known to hold a blob, newest first. */
export async function readBlobSources(meta: MetaStore, digest: Digest): Promise<string[]> {
  return ((await meta.get("kv", `${SOURCE}${digest}`))?.value as string[] | undefined) ?? [];
}

/** Records (as batch puts) that these blobs are held by `domain/repository`. */
export async function blobSourcePuts(
  meta: MetaStore,
  digests: Iterable<Digest>,
  domain: string,
  repository: string,
): Promise<KvRecord[]> {
  const where = `${domain}/${repository}`;
  const out: KvRecord[] = [];
  for (const d of new Set(digests)) {
    const prev = await readBlobSources(meta, d);
    if (prev[0] === where) continue;
    out.push({ id: `${SOURCE}${d}`, value: [where, ...prev.filter((p) => p !== where)].slice(0, KEEP) });
  }
  return out;
}

/** Repositories of the same registry, other than `repository`, known to hold the blob. */
export async function mountSources(
  meta: MetaStore,
  digest: Digest,
  domain: string,
  repository: string,
): Promise<string[]> {
  const prefix = `${domain}/`;
  return (await readBlobSources(meta, digest))
    .filter((w) => w.startsWith(prefix) && w !== `${prefix}${repository}`)
    .map((w) => w.slice(prefix.length));
}

/** The gzip blob a tar-only layer was compressed to for a push, when there was one. */
export interface CompressedLayer {
  digest: Digest;
  size: number;
  mediaType: string;
}

/** The gzip a layer (by diffId) was compressed to before. */
export async function readCompressed(meta: MetaStore, diffId: Digest): Promise<CompressedLayer | undefined> {
  return (await meta.get("kv", `${COMPRESSED}${diffId}`))?.value as CompressedLayer | undefined;
}

/** Keeps the gzip a layer was compressed to. */
export async function writeCompressed(meta: MetaStore, diffId: Digest, c: CompressedLayer): Promise<void> {
  await meta.put("kv", { id: `${COMPRESSED}${diffId}`, value: c });
}
