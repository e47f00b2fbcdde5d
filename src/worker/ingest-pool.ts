import { asyncIterable, type ReadBuffer } from "../core/archive/bytes.ts";
import type { Digest } from "../core/digest.ts";
import {
  CancelledError,
  LayerLabError,
  StorageFullError,
  type StorageFullFacts,
  throwIfAborted,
} from "../core/errors.ts";
import {
  type EntryJob,
  type ImportOptions,
  type IngestedEntry,
  ingestArchiveEntry,
} from "../core/image/import.ts";
import { isPieces, type PieceRequest } from "../core/image/ingest-layer.ts";
import { fetchPieceRequest, type LayerIngest } from "../core/registry/pull.ts";
import { asStorageFull } from "../core/store/faults.ts";
import type { Store } from "../core/store/types.ts";
import { callsInFlight } from "./calls.ts";

/** What the helper is told about one layer it ingests (the rest comes from the call). */
type JobOptions = Pick<ImportOptions, "limits" | "hashFiles" | "wholeDigestMaxBytes" | "blobsOnly"> & {
  /** The digest a pulled layer must have (see ingestArchiveEntry's `expected`). */
  expected?: Digest;
};

/**
 * A request to an ingest worker: one layer's byte range of an archive (an import), one layer's
 * bytes as they arrive (a pull: the stream is transferred to the worker), the Blobs of one
 * layer's byte ranges as they arrive (a pull by range: a transferred stream of Blobs, `size`
 * bytes in all), or a cancellation.
 */
export type IngestRequest =
  | { type: "ingest"; id: number; file: Blob; job: EntryJob; options: JobOptions }
  | { type: "ingest-stream"; id: number; body: ReadableStream<Uint8Array>; path: string; options: JobOptions }
  | {
      type: "ingest-pieces";
      id: number;
      pieces: ReadableStream<Blob | PieceRequest>;
      size: number;
      /** No piece is larger (BlobPieces.largest). */
      largest?: number;
      path: string;
      options: JobOptions;
      /** Where the worker says which requests it fetched, and asks for those it could not (PieceTalk). */
      port?: MessagePort;
    }
  | { type: "cancel"; id: number };

/**
 * What a worker and the pull say about a layer's PieceRequests, on the job's port: the worker
 * fetched one (`arrived`, and how long it took) or asks the pull to fetch it (`again`), and the pull's answer.
 */
type PieceTalk =
  | { kind: "arrived"; request: PieceRequest; ms: number }
  | { kind: "again"; id: number; request: PieceRequest }
  | { kind: "blob"; id: number; blob: Blob }
  | { kind: "failed"; id: number; message: string };

export type IngestReply =
  | { id: number; ok: IngestedEntry }
  /** A pulled layer read whole, its store writes under way: the worker may take the next job. */
  | { id: number; released: true }
  | { id: number; error: { code: string; message: string; storage?: StorageFullFacts } };

/** What the pool needs of a worker (a Worker, or a test double). */
export interface IngestPort {
  postMessage(msg: IngestRequest, transfer?: Transferable[]): void;
  addEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
  removeEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
}

/** Job ids, unique across pools: imports and pulls running at once share the same workers. */
let seq = 0;

/** Workers handed out one job each: a job waits until a worker comes back. */
function workerQueue(workers: IngestPort[]) {
  const idle = [...workers];
  const waiting: ((w: IngestPort) => void)[] = [];
  return {
    take: () => new Promise<IngestPort>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r))),
    give: (w: IngestPort) => (waiting.length ? waiting.shift()!(w) : idle.push(w)),
  };
}

/**
 * Posts one job to a worker and waits for its reply. Aborting `signal` sends the worker a cancel
 * for it; the worker removes what the job had stored, then answers.
 */
