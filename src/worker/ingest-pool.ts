import { LayerLabError, throwIfAborted } from "../core/errors.ts";
import {
  type EntryJob,
  type ImportOptions,
  type IngestedEntry,
  ingestArchiveEntry,
} from "../core/image/import.ts";
import type { Store } from "../core/store/types.ts";

/** A request to an ingest worker: one layer's byte range of the archive, or a cancellation. */
export type IngestRequest =
  | {
      type: "ingest";
      id: number;
      file: Blob;
      job: EntryJob;
      /** The job's slice of `file`, already read whole by the pool while the job waited. */
      bytes?: ArrayBuffer;
      options: Pick<ImportOptions, "limits" | "hashFiles" | "wholeDigestMaxBytes">;
    }
  | { type: "cancel"; id: number };

export type IngestReply =
  | { id: number; ok: IngestedEntry }
  | { id: number; error: { code: string; message: string } };

/** What the pool needs of a worker (a Worker, or a test double). */
export interface IngestPort {
  postMessage(msg: IngestRequest, transfer?: Transferable[]): void;
  addEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
  removeEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
}

/** Job ids, unique across pools: imports running at once share the same workers. */
let seq = 0;

/**
 * A pool of ingest workers for one import: each job (a layer) goes to the next idle worker;
 * aborting the signal cancels every job in flight (each worker removes what it had stored). The
 * workers outlive the pool: the next import uses them again.
 *
 * The job at the head of the queue has its bytes read here while it waits (when it is small
 * enough to be read whole, see wholeDigestMaxBytes), so the worker that takes it starts on them at
 * once. Only the head does: the bytes held are the workers' own plus one job's.
 */
export function createIngestPool(
  workers: IngestPort[],
  file: Blob,
  options: Pick<ImportOptions, "limits" | "hashFiles" | "wholeDigestMaxBytes"> & { signal?: AbortSignal },
) {
  interface Waiter {
    job: EntryJob;
    bytes?: Promise<ArrayBuffer | undefined>;
    start: (w: IngestPort) => void;
  }
  const idle = [...workers];
  const waiting: Waiter[] = [];
  const inFlight = new Map<number, IngestPort>();
  const wholeMax = options.wholeDigestMaxBytes ?? 0;
  const readHead = () => {
    const head = waiting[0];
    if (!head || head.bytes || head.job.end - head.job.start > wholeMax) return;
    // A failed read is left to the worker, which reads the slice again and reports what failed.
    head.bytes = file
      .slice(head.job.start, head.job.end)
      .arrayBuffer()
      .catch(() => undefined);
  };
  const take = (job: EntryJob) =>
    new Promise<{ w: IngestPort; bytes?: Promise<ArrayBuffer | undefined> }>((resolve) => {
      if (idle.length) return resolve({ w: idle.pop()! });
      const waiter: Waiter = { job, start: (w) => resolve({ w, bytes: waiter.bytes }) };
      waiting.push(waiter);
      readHead();
    });
  const give = (w: IngestPort) => {
    const next = waiting.shift();
    if (!next) return void idle.push(w);
    next.start(w);
    readHead();
  };
  options.signal?.addEventListener("abort", () => {
    for (const [id, w] of inFlight) w.postMessage({ type: "cancel", id });
  });
  return {
    async run(job: EntryJob): Promise<IngestedEntry> {
      const { w, bytes: reading } = await take(job);
      const id = ++seq;
      try {
        // A job that waited past the cancellation is not started.
        throwIfAborted(options.signal, "import");
        const bytes = await reading;
        inFlight.set(id, w);
        return await new Promise<IngestedEntry>((resolve, reject) => {
          const onMessage = (ev: MessageEvent<IngestReply>) => {
            if (ev.data.id !== id) return;
            w.removeEventListener("message", onMessage);
            const d = ev.data;
            if ("ok" in d) resolve(d.ok);
            else reject(new LayerLabError(d.error.code as never, d.error.message));
          };
          w.addEventListener("message", onMessage);
          w.postMessage(
            {
              type: "ingest",
              id,
              file,
              job,
              ...(bytes ? { bytes } : {}),
              options: {
                limits: options.limits,
                hashFiles: options.hashFiles,
                wholeDigestMaxBytes: options.wholeDigestMaxBytes,
              },
            },
            bytes ? [bytes] : [],
          );
        });
      } finally {
        inFlight.delete(id);
        give(w);
      }
    },
  };
}

/**
 * The worker side (src/worker/ingest-worker.ts): runs each job with ingestArchiveEntry on its
 * slice of the File and posts the reply; a cancel message aborts the job it names.
 */
export function serveIngest(
  store: Promise<Store>,
  post: (reply: IngestReply, transfer: Transferable[]) => void,
): (msg: IngestRequest) => Promise<void> {
  const running = new Map<number, AbortController>();
  return async (msg) => {
    if (msg.type === "cancel") {
      running.get(msg.id)?.abort();
      return;
    }
    const ac = new AbortController();
    running.set(msg.id, ac);
    let reply: IngestReply;
    try {
      const body = msg.file.slice(msg.job.start, msg.job.end);
      const ok = await ingestArchiveEntry(await store, body, msg.job.path, {
        ...msg.options,
        signal: ac.signal,
        ...(msg.bytes ? { wholeBytes: new Uint8Array(msg.bytes) } : {}),
        // The import's own worker stores the layer blob and its index, so this one goes on to
        // the next layer at once (its store writes would wait on IndexedDB here).
        leaveWrites: true,
      });
      reply = { id: msg.id, ok };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      reply = { id: msg.id, error: { code: e.code ?? "INTERNAL", message: e.message ?? String(err) } };
    } finally {
      running.delete(msg.id);
    }
    const index = "ok" in reply && "leftToStore" in reply.ok ? reply.ok.leftToStore?.index : undefined;
    post(reply, index ? [index.buffer] : []);
  };
}
