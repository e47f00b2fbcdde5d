/**
 * Pull: an image from a registry into the store, stored exactly as an import stores it (each
 * layer's blob as it came, its entry index, its layer record; the config and manifest blobs; one
 * image record), fetching only the blobs the store does not already hold.
 */
import { asyncIterable } from "../archive/bytes.ts";
import { createSha256, type Digest, isDigest, sha256 } from "../digest.ts";
import { CancelledError, LayerLabError, throwIfAborted } from "../errors.ts";
import {
  type BlobPieces,
  type IngestedEntry,
  ingestArchiveEntry,
  type PieceRequest,
} from "../image/import.ts";
import { formatPlatform, type ImageConfig, type ImageIndex, type ImageManifest } from "../image/oci.ts";
import { isStorageFull } from "../store/faults.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { repositoryScope } from "./auth.ts";
import { discard, RegistryClient, type RegistryClientOptions } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { CONFIG_MAX_BYTES, fetchManifest, readLimited } from "./manifest.ts";
import { choosePlatform } from "./platform.ts";
import { blobSourcePuts } from "./provenance.ts";
import { familiarReference, formatReference, type ImageReference, parseReference } from "./reference.ts";
import { appendTransferPut, type BlobTransfer, sumTransfers, type TransferRecord } from "./transfer.ts";

/** Progress of one blob of a transfer. */
export interface TransferProgress {
  role: "layer" | "config" | "manifest";
  /** Position of the layer, bottom first (layers only). */
  index?: number;
  /** How many layers the image has (layers only). */
  of?: number;
  digest: Digest;
  size: number;
  /** Bytes moved so far for this blob. */
  bytes: number;
  state: "checking" | "moving" | "done";
  outcome?: BlobTransfer["outcome"];
}

/**
 * Ingests one layer blob as its bytes arrive (or as the Blobs of its byte ranges arrive, with
 * `layerPieces`): stores it as it came and, unless `blobsOnly`, decompresses it, hashes the tar
 * (its diffId) and indexes its files, as an import does (ingestArchiveEntry). The store holds
 * what it added (listed in `added`); a failed ingest leaves nothing of that layer behind, and a
 * blob whose bytes do not hash to `expected` is not stored where the ingest can tell before
 * storing (pieces). The page hands layers to the import's helper workers through this
 * (src/worker/ingest-pool.ts), so they are decoded on other cores.
 */
export type LayerIngest = (
  body: AsyncIterable<Uint8Array> | LayerPieces,
  what: string,
  options: { signal?: AbortSignal; hashFiles?: boolean; blobsOnly?: boolean; expected?: Digest },
) => Promise<IngestedEntry>;

/** How a pull fetches layers by byte range (see PullOptions.layerPieces). */
export interface LayerPiecesOptions {
  /** Bytes asked for per request: the most, when ranges are sized to the rate (`pieceSeconds`). */
  pieceBytes: number;
  /**
   * Size each range to take about this long at the rate the last range of the pull came (from
   * asking for it to the ingest asking for the next), between `minPieceBytes` and `pieceBytes`:
   * on a fast link few large ranges (each has a fixed cost), on a slow one small ranges, so
   * progress still moves. Unset: every range is `pieceBytes`.
   */
  pieceSeconds?: number;
  /** The first and the smallest ranges when sized to the rate (default `pieceBytes`). */
  minPieceBytes?: number;
  /** Larger layers stream as one request (their pieces would all be held until stored). */
  maxLayerBytes: number;
  /**
   * Ranges whose URL this accepts are handed to the ingest as PieceRequests to send itself (a
   * helper worker: the Blobs then live only on its thread, whose garbage collector frees them
   * soon after they are stored). This thread still sends the first range of each layer it
   * starts before the registry has answered one (1 MiB: it learns the authorization and whether
   * the registry answers ranges); after that a layer's ranges are all the ingest's. It sends again
   * any range the ingest could not fetch (BlobPieces.resolve), with its retries and errors. The
   * ingest tells each range it fetched itself (LayerPieces.arrived), for progress and the sizer.
   */
  handOff?: (url: string) => boolean;
}

/** A layer's first range when the others are handed off: small, since this thread holds it. */
const HANDED_OFF_FIRST_BYTES = 2 ** 20;

/** Ranges sized to the rate are whole multiples of this. */
const PIECE_GRAIN = 64 * 2 ** 10;

