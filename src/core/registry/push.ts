/**
 * Push: a stored image to a registry, sending only the blobs it lacks. Per blob: HEAD; if missing,
 * a cross-repository mount when the store knows another repository of that registry holds it;
 * else an upload (one PUT for a small blob, PATCH chunks with Content-Range for a large one).
 * Then the manifest.
 */
import { gzip } from "../archive/compression.ts";
import { type Digest, sha256 } from "../digest.ts";
import { CancelledError, LayerLabError, throwIfAborted } from "../errors.ts";
import { changesetTar, storeContentReader } from "../image/changeset-tar.ts";
import { decodeLayerIndex } from "../image/layer-index.ts";
import { type ImageManifest, MediaType } from "../image/oci.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { repositoryScope } from "./auth.ts";
import { discard, RegistryClient, type RegistryClientOptions } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { isLayerMediaType } from "./manifest.ts";
import { blobSourcePuts, mountSources, readCompressed, writeCompressed } from "./provenance.ts";
import { runLimited, type TransferProgress } from "./pull.ts";
import { formatReference, type ImageReference, parseReference } from "./reference.ts";
import { appendTransferPut, type BlobTransfer, sumTransfers, type TransferRecord } from "./transfer.ts";

/** Blobs up to this size go up in one PUT; larger ones in PATCH chunks. */
export const MONOLITHIC_MAX_BYTES = 8 * 2 ** 20;
/** The size of each PATCH chunk (raised to the registry's OCI-Chunk-Min-Length when it asks). */
export const CHUNK_BYTES = 8 * 2 ** 20;

/** Options of pushImage. */
export interface PushOptions extends RegistryClientOptions {
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** Blobs sent at once (default 3). */
  concurrency?: number;
  client?: RegistryClient;
  /** Upload sizes (tests use small ones to exercise chunking). */
  monolithicMaxBytes?: number;
  chunkBytes?: number;
}

/** What a push sent. */
export interface PushResult {
  manifestDigest: Digest;
  transfer: TransferRecord;
  reference: ImageReference;
}

/** A blob to push: where its bytes are in the store. */
interface OutgoingBlob {
  role: "layer" | "config";
  index?: number;
  of?: number;
  digest: Digest;
  size: number;
  mediaType: string;
}

const OCI_FOR: Record<string, string> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MediaType.ociLayer,
  "application/vnd.docker.image.rootfs.diff.tar.zstd": MediaType.ociLayerZstd,
};

/**
 * Pushes a stored image to `reference` (a tag or a digest). Compressed layer blobs go as stored,
 * so their digests stay; a layer stored only as a tar is gzipped once, deterministically, and that
 * blob is kept, so a second push sends the same digest. The transfer record is kept with the
 * image's history.
 */
export async function pushImage(
  store: Store,
  imageId: Digest,
  reference: string | ImageReference,
  options: PushOptions = {},
): Promise<PushResult> {
  const ref = typeof reference === "string" ? parseReference(reference) : reference;
  const client = options.client ?? new RegistryClient(ref.domain, options);
  const { signal } = options;
  const repo = ref.repository;
  const ctx = { registry: ref.domain, repository: repo };
  const startedAt = Date.now();
  const image = await store.meta.get("images", imageId);
  if (!image) throw new LayerLabError("NOT_FOUND", `image ${imageId} is not in the store`);
  try {
    const { blobs, manifestBytes, manifestType } = await prepareBlobs(store, image, signal);
    const manifestDigest = await sha256(manifestBytes);
    if (ref.digest && ref.digest !== manifestDigest) {
      throw new RegistryError(
        "digest-mismatch",
        `the image's manifest is ${manifestDigest}, not ${ref.digest}: push it by tag, or by its own digest`,
        ctx,
      );
    }
    const outcomes: BlobTransfer[] = new Array(blobs.length);
    const tasks = blobs.map((b, i) => async () => {
      outcomes[i] = await pushBlob(store, client, ref, b, options);
    });
    await runLimited(tasks, Math.max(1, options.concurrency ?? 3), signal);
    throwIfAborted(signal, "push");

    // The manifest last, once everything it names is there.
    const tag = ref.digest ?? ref.tag ?? "latest";
    const res = await client.send({
      method: "PUT",
      url: `/v2/${repo}/manifests/${tag}`,
      headers: { "Content-Type": manifestType },
      body: () => manifestBytes,
      scopes: [repositoryScope(repo, "pull,push")],
      what: `manifest ${tag}`,
      ...(signal ? { signal } : {}),
    });
    await discard(res);
    const announced = res.headers.get("docker-content-digest");
    if (announced?.startsWith("sha256:") && announced !== manifestDigest) {
      throw new RegistryError(
        "digest-mismatch",
        `the registry stored the manifest as ${announced}, but it hashes to ${manifestDigest}: it rewrote the manifest`,
        ctx,
      );
    }
    options.onProgress?.({
      role: "manifest",
      digest: manifestDigest,
      size: manifestBytes.byteLength,
      bytes: manifestBytes.byteLength,
      state: "done",
      outcome: "sent",
    });
    const all: BlobTransfer[] = [
      ...outcomes,
      {
        role: "manifest",
        digest: manifestDigest,
        mediaType: manifestType,
        size: manifestBytes.byteLength,
        outcome: "sent",
        bytesMoved: manifestBytes.byteLength,
      },
    ];
    const transfer: TransferRecord = {
      kind: "push",
      reference: formatReference(ref),
      registry: ref.domain,
      repository: repo,
      manifestDigest,
      image: image.id,
      startedAt,
      finishedAt: Date.now(),
      blobs: all,
      totals: sumTransfers(all),
      requests: Object.fromEntries(client.requests),
    };
    const sources = await blobSourcePuts(
      store.meta,
      blobs.map((b) => b.digest),
      ref.domain,
      repo,
    );
    await store.meta.apply({
      put: { kv: [...(await appendTransferPut(store.meta, transfer))!, ...sources] },
    });
    return { manifestDigest, transfer, reference: ref };
  } catch (err) {
    if (signal?.aborted && !(err instanceof CancelledError)) throw new CancelledError("push");
    throw err;
  }
}