function runJob(
  w: IngestPort,
  request: (id: number) => IngestRequest,
  transfer: Transferable[],
  signal: AbortSignal | undefined,
  /** The worker read the job's bytes and only stores them now (a `released` reply). */
  onReleased?: () => void,
): Promise<IngestedEntry> {
  const id = ++seq;
  const cancel = () => w.postMessage({ type: "cancel", id });
  return new Promise<IngestedEntry>((resolve, reject) => {
    const onMessage = (ev: MessageEvent<IngestReply>) => {
      if (ev.data.id !== id) return;
      const d = ev.data;
      if ("released" in d) return onReleased?.();
      w.removeEventListener("message", onMessage);
      signal?.removeEventListener("abort", cancel);
      if ("ok" in d) resolve(d.ok);
      else if (d.error.storage) reject(new StorageFullError(d.error.message, d.error.storage));
      else reject(new LayerLabError(d.error.code as never, d.error.message));
    };
    w.addEventListener("message", onMessage);
    signal?.addEventListener("abort", cancel, { once: true });
    w.postMessage(request(id), transfer);
  });
}

/**
 * A pool of ingest workers for one import: each job (a layer) goes to the next idle worker;
 * aborting the signal cancels every job in flight (each worker removes what it had stored). The
 * workers outlive the pool: the next import uses them again.
 */
export function createIngestPool(
  workers: IngestPort[],
  file: Blob,
  options: Pick<ImportOptions, "limits" | "hashFiles" | "wholeDigestMaxBytes"> & { signal?: AbortSignal },
) {
  const queue = workerQueue(workers);
  return {
    async run(job: EntryJob): Promise<IngestedEntry> {
      const w = await queue.take();
      try {
        // A job that waited past the cancellation is not started.
        throwIfAborted(options.signal, "import");
        return await runJob(
          w,
          (id) => ({
            type: "ingest",
            id,
            file,
            job,
            options: {
              limits: options.limits,
              hashFiles: options.hashFiles,
              wholeDigestMaxBytes: options.wholeDigestMaxBytes,
            },
          }),
          [],
          options.signal,
        );
      } finally {
        queue.give(w);
      }
    },
  };
}

/**
 * The layer ingest of a pull on the import's workers (see LayerIngest): each layer's bytes are
 * handed, as they arrive, to the next idle worker as a transferred ReadableStream, and the worker
 * stores, decompresses, hashes and indexes them on its own core while this thread only reads the
 * network. A layer fetched by range goes the same way as a stream of Blobs (or of requests for
 * them, which the worker sends itself: see pieceResolver): this thread then reads none of its
 * bytes, and the worker has the store adopt the Blob they compose. A source that fails (a broken
 * connection, a body longer than its size) reaches the worker only as a stream error, so the
 * caller gets the source's own error back, to judge it as it judges any other (retry, or a
 * digest mismatch).
 */