/**
 * The size of a pull's next range (LayerPiecesOptions.pieceSeconds): `took` tells how long the
 * last one took, and the ranges of every layer of the pull follow the latest rate.
 */
export interface PieceSizer {
  next(): number;
  took(bytes: number, ms: number): void;
}

export function pieceSizer(o: LayerPiecesOptions): PieceSizer {
  const most = o.pieceBytes;
  const least = Math.min(o.minPieceBytes ?? most, most);
  let size = least;
  return {
    next: () => size,
    took(bytes, ms) {
      if (!o.pieceSeconds || bytes <= 0) return;
      const fits = (bytes / Math.max(ms, 1)) * 1000 * o.pieceSeconds;
      size = Math.max(least, Math.min(most, Math.floor(fits / PIECE_GRAIN) * PIECE_GRAIN));
    },
  };
}

/** The pieces of a layer as a pull hands them to its ingest (see LayerPiecesOptions.handOff). */
export interface LayerPieces extends BlobPieces {
  /** The ingest got a request's Blob by itself: progress. */
  arrived?: (r: PieceRequest, ms: number) => void;
}

/**
 * Sends a PieceRequest with `fetch` (following redirects, which drops Authorization when one
 * leaves the registry's origin) and gives its Blob: exactly the range's bytes from a 206 answer
 * that says its length, or an error, after which the pull sends the range again itself.
 */