/**
 * The blobs an image pushes as, and its manifest: the stored manifest byte for byte when every
 * blob it names is stored (so its digest stays), else an OCI manifest over the blobs chosen.
 */
export async function prepareBlobs(
  store: Store,
  image: ImageRecord,
  signal?: AbortSignal,
): Promise<{ blobs: OutgoingBlob[]; manifestBytes: Uint8Array; manifestType: string }> {
  const storedBytes = image.manifest ? await store.blobs.get(image.manifest) : undefined;
  let stored: ImageManifest | undefined;
  try {
    stored = storedBytes ? (JSON.parse(new TextDecoder().decode(storedBytes)) as ImageManifest) : undefined;
  } catch {
    stored = undefined;
  }
  const configSize = await store.blobs.size(image.config);
  if (configSize === undefined)
    throw new LayerLabError("NOT_FOUND", `config ${image.config} of the image is not in the store`);
  const layers: OutgoingBlob[] = [];
  let keep =
    !!stored && stored.config?.digest === image.config && stored.layers?.length === image.layers.length;
  for (let i = 0; i < image.layers.length; i++) {
    throwIfAborted(signal, "push");
    const rec = await store.meta.get("layers", image.layers[i]!);
    if (!rec)
      throw new LayerLabError("NOT_FOUND", `layer ${image.layers[i]} of the image is not in the store`);
    const named = stored?.layers?.[i];
    if (named && isLayerMediaType(named.mediaType) && (await store.blobs.size(named.digest)) === named.size) {
      layers.push({
        role: "layer",
        index: i,
        of: image.layers.length,
        digest: named.digest,
        size: named.size,
        mediaType: named.mediaType,
      });
      continue;
    }
    keep = false;
    const blob = await compressedBlob(store, rec, signal);
    layers.push({ role: "layer", index: i, of: image.layers.length, ...blob });
  }
  const config: OutgoingBlob = {
    role: "config",
    digest: image.config,
    size: configSize,
    mediaType: stored?.config?.mediaType ?? MediaType.ociConfig,
  };
  if (keep && storedBytes) {
    const type = stored?.mediaType ?? MediaType.ociManifest;
    return { blobs: [...layers, config], manifestBytes: storedBytes, manifestType: type };
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({
      mediaType: OCI_FOR[l.mediaType] ?? l.mediaType,
      digest: l.digest,
      size: l.size,
    })),
  };
  config.mediaType = MediaType.ociConfig;
  return {
    blobs: [...layers, config],
    manifestBytes: new TextEncoder().encode(JSON.stringify(manifest)),
    manifestType: MediaType.ociManifest,
  };
}

/**
 * The compressed blob a layer pushes as: its stored blob when that is compressed, else the gzip it
 * was compressed to before, else a deterministic gzip of its tar made now and kept.
 */