export function createStreamIngest(
  workers: IngestPort[],
  /** Passed on to each job (tests set wholeDigestMaxBytes to 0 to have small layers stream). */
  defaults: Pick<JobOptions, "wholeDigestMaxBytes"> = {},
): LayerIngest {
  const queue = workerQueue(workers);
  return async (body, path, options) => {
    const w = await queue.take();
    // The worker goes to the next layer as soon as it has read this one (see serveIngest).
    let given = false;
    const give = () => {
      if (given) return;
      given = true;
      queue.give(w);
    };
    try {
      throwIfAborted(options.signal, "pull");
      let sourceFailure: { err: unknown } | undefined;
      const onError = (err: unknown) => {
        sourceFailure ??= { err };
      };
      const jobOptions: JobOptions = {
        ...defaults,
        ...(options.hashFiles === false ? { hashFiles: false } : {}),
        ...(options.blobsOnly ? { blobsOnly: true } : {}),
        ...(options.expected ? { expected: options.expected } : {}),
      };
      const stream = isPieces(body) ? readableFrom(body.pieces, onError) : readableFrom(body, onError);
      // Pieces that may be requests: the pull's side of their talk (see PieceTalk).
      const channel = isPieces(body) && body.resolve ? new MessageChannel() : undefined;
      if (channel && isPieces(body)) {
        const resolve = body.resolve!;
        channel.port1.onmessage = (ev: MessageEvent<PieceTalk>) => {
          const t = ev.data;
          if (t.kind === "arrived") body.arrived?.(t.request, t.ms);
          else if (t.kind === "again") {
            resolve(t.request).then(
              (blob) => channel.port1.postMessage({ kind: "blob", id: t.id, blob } satisfies PieceTalk),
              (err: unknown) => {
                onError(err);
                channel.port1.postMessage({
                  kind: "failed",
                  id: t.id,
                  message: (err as Error)?.message ?? String(err),
                } satisfies PieceTalk);
              },
            );
          }
        };
      }
      try {
        return await runJob(
          w,
          (id): IngestRequest =>
            isPieces(body)
              ? {
                  type: "ingest-pieces",
                  id,
                  pieces: stream as ReadableStream<Blob | PieceRequest>,
                  size: body.size,
                  ...(body.largest ? { largest: body.largest } : {}),
                  path,
                  options: jobOptions,
                  ...(channel ? { port: channel.port2 } : {}),
                }
              : {
                  type: "ingest-stream",
                  id,
                  body: stream as ReadableStream<Uint8Array>,
                  path,
                  options: jobOptions,
                },
          [stream as unknown as Transferable, ...(channel ? [channel.port2] : [])],
          options.signal,
          give,
        );
      } catch (err) {
        if (sourceFailure) throw sourceFailure.err;
        throw err;
      } finally {
        channel?.port1.close();
      }
    } finally {
      give();
    }
  };
}

/**
 * A ReadableStream pulled from an async iterable, one chunk at a time; cancelling it ends the
 * iterable (which ends a fetch body under it). `onError` hears the iterable's failure first.
 */