export async function fetchPieceRequest(
  r: PieceRequest,
  doFetch: typeof fetch,
  signal?: AbortSignal,
): Promise<Blob> {
  const res = await doFetch(r.url, {
    headers: { ...r.headers, Range: `bytes=${r.at}-${r.at + r.want - 1}` },
    cache: "no-store",
    redirect: "follow",
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 206 || res.headers.get("content-length") !== String(r.want)) {
    await discard(res);
    throw new Error(`answered ${res.status} with ${res.headers.get("content-length")} bytes`);
  }
  const blob = await res.blob();
  if (blob.size !== r.want) throw new Error(`sent ${blob.size} of ${r.want} bytes`);
  return blob;
}

/** Options of pullImage. */
export interface PullOptions extends RegistryClientOptions {
  /** `os/arch[/variant]` of a multi-platform image (default linux/amd64, then the first). */
  platform?: string;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** Layers fetched at once (default 3). */
  concurrency?: number;
  /** A client to reuse (its tokens and counters); default a new one. */
  client?: RegistryClient;
  /** Compute each file's sha256 for the layer indexes (default true; the CLI, writing an archive, needs none). */
  hashFiles?: boolean;
  /**
   * Store compressed layers as they came without decompressing them (their digests are still
   * checked as they stream; their diffIds are the config's word): for the CLI, which writes an
   * archive and never reads the layers' files, as skopeo does.
   */
  blobsOnly?: boolean;
  /** Where each layer is ingested (default: ingestArchiveEntry on this thread, into `store`). */
  ingestLayer?: LayerIngest;
  /**
   * Fetch each layer of up to `maxLayerBytes` in byte ranges (of `pieceBytes`, or sized to the
   * rate: LayerPiecesOptions.pieceSeconds), each taken with
   * `Response.blob()`, and hand the ingest the Blobs (for the page: the browser then brings the
   * bytes into its blob storage without this thread reading them, and the store adopts the Blob
   * they compose). A range whose connection breaks is fetched again alone; progress moves a
   * range at a time. A registry that ignores Range gets the layer streamed as without this.
   */
  layerPieces?: LayerPiecesOptions;
}

/** What a pull stored and moved. */
export interface PullResult {
  record: ImageRecord;
  layers: LayerRecord[];
  transfer: TransferRecord;
  reference: ImageReference;
}

/**
 * Pulls an image: the manifest (following an index to the chosen platform), the config, and each
 * layer the store lacks, every blob verified against its digest while it streams. All or nothing:
 * a failed or cancelled pull leaves no image record (fully verified blobs stay and are reused by
 * the next try).
 */
export async function pullImage(
  store: Store,
  reference: string | ImageReference,
  options: PullOptions = {},
): Promise<PullResult> {
  const ref = typeof reference === "string" ? parseReference(reference) : reference;
  const client = options.client ?? new RegistryClient(ref.domain, options);
  // The ranges of every layer follow the rate the last ones came at (LayerPiecesOptions.pieceSeconds).
  const sizer = options.layerPieces && pieceSizer(options.layerPieces);
  // Once one layer's range is answered with 206, the next layers skip their first request here.
  const rangesAnswered = { yes: false };
  const { signal } = options;
  const repo = ref.repository;
  const scopes = [repositoryScope(repo, "pull")];
  const ctx = { registry: ref.domain, repository: repo };
  const startedAt = Date.now();
  // Blobs this pull stored: removed again if the store runs out of room (see the catch below).
  const added: Digest[] = [];
  try {
    let fetched = await fetchManifest(client, repo, ref.digest ?? ref.tag ?? "latest", scopes, signal);
    let platform: string | undefined;
    for (let depth = 0; fetched.isIndex; depth++) {
      if (depth > 2) throw new RegistryError("protocol", "indexes nested too deeply", ctx);
      const index = fetched.doc as ImageIndex;
      const { chosen, present } = choosePlatform(index.manifests, options.platform);
      if (!chosen || !isDigest(chosen.digest)) {
        throw new RegistryError(
          "manifest-unknown",
          `${formatReference(ref)} has no ${options.platform ?? "usable"} image (platforms: ${present.join(", ") || "none"}). Choose one of them.`,
          ctx,
        );
      }
      platform = chosen.platform ? formatPlatform(chosen.platform) : platform;
      fetched = await fetchManifest(client, repo, chosen.digest, scopes, signal);
    }
    const manifest = fetched.doc as ImageManifest;
    const blobs: BlobTransfer[] = [];

    // The config: small, held whole, verified.
    const cfgDesc = manifest.config;
    let configBytes = await store.blobs.get(cfgDesc.digest);
    let configOutcome: BlobTransfer["outcome"] = "skipped";
    if (!configBytes) {
      const res = await client.send({
        method: "GET",
        url: `/v2/${repo}/blobs/${cfgDesc.digest}`,
        scopes,
        what: `config ${cfgDesc.digest}`,
        ...(signal ? { signal } : {}),
      });
      configBytes = await readLimited(res, CONFIG_MAX_BYTES, `config ${cfgDesc.digest}`, ref.domain);
      const got = await sha256(configBytes);
      if (got !== cfgDesc.digest) throw mismatch(`config ${cfgDesc.digest}`, got, ctx);
      configOutcome = "received";
    }
    if (configBytes.byteLength !== cfgDesc.size) {
      throw new RegistryError(
        "protocol",
        `config ${cfgDesc.digest} is ${configBytes.byteLength} bytes but the manifest says ${cfgDesc.size}`,
        ctx,
      );
    }
    options.onProgress?.({
      role: "config",
      digest: cfgDesc.digest,
      size: cfgDesc.size,
      bytes: cfgDesc.size,
      state: "done",
      outcome: configOutcome,
    });
    let config: ImageConfig;
    try {
      config = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
    } catch (err) {
      throw new RegistryError(
        "protocol",
        `config ${cfgDesc.digest} is not valid JSON: ${(err as Error).message}`,
        ctx,
      );
    }
    const diffIds = config?.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
      throw new RegistryError(
        "protocol",
        `config ${cfgDesc.digest} lists ${Array.isArray(diffIds) ? diffIds.length : "no"} layers but the manifest names ${manifest.layers.length}`,
        ctx,
      );
    }

    // The layers: each one the store lacks is fetched, a few at once.
    const layerRecords: LayerRecord[] = new Array(manifest.layers.length);
    const layerPuts: LayerRecord[] = [];
    const outcomes: BlobTransfer[] = new Array(manifest.layers.length);
    const ingestLayer: LayerIngest =
      options.ingestLayer ?? ((body, what, o) => ingestArchiveEntry(store, body, what, o));
    const work = manifest.layers.map((desc, i) => async () => {
      throwIfAborted(signal, "pull");
      const diffId = diffIds[i]!;
      if (!isDigest(diffId))
        throw new RegistryError("protocol", `config names an invalid diffId '${String(diffId)}'`, ctx);
      const report = (p: Omit<TransferProgress, "role" | "index" | "digest" | "size">) =>
        options.onProgress?.({
          role: "layer",
          index: i,
          of: manifest.layers.length,
          digest: desc.digest,
          size: desc.size,
          ...p,
        });
      report({ bytes: 0, state: "checking" });
      const existing = await store.meta.get("layers", diffId);
      const held = await store.blobs.has(desc.digest);
      if (existing && held) {
        layerRecords[i] = existing;
        outcomes[i] = {
          role: "layer",
          digest: desc.digest,
          mediaType: desc.mediaType,
          size: desc.size,
          outcome: "skipped",
          bytesMoved: 0,
        };
        report({ bytes: 0, state: "done", outcome: "skipped" });
        return;
      }
      let moved = 0;
      const ingest = async (body: AsyncIterable<Uint8Array> | LayerPieces) => {
        const r = await ingestLayer(body, `layer ${i + 1} (${desc.digest})`, {
          expected: desc.digest,
          ...(signal ? { signal } : {}),
          ...(options.hashFiles === false ? { hashFiles: false } : {}),
          ...(options.blobsOnly ? { blobsOnly: true } : {}),
        });
        for (const [d] of r.added) added.push(d);
        const drop = () => Promise.all(r.added.map(([d]) => store.blobs.delete(d).catch(() => false)));
        if (r.digest === undefined) {
          await drop();
          throw new RegistryError(
            "protocol",
            `layer ${desc.digest} is not a readable layer: ${r.failed.message}`,
            ctx,
          );
        }
        if (r.digest !== desc.digest) {
          await drop();
          throw mismatch(`layer ${desc.digest}`, r.digest, ctx);
        }
        if (r.diffId !== undefined && r.diffId !== diffId) {
          await drop();
          throw new RegistryError(
            "digest-mismatch",
            `layer ${desc.digest} decompresses to ${r.diffId} but the config says ${diffId}: the image is inconsistent. Nothing was stored.`,
            ctx,
          );
        }
        return r;
      };
      let r: Awaited<ReturnType<typeof ingest>>;
      if (held) {
        // Verified by an earlier pull that did not finish: read again here, nothing moves.
        r = await ingest(store.blobs.stream(desc.digest));
      } else {
        r = await fetchLayer(
          client,
          repo,
          desc.digest,
          desc.size,
          scopes,
          signal,
          (n) => {
            moved = n;
            report({ bytes: n, state: "moving" });
          },
          ingest,
          ctx,
          options.layerPieces,
          sizer,
          rangesAnswered,
        );
      }
      const rec: LayerRecord = existing ?? {
        id: diffId,
        blob: desc.digest,
        mediaType: desc.mediaType,
        blobSize: r.blobSize,
        size: r.size ?? 0,
        ...(r.index ? { index: r.index } : {}),
      };
      if (!existing) layerPuts.push(rec);
      layerRecords[i] = rec;
      const outcome = held ? "skipped" : "received";
      outcomes[i] = {
        role: "layer",
        digest: desc.digest,
        mediaType: desc.mediaType,
        size: desc.size,
        outcome,
        bytesMoved: held ? 0 : moved,
      };
      report({ bytes: moved, state: "done", outcome });
    });
    await runLimited(work, Math.max(1, options.concurrency ?? 3), signal);
    throwIfAborted(signal, "pull");
    blobs.push(...outcomes);
    blobs.push({
      role: "config",
      digest: cfgDesc.digest,
      mediaType: cfgDesc.mediaType,
      size: cfgDesc.size,
      outcome: configOutcome,
      bytesMoved: configOutcome === "received" ? cfgDesc.size : 0,
    });
    blobs.push({
      role: "manifest",
      digest: fetched.digest,
      mediaType: fetched.mediaType,
      size: fetched.bytes.byteLength,
      outcome: "received",
      bytesMoved: fetched.bytes.byteLength,
    });

    // Commit: the config and manifest blobs, then every record in one atomic batch.
    for (const [bytes, expected] of [
      [configBytes, cfgDesc.digest],
      [fetched.bytes, fetched.digest],
    ] as const) {
      const put = await store.blobs.put(bytes, { expected, ...(signal ? { signal } : {}) });
      if (!put.deduplicated) added.push(put.digest);
    }
    throwIfAborted(signal, "pull");
    const prior = await store.meta.get("images", cfgDesc.digest);
    const name = familiarReference(ref);
    const record: ImageRecord = {
      id: cfgDesc.digest,
      names: [...new Set([...(prior?.names ?? []), name])],
      source: prior?.source ?? "pull",
      layers: layerRecords.map((l) => l.id),
      config: cfgDesc.digest,
      manifest: prior?.manifest ?? fetched.digest,
      platform: platform ?? formatPlatform(config),
      storedAt: prior?.storedAt ?? Date.now(),
      notes: { ...(prior?.notes ?? {}), "pulled-from": formatReference({ ...ref, digest: fetched.digest }) },
    };
    const transfer: TransferRecord = {
      kind: "pull",
      reference: formatReference(ref),
      registry: ref.domain,
      repository: repo,
      manifestDigest: fetched.digest,
      image: record.id,
      startedAt,
      finishedAt: Date.now(),
      blobs,
      totals: sumTransfers(blobs),
      requests: Object.fromEntries(client.requests),
    };
    const sources = await blobSourcePuts(
      store.meta,
      [...manifest.layers.map((l) => l.digest), cfgDesc.digest],
      ref.domain,
      repo,
    );
    await store.meta.apply({
      put: {
        layers: layerPuts,
        images: [record],
        kv: [...(await appendTransferPut(store.meta, transfer))!, ...sources],
      },
    });
    return { record, layers: layerRecords, transfer, reference: ref };
  } catch (err) {
    // Out of room: nothing this pull stored stays (kept, verified blobs would only fill the
    // store further). Other failures keep them for the next try, which then moves nothing twice.
    if (isStorageFull(err)) {
      for (const d of added) await store.blobs.delete(d).catch(() => false);
    }
    if (signal?.aborted && !(err instanceof CancelledError)) throw new CancelledError("pull");
    throw err;
  }
}