async function compressedBlob(
  store: Store,
  rec: LayerRecord,
  signal?: AbortSignal,
): Promise<Omit<OutgoingBlob, "role">> {
  if (rec.blob !== rec.id && !rec.synthesized) {
    const size = await store.blobs.size(rec.blob);
    if (size !== undefined && isLayerMediaType(rec.mediaType))
      return { digest: rec.blob, size, mediaType: rec.mediaType };
  }
  const known = await readCompressed(store.meta, rec.id);
  if (known && (await store.blobs.has(known.digest))) return known;
  let tar: AsyncIterable<Uint8Array>;
  if (rec.synthesized) {
    const indexBytes = rec.index ? await store.blobs.get(rec.index) : undefined;
    if (!indexBytes)
      throw new LayerLabError("NOT_FOUND", `layer ${rec.id} has no index to write its tar from`);
    tar = changesetTar(
      decodeLayerIndex(indexBytes, rec.id),
      storeContentReader(store),
      rec.synthesized.epoch,
    );
  } else {
    tar = store.blobs.stream(rec.id);
  }
  const put = await store.blobs.putStream(gzip(tar), signal ? { signal } : {});
  const c = { digest: put.digest, size: put.size, mediaType: MediaType.ociLayerGzip };
  await writeCompressed(store.meta, rec.id, c);
  return c;
}

