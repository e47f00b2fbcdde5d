import type { ReadBuffer } from "../core/archive/bytes.ts";
import { LayerLabError, StorageFullError, type StorageFullFacts, throwIfAborted } from "../core/errors.ts";
import {
  type EntryJob,
  type ImportOptions,
  type IngestedEntry,
  ingestArchiveEntry,
} from "../core/image/import.ts";
import { asStorageFull } from "../core/store/faults.ts";
import type { Store } from "../core/store/types.ts";
import { callsInFlight } from "./calls.ts";

/** A request to an ingest worker: one layer's byte range of the archive, or a cancellation. */
export type IngestRequest =
  | {
      type: "ingest";
      id: number;
      file: Blob;
      job: EntryJob;
      options: Pick<ImportOptions, "limits" | "hashFiles" | "wholeDigestMaxBytes">;
    }
  | { type: "cancel"; id: number };

export type IngestReply =
  | { id: number; ok: IngestedEntry }
  | { id: number; error: { code: string; message: string; storage?: StorageFullFacts } };

/** What the pool needs of a worker (a Worker, or a test double). */
export interface IngestPort {
  postMessage(msg: IngestRequest): void;
  addEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
  removeEventListener(type: "message", fn: (ev: MessageEvent<IngestReply>) => void): void;
}

/** Job ids, unique across pools: imports running at once share the same workers. */
let seq = 0;

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
  const idle = [...workers];
  const waiting: ((w: IngestPort) => void)[] = [];
  const inFlight = new Map<number, IngestPort>();
  const take = () => new Promise<IngestPort>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r)));
  const give = (w: IngestPort) => (waiting.length ? waiting.shift()!(w) : idle.push(w));
  options.signal?.addEventListener("abort", () => {
    for (const [id, w] of inFlight) w.postMessage({ type: "cancel", id });
  });
  return {
    async run(job: EntryJob): Promise<IngestedEntry> {
      const w = await take();
      const id = ++seq;
      try {
        // A job that waited past the cancellation is not started.
        throwIfAborted(options.signal, "import");
        inFlight.set(id, w);
        return await new Promise<IngestedEntry>((resolve, reject) => {
          const onMessage = (ev: MessageEvent<IngestReply>) => {
            if (ev.data.id !== id) return;
            w.removeEventListener("message", onMessage);
            const d = ev.data;
            if ("ok" in d) resolve(d.ok);
            else if (d.error.storage) reject(new StorageFullError(d.error.message, d.error.storage));
            else reject(new LayerLabError(d.error.code as never, d.error.message));
          };
          w.addEventListener("message", onMessage);
          w.postMessage({
            type: "ingest",
            id,
            file,
            job,
            options: {
              limits: options.limits,
              hashFiles: options.hashFiles,
              wholeDigestMaxBytes: options.wholeDigestMaxBytes,
            },
          });
        });
      } finally {
        inFlight.delete(id);
        give(w);
      }
    },
  };
}

/** How long a worker keeps its read buffers after its last job (the next layer usually follows). */
const KEEP_BUFFERS_MS = 1000;

/**
 * The worker side (src/worker/ingest-worker.ts): runs each job with ingestArchiveEntry on its
 * slice of the File and posts the reply; a cancel message aborts the job it names.
 *
 * Each job reads its layer whole into a buffer kept from the job before (one per job running at
 * once), so an import's layers reuse the same memory rather than leaving each its own for the
 * garbage collector. The buffers go a second after the last job, so an idle worker holds none.
 */
export function serveIngest(
  store: Promise<Store>,
  post: (reply: IngestReply, transfer: Transferable[]) => void,
): (msg: IngestRequest) => Promise<void> {
  const calls = callsInFlight();
  const buffers: ReadBuffer[] = [];
  let drop: ReturnType<typeof setTimeout> | undefined;
  return async (msg) => {
    if (msg.type === "cancel") return calls.cancel(msg.id);
    const signal = calls.start(msg.id);
    clearTimeout(drop);
    const readBuffer = buffers.pop() ?? {};
    let reply: IngestReply;
    try {
      const body = msg.file.slice(msg.job.start, msg.job.end);
      const ok = await ingestArchiveEntry(await store, body, msg.job.path, {
        ...msg.options,
        signal,
        // The import's own worker stores the layer blob and its index, so this one goes on to
        // the next layer at once (its store writes would wait on IndexedDB here).
        leaveWrites: true,
        readBuffer,
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
      calls.end(msg.id);
      buffers.push(readBuffer);
      if (calls.size === 0) drop = setTimeout(() => void buffers.splice(0), KEEP_BUFFERS_MS);
    }
    const index = "ok" in reply && "leftToStore" in reply.ok ? reply.ok.leftToStore?.index : undefined;
    post(reply, index ? [index.buffer] : []);
  };
}