function mismatch(what: string, got: string, ctx: { registry: string; repository: string }): RegistryError {
  return new RegistryError(
    "digest-mismatch",
    `${what}: the bytes received hash to ${got}, not the digest the manifest names. Nothing of it was stored. Try again; if it repeats, the registry's copy is damaged or something alters data on the way.`,
    ctx,
  );
}

/**
 * Streams one layer blob into `ingest`, counting bytes and refusing more than its size; retried on
 * network errors. With `pieces` (and a registry that answers Range), the layer goes to `ingest`
 * as the Blobs of its byte ranges (see fetchPieces).
 */
async function fetchLayer<T>(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  size: number,
  scopes: string[],
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  ingest: (body: AsyncIterable<Uint8Array> | LayerPieces) => Promise<T>,
  ctx: { registry: string; repository: string },
  pieces?: LayerPiecesOptions,
  sizer: PieceSizer | undefined = pieces && pieceSizer(pieces),
  /** Whether the registry has answered a range in this pull (shared by its layers). */
  rangesAnswered: { yes: boolean } = { yes: false },
): Promise<T> {
  const retries = client.options.retries ?? 4;
  const ranged = pieces && sizer && size > 0 && size <= pieces.maxLayerBytes;
  for (let attempt = 0; ; attempt++) {
    // This registry answered a range earlier in the pull: every range of this layer goes to the
    // ingest to send, the first too (no request from this thread). A retry asks again here.
    const direct = ranged && pieces.handOff && attempt === 0 && rangesAnswered.yes;
    const first =
      ranged && !direct ? Math.min(sizer.next(), size, pieces.handOff ? HANDED_OFF_FIRST_BYTES : size) : 0;
    const res = direct
      ? undefined
      : await client.send({
          method: "GET",
          url: `/v2/${repo}/blobs/${digest}`,
          scopes,
          what: `layer ${digest}`,
          cache: "no-store",
          ...(first ? { headers: { Range: `bytes=0-${first - 1}` } } : {}),
          ...(signal ? { signal } : {}),
        });
    if (res && !res.body)
      throw new RegistryError("protocol", `layer ${digest}: the registry sent no body`, ctx);
    let n = 0;
    // A failure of the pieces' own fetching (retried there already) is final here.
    let piecesFailed: { err: unknown } | undefined;
    let body: AsyncIterable<Uint8Array> | LayerPieces;
    if (ranged && (direct || res?.status === 206)) {
      rangesAnswered.yes = true;
      const range = rangeFetcher(client, repo, digest, size, scopes, signal, ctx, sizer);
      const count = (bytes: number) => {
        n += bytes;
        onBytes(n);
      };
      body = {
        kind: "pieces",
        size,
        // The sizer never asks for more than pieceBytes (the first range included).
        largest: Math.min(size, pieces.pieceBytes),
        pieces: (async function* () {
          try {
            for await (const item of fetchPieces(
              client,
              repo,
              digest,
              size,
              pieces,
              sizer,
              first,
              res,
              range,
              scopes,
              signal,
            )) {
              if (item instanceof Blob) count(item.size);
              yield item;
            }
          } catch (err) {
            piecesFailed = { err };
            throw err;
          }
        })(),
        // Ranges handed off: the ingest's way back for those it could not fetch, and its word on those it did.
        ...(pieces.handOff
          ? {
              resolve: async (r: PieceRequest) => {
                try {
                  const blob = await range(r.at, r.want);
                  count(r.want);
                  return blob;
                } catch (err) {
                  piecesFailed ??= { err };
                  throw err;
                }
              },
              arrived: (r: PieceRequest, ms: number) => {
                sizer.took(r.want, ms);
                count(r.want);
              },
            }
          : {}),
      };
    } else {
      const stream = asyncIterable(res!.body as ReadableStream<Uint8Array>);
      body = (async function* () {
        for await (const c of stream) {
          n += c.byteLength;
          if (n > size) {
            throw new RegistryError(
              "digest-mismatch",
              `layer ${digest}: the registry sent more than the ${size} bytes the manifest says. Nothing of it was stored.`,
              ctx,
            );
          }
          onBytes(n);
          yield c;
        }
        if (n < size) throw new TruncatedBody(n, size);
      })();
    }
    try {
      return await ingest(body);
    } catch (err) {
      if (signal?.aborted) throw new CancelledError("pull");
      // Asked for with no first request, a range the registry did not answer as one (a blob it
      // serves another way): the layer is asked for again as the first was, and streams if need be.
      const refused = piecesFailed?.err instanceof RegistryError && piecesFailed.err.kind === "protocol";
      if (direct && refused) continue;
      if (piecesFailed) throw piecesFailed.err;
      const transient = err instanceof TruncatedBody || !(err instanceof LayerLabError);
      if (!transient && !(err instanceof RegistryError && err.kind === "digest-mismatch")) {
        // A layer that does not decode: tell a damaged transfer (its digest is wrong) from a
        // layer that really is not a tar. Only this failure pays for a second download.
        const got = await digestOfBlob(client, repo, digest, size, scopes, signal).catch(() => undefined);
        if (got && got !== digest) throw mismatch(`layer ${digest}`, got, ctx);
      }
      if (!transient || attempt >= retries) {
        if (transient) {
          throw new RegistryError(
            "network",
            `layer ${digest}: the connection broke after ${n} of ${size} bytes, ${attempt + 1} times. Check that the registry is still running and pull again: layers already received are kept.`,
            ctx,
            { cause: err },
          );
        }
        throw err;
      }
      await sleep(Math.min(8000, (client.options.backoffMs ?? 500) * 2 ** attempt), signal);
    }
  }
}

