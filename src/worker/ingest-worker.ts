/// <reference lib="webworker" />
/**
 * A helper of the import: ingests one layer of an archive (its byte range of the File) into the
 * same IndexedDB store, so several layers decompress and hash at once on several cores.
 */
import "./shims/buffer.ts";
import { ingestArchiveEntry } from "../core/image/import.ts";
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import type { IngestReply, IngestRequest } from "./ingest-pool.ts";

declare const self: DedicatedWorkerGlobalScope;

const store = openIndexedDbStore("layerlab");
const running = new Map<number, AbortController>();

self.onmessage = async (ev: MessageEvent<IngestRequest>) => {
  const msg = ev.data;
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
    });
    reply = { id: msg.id, ok };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    reply = { id: msg.id, error: { code: e.code ?? "INTERNAL", message: e.message ?? String(err) } };
  } finally {
    running.delete(msg.id);
  }
  self.postMessage(reply);
};