function readableFrom<T>(source: AsyncIterable<T>, onError: (err: unknown) => void): ReadableStream<T> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<T>({
    async pull(controller) {
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (err) {
        onError(err);
        controller.error(err);
        return;
      }
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/**
 * A worker's way to make a layer's PieceRequests: it sends each itself (the Blob then lives only
 * on this thread) and tells the pull it arrived; one it cannot complete (a broken connection, an
 * answer that is not the range) it asks the pull to fetch, which retries and judges it.
 */
function pieceResolver(
  port: MessagePort,
  doFetch: typeof fetch,
  signal: AbortSignal,
): (r: PieceRequest) => Promise<Blob> {
  const waiting = new Map<number, { resolve: (b: Blob) => void; reject: (e: Error) => void }>();
  let next = 0;
  port.onmessage = (ev: MessageEvent<PieceTalk>) => {
    const t = ev.data;
    if (t.kind !== "blob" && t.kind !== "failed") return;
    const w = waiting.get(t.id);
    waiting.delete(t.id);
    if (t.kind === "blob") w?.resolve(t.blob);
    else w?.reject(new LayerLabError("REGISTRY", t.message));
  };
  // Cancelled while the pull fetches a range again: the ingest stops at once.
  signal.addEventListener(
    "abort",
    () => {
      for (const w of waiting.values()) w.reject(new CancelledError("pull"));
      waiting.clear();
    },
    { once: true },
  );
  return async (r) => {
    try {
      const asked = performance.now();
      const blob = await fetchPieceRequest(r, doFetch, signal);
      port.postMessage({ kind: "arrived", request: r, ms: performance.now() - asked } satisfies PieceTalk);
      return blob;
    } catch (err) {
      if (signal.aborted) throw err;
      const id = ++next;
      return new Promise<Blob>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        port.postMessage({ kind: "again", id, request: r } satisfies PieceTalk);
      });
    }
  };
}

/** Whether this platform can hand a ReadableStream to a worker (transferable streams). */
export function canTransferStreams(): boolean {
  if (typeof ReadableStream !== "function" || typeof MessageChannel !== "function") return false;
  const { port1, port2 } = new MessageChannel();
  try {
    const stream = new ReadableStream();
    port1.postMessage(stream, [stream as unknown as Transferable]);
    return true;
  } catch {
    return false;
  } finally {
    port1.close();
    port2.close();
  }
}

/** How long a worker keeps its read buffers after its last job (the next layer usually follows). */
const KEEP_BUFFERS_MS = 1000;

/**
 * The worker side (src/worker/ingest-worker.ts): runs each job with ingestArchiveEntry on its
 * slice of the File (an import) or on the stream it was handed (a pull) and posts the reply; a
 * cancel message aborts the job it names.
 *
 * Each job reads its layer whole into a buffer kept from the job before (one per job running at
 * once), so an import's layers reuse the same memory rather than leaving each its own for the
 * garbage collector. The buffers go a second after the last job, so an idle worker holds none.
 */
export function serveIngest(
  store: Promise<Store>,
  post: (reply: IngestReply, transfer: Transferable[]) => void,
  /** How this worker sends a layer's PieceRequests (tests wrap it to break connections). */
  doFetch: typeof fetch = (input, init) => fetch(input, init),
): (msg: IngestRequest) => Promise<void> {
  const calls = callsInFlight();
  const buffers: ReadBuffer[] = [];
  let drop: ReturnType<typeof setTimeout> | undefined;
  return async (msg) => {
    if (msg.type === "cancel") return calls.cancel(msg.id);
    const signal = calls.start(msg.id);
    clearTimeout(drop);
    const readBuffer = buffers.pop() ?? {};
    // A pulled layer, once read: its buffers go back and the pool may send the next layer while
    // IndexedDB stores this one (two layers' store writes no longer leave the worker idle).
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      buffers.push(readBuffer);
      post({ id: msg.id, released: true }, []);
    };
    let reply: IngestReply;
    try {
      const ok =
        msg.type === "ingest"
          ? await ingestArchiveEntry(await store, msg.file.slice(msg.job.start, msg.job.end), msg.job.path, {
              ...msg.options,
              signal,
              // The import's own worker stores the layer blob and its index, so this one goes on to
              // the next layer at once (its store writes would wait on IndexedDB here).
              leaveWrites: true,
              readBuffer,
            })
          : msg.type === "ingest-pieces"
            ? // A pulled layer's ranges: read here as they come, the Blob they compose adopted here.
              await ingestArchiveEntry(
                await store,
                {
                  kind: "pieces",
                  pieces: asyncIterable(msg.pieces),
                  size: msg.size,
                  ...(msg.largest ? { largest: msg.largest } : {}),
                  ...(msg.port ? { resolve: pieceResolver(msg.port, doFetch, signal) } : {}),
                },
                msg.path,
                { ...msg.options, signal, readBuffer, onRead: release },
              )
            : // A pulled layer is stored here as it streams: there is no File for the caller to adopt.
              await ingestArchiveEntry(await store, msg.body, msg.path, {
                ...msg.options,
                signal,
                onRead: release,
              });
      reply = { id: msg.id, ok };
    } catch (caught) {
      // A refused write (the quota) travels with its numbers; a DOMException's own message is empty.
      const err = asStorageFull(caught);
      const e = err as { code?: string; message?: string; name?: string };
      const message = e.message || e.name || String(err);
      reply =
        err instanceof StorageFullError
          ? { id: msg.id, error: { code: err.code, message, storage: err.facts } }
          : { id: msg.id, error: { code: e.code ?? "INTERNAL", message } };
    } finally {
      if (msg.type === "ingest-pieces") msg.port?.close();
      calls.end(msg.id);
      if (!released) buffers.push(readBuffer);
      if (calls.size === 0) drop = setTimeout(() => void buffers.splice(0), KEEP_BUFFERS_MS);
    }
    const index = "ok" in reply && "leftToStore" in reply.ok ? reply.ok.leftToStore?.index : undefined;
    post(reply, index ? [index.buffer] : []);
  };
}