/**
 * The pieces of a layer's byte ranges in order: the answer to the first range (`first` bytes,
 * already asked for: `firstAnswer`), then ranges of the sizer's size, each a Blob this thread
 * fetched (`range`) or, where `handOff` accepts the URL, a PieceRequest for the ingest to send.
 * The sizer learns how long each range took to come (`range`, LayerPieces.arrived).
 */
async function* fetchPieces(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  size: number,
  options: LayerPiecesOptions,
  sizer: PieceSizer,
  first: number,
  /** The answer to the first range, asked for already (none: every range is asked for here). */
  firstAnswer: Response | undefined,
  range: (at: number, want: number, answered?: Response) => Promise<Blob>,
  scopes: string[],
  signal: AbortSignal | undefined,
): AsyncGenerator<Blob | PieceRequest> {
  if (firstAnswer) yield await range(0, first, firstAnswer);
  for (let at = firstAnswer ? first : 0, want = 0; at < size; at += want) {
    want = Math.min(sizer.next(), size - at);
    if (options.handOff) {
      const ready = await client.prepare({
        url: `/v2/${repo}/blobs/${digest}`,
        scopes,
        ...(signal ? { signal } : {}),
      });
      if (options.handOff(ready.url)) {
        yield { kind: "request", url: ready.url, headers: ready.headers, at, want };
        continue;
      }
    }
    yield await range(at, want);
  }
}