/** One blob: HEAD, else mount, else upload. */
async function pushBlob(
  store: Store,
  client: RegistryClient,
  ref: ImageReference,
  b: OutgoingBlob,
  options: PushOptions,
): Promise<BlobTransfer> {
  const { signal } = options;
  const repo = ref.repository;
  const scopes = [repositoryScope(repo, "pull,push")];
  const what = `${b.role} ${b.digest}`;
  const sig = signal ? { signal } : {};
  const report = (bytes: number, state: TransferProgress["state"], outcome?: BlobTransfer["outcome"]) =>
    options.onProgress?.({
      role: b.role,
      ...(b.index !== undefined ? { index: b.index, of: b.of } : {}),
      digest: b.digest,
      size: b.size,
      bytes,
      state,
      ...(outcome ? { outcome } : {}),
    });
  const done = (outcome: BlobTransfer["outcome"], bytesMoved: number): BlobTransfer => {
    report(bytesMoved, "done", outcome);
    return { role: b.role, digest: b.digest, mediaType: b.mediaType, size: b.size, outcome, bytesMoved };
  };
  report(0, "checking");
  const head = await client.send({
    method: "HEAD",
    url: `/v2/${repo}/blobs/${b.digest}`,
    scopes,
    what,
    accept: (s) => s === 200 || s === 404,
    ...sig,
  });
  await discard(head);
  if (head.status === 200) {
    // A registry says how big the blob it has is. A server that answers every path (a web app's
    // fallback page) says otherwise: taking that as "already there" would push a manifest whose
    // blobs are nowhere.
    const len = head.headers.get("content-length");
    if (len !== null && Number(len) !== b.size)
      throw new RegistryError(
        "protocol",
        `${client.domain} answered a HEAD of ${what} with ${len} bytes, not its ${b.size}: it does not look like a registry (${client.origin})`,
        { registry: client.domain, repository: repo },
      );
    return done("skipped", 0);
  }

  let opened: { location: string; minChunk: number } | undefined;
  for (const from of await mountSources(store.meta, b.digest, ref.domain, repo)) {
    const res = await client.send({
      method: "POST",
      url: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(b.digest)}&from=${encodeURIComponent(from)}`,
      scopes: [...scopes, repositoryScope(from, "pull")],
      what: `a mount of ${what} from ${from}`,
      accept: (s) => s === 201 || s === 202,
      ...sig,
    });
    await discard(res);
    if (res.status === 201) return done("mounted", 0);
    // 202: the registry could not mount it and opened an upload instead; use that.
    opened = {
      location: uploadLocation(client, res, what),
      minChunk: Number(res.headers.get("oci-chunk-min-length") ?? 0) || 0,
    };
    break;
  }
  const retries = client.options.retries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      await upload(store, client, repo, b, opened, options, (n) => report(n, "moving"));
      return done("sent", b.size);
    } catch (err) {
      // A lost upload session (the registry restarted, or a chunk was half taken) starts again.
      if (!(err instanceof RegistryError) || err.kind !== "blob-upload-invalid" || attempt >= retries)
        throw err;
      opened = undefined;
    }
  }
}

function uploadLocation(client: RegistryClient, res: Response, what: string): string {
  const loc = res.headers.get("location");
  if (!loc)
    throw new RegistryError("protocol", `the registry opened an upload for ${what} without a Location`, {
      registry: client.domain,
    });
  return loc;
}

async function upload(
  store: Store,
  client: RegistryClient,
  repo: string,
  b: OutgoingBlob,
  opened: { location: string; minChunk: number } | undefined,
  options: PushOptions,
  onBytes: (n: number) => void,
): Promise<void> {
  const { signal } = options;
  const scopes = [repositoryScope(repo, "pull,push")];
  const what = `${b.role} ${b.digest}`;
  const sig = signal ? { signal } : {};
  let minChunk = opened?.minChunk ?? 0;
  let location: string;
  if (opened) location = client.resolve(opened.location);
  else {
    const res = await client.send({
      method: "POST",
      url: `/v2/${repo}/blobs/uploads/`,
      scopes,
      what: `an upload of ${what}`,
      accept: (s) => s === 202,
      ...sig,
    });
    await discard(res);
    location = client.resolve(uploadLocation(client, res, what));
    minChunk = Number(res.headers.get("oci-chunk-min-length") ?? 0) || 0;
  }
  const withDigest = (loc: string) => {
    const u = new URL(loc);
    u.searchParams.set("digest", b.digest);
    return u.href;
  };
  // Where the store keeps the blob as a Blob (a file on disk), the requests send slices of it and
  // the platform reads them as it sends: no copy of each chunk through the script (Node's fetch
  // copies a Uint8Array body before sending it).
  const whole = await store.blobs.blob?.(b.digest);
  if (b.size <= (options.monolithicMaxBytes ?? MONOLITHIC_MAX_BYTES)) {
    const bytes = whole ?? (await store.blobs.get(b.digest));
    if (!bytes) throw new LayerLabError("NOT_FOUND", `${what} is not in the store`);
    const res = await client.send({
      method: "PUT",
      url: withDigest(location),
      headers: { "Content-Type": "application/octet-stream" },
      body: () => bytes,
      scopes,
      what,
      accept: (s) => s === 201,
      ...sig,
    });
    await discard(res);
    onBytes(b.size);
    return;
  }
  const chunkSize = Math.max(options.chunkBytes ?? CHUNK_BYTES, minChunk);
  let offset = 0;
  const chunks = whole ? blobChunks(whole, chunkSize) : fixedChunks(store.blobs.stream(b.digest), chunkSize);
  for await (const chunk of chunks) {
    throwIfAborted(signal, "push");
    const start = offset;
    const res = await client.send({
      method: "PATCH",
      url: location,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Range": `${start}-${start + chunkLength(chunk) - 1}`,
      },
      body: () => chunk,
      scopes,
      what: `bytes ${start}-${start + chunkLength(chunk) - 1} of ${what}`,
      accept: (s) => s === 202,
      // A PATCH cannot be sent twice safely: a half-taken one restarts the whole upload.
      ...sig,
    });
    await discard(res);
    // Every answer names where the upload goes on; the newest is the one to use.
    location = client.resolve(uploadLocation(client, res, what), location);
    offset += chunkLength(chunk);
    onBytes(offset);
  }
  if (offset !== b.size)
    throw new LayerLabError("STORE", `${what}: the store gave ${offset} bytes, not ${b.size}`);
  const res = await client.send({
    method: "PUT",
    url: withDigest(location),
    scopes,
    what,
    accept: (s) => s === 201,
    ...sig,
  });
  await discard(res);
}

function chunkLength(c: Uint8Array | Blob): number {
  return c instanceof Uint8Array ? c.byteLength : c.size;
}

/** A Blob in slices of `size` bytes (the last may be shorter). */
function* blobChunks(blob: Blob, size: number): Generator<Blob> {
  for (let at = 0; at < blob.size; at += size) yield blob.slice(at, Math.min(at + size, blob.size));
}

/**
 * Re-cuts a stream into chunks of exactly `size` bytes (the last may be shorter). The same buffer
 * is filled again for each chunk: the caller is done with one before it asks for the next, so
 * memory stays flat however large the blob.
 */
export async function* fixedChunks(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(size);
  let fill = 0;
  for await (const c of source) {
    let at = 0;
    while (at < c.byteLength) {
      const n = Math.min(size - fill, c.byteLength - at);
      buf.set(c.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === size) {
        yield buf;
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}
