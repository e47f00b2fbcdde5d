/**
 * Checks of a store the browser may have evicted or damaged: records whose blobs are gone
 * (`findLostImages`, cheap, run at every load) and every blob read back and hashed against its
 * name (`verifyBlobs`, the `Check store` action).
 */
import { createSha256, type Digest } from "../digest.ts";
import { throwIfAborted } from "../errors.ts";
import type { ImageRecord, Store } from "./types.ts";

/** An image some of whose bytes are gone: what is missing, in words. */
export interface LostImage {
  id: Digest;
  name: string;
  source: ImageRecord["source"];
  missing: string[];
}

/**
 * The images that cannot be shown whole because a blob their records point to is gone: the
 * config, the manifest, a layer record, a layer's bytes (neither its blob as it came nor its tar;
 * synthesized layers have none), or its entry index.
 */
export async function findLostImages(store: Store): Promise<LostImage[]> {
  const [images, layerList] = await Promise.all([store.meta.list("images"), store.meta.list("layers")]);
  const layers = new Map<string, (typeof layerList)[number]>(layerList.map((l) => [l.id, l]));
  const present = new Set<string>((await store.blobs.list()).map((b) => b.digest));
  const lost: LostImage[] = [];
  for (const img of images) {
    const missing: string[] = [];
    if (!present.has(img.config)) missing.push(`config ${img.config}`);
    if (img.manifest && !present.has(img.manifest)) missing.push(`manifest ${img.manifest}`);
    img.layers.forEach((id, i) => {
      const l = layers.get(id);
      if (!l) missing.push(`layer ${i + 1} record ${id}`);
      else if (!l.synthesized && !present.has(l.blob) && !present.has(l.id))
        missing.push(`layer ${i + 1} bytes ${l.blob}`);
      else if (l.index && !present.has(l.index)) missing.push(`layer ${i + 1} file list ${l.index}`);
    });
    if (missing.length) {
      lost.push({ id: img.id, name: img.names[0] ?? img.id.slice(7, 19), source: img.source, missing });
    }
  }
  return lost;
}

/** One blob `verifyBlobs` found damaged. */
export interface DamagedBlob {
  digest: Digest;
  size: number;
  /** What is wrong, in words (its content hashes to another digest, or it cannot be read). */
  problem: string;
}

/** What `verifyBlobs` found. */
export interface BlobCheckReport {
  checked: number;
  bytes: number;
  damaged: DamagedBlob[];
}

/**
 * Reads every blob back and hashes it: a blob whose content is not what its name says, or that
 * cannot be read whole, is damaged. Progress is in bytes read; the signal stops it between chunks.
 */
export async function verifyBlobs(
  store: Store,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number, checked: number) => void } = {},
): Promise<BlobCheckReport> {
  const blobs = await store.blobs.list();
  const total = blobs.reduce((n, b) => n + b.size, 0);
  let done = 0;
  const damaged: DamagedBlob[] = [];
  for (const [i, b] of blobs.entries()) {
    throwIfAborted(options.signal, "checking the store");
    const hash = await createSha256();
    let size = 0;
    try {
      for await (const chunk of store.blobs.stream(b.digest)) {
        throwIfAborted(options.signal, "checking the store");
        hash.update(chunk);
        size += chunk.byteLength;
        options.onProgress?.(done + size, total, i);
      }
      const actual = hash.finish();
      if (actual !== b.digest) damaged.push({ ...b, problem: `its content hashes to ${actual}` });
      else if (size !== b.size) damaged.push({ ...b, problem: `it holds ${size} bytes, not ${b.size}` });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      damaged.push({ ...b, problem: `it cannot be read: ${(err as Error).message}` });
    }
    done += b.size;
    options.onProgress?.(done, total, i + 1);
  }
  return { checked: blobs.length, bytes: done, damaged };
}