/**
 * Fetches byte ranges of one layer blob on this thread as Blobs (see readPiece): a range whose
 * connection breaks is asked for again alone, with backoff, up to the client's retries; `answered`,
 * when given, is the answer to the range's first request.
 */
function rangeFetcher(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  size: number,
  scopes: string[],
  signal: AbortSignal | undefined,
  ctx: { registry: string; repository: string },
  /** Told how long each range it asked for took, from asking to its last byte. */
  sizer?: PieceSizer,
): (at: number, want: number, answered?: Response) => Promise<Blob> {
  const retries = client.options.retries ?? 4;
  return async (at, want, answered) => {
    let res = answered;
    for (let failures = 0; ; failures++) {
      try {
        // The answer given was asked for before the layer waited for a helper (the pull asks for
        // each layer's first range as soon as it starts the layer), so its time would say more of
        // that wait than of the link: only the ranges asked for here feed the sizer.
        const asked = res ? undefined : performance.now();
        res ??= await client.send({
          method: "GET",
          url: `/v2/${repo}/blobs/${digest}`,
          scopes,
          what: `layer ${digest}`,
          cache: "no-store",
          headers: { Range: `bytes=${at}-${at + want - 1}` },
          ...(signal ? { signal } : {}),
        });
        const piece = await readPiece(res, digest, at, want, size, ctx);
        if (asked !== undefined) sizer?.took(want, performance.now() - asked);
        return piece;
      } catch (err) {
        res = undefined;
        if (signal?.aborted) throw new CancelledError("pull");
        if (err instanceof LayerLabError) throw err;
        if (failures >= retries) {
          throw new RegistryError(
            "network",
            `layer ${digest}: the connection broke after ${at} of ${size} bytes, ${failures + 1} times. Check that the registry is still running and pull again: layers already received are kept.`,
            ctx,
            { cause: err },
          );
        }
        await sleep(Math.min(8000, (client.options.backoffMs ?? 500) * 2 ** failures), signal);
      }
    }
  };
}

/** One byte range of a layer as a Blob: exactly `want` bytes, or an error saying what came. */
async function readPiece(
  res: Response,
  digest: Digest,
  at: number,
  want: number,
  size: number,
  ctx: { registry: string; repository: string },
): Promise<Blob> {
  const tooLong = () =>
    new RegistryError(
      "digest-mismatch",
      at + want >= size
        ? `layer ${digest}: the registry sent more than the ${size} bytes the manifest says. Nothing of it was stored.`
        : `layer ${digest}: the registry sent more than the ${want} bytes asked for (from byte ${at} of ${size}). Nothing of it was stored.`,
      ctx,
    );
  if (res.status !== 206) {
    await discard(res);
    throw new RegistryError(
      "protocol",
      `layer ${digest}: asked for bytes ${at}-${at + want - 1}, the registry answered ${res.status} rather than 206 Partial Content (it answered a range before). Pull again.`,
      ctx,
    );
  }
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) > want) {
    await discard(res);
    throw tooLong();
  }
  let piece: Blob;
  if (declared !== null && Number(declared) === want) {
    // The browser brings the bytes into its blob storage; a broken connection rejects.
    piece = await res.blob();
  } else {
    // No length said: read here, counted, so a longer body stops at once.
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let n = 0;
    for await (const c of asyncIterable(res.body as ReadableStream<Uint8Array>)) {
      n += c.byteLength;
      if (n > want) throw tooLong();
      parts.push(c as Uint8Array<ArrayBuffer>);
    }
    piece = new Blob(parts);
  }
  if (piece.size > want) throw tooLong();
  if (piece.size < want) throw new TruncatedBody(at + piece.size, size);
  return piece;
}

/** Waits `ms`, or rejects with CancelledError as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError("pull"));
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError("pull"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Downloads a blob only to hash it (at most `size` bytes). */
async function digestOfBlob(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  size: number,
  scopes: string[],
  signal: AbortSignal | undefined,
): Promise<Digest | undefined> {
  const res = await client.send({
    method: "GET",
    url: `/v2/${repo}/blobs/${digest}`,
    scopes,
    what: `layer ${digest}`,
    ...(signal ? { signal } : {}),
  });
  if (!res.body) return undefined;
  const hash = await createSha256();
  let n = 0;
  for await (const c of asyncIterable(res.body as ReadableStream<Uint8Array>)) {
    n += c.byteLength;
    if (n > size) return undefined;
    hash.update(c);
  }
  return hash.finish();
}

class TruncatedBody extends Error {
  constructor(got: number, want: number) {
    super(`body ended after ${got} of ${want} bytes`);
  }
}

/** Runs tasks with at most `limit` at once; the first failure stops new ones and is thrown once all settle. */
export async function runLimited(
  tasks: (() => Promise<void>)[],
  limit: number,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      const t = tasks[next++]!;
      try {
        throwIfAborted(signal, "transfer");
        await t();
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.err;
}
