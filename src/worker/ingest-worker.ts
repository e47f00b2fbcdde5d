/// <reference lib="webworker" />
/**
 * A helper of the import: ingests one layer of an archive (its byte range of the File) into the
 * same IndexedDB store, so several layers decompress and hash at once on several cores.
 */
import "./shims/buffer.ts";
import { setReadBufferReuse } from "../core/image/import.ts";
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import { type IngestRequest, serveIngest } from "./ingest-pool.ts";

declare const self: DedicatedWorkerGlobalScope;

// A browser's DecompressionStream lets go of each chunk soon after it gets it (the Streams
// standard's queues hold a chunk or two): a pulled layer's ranges are read into the same memory
// by turns (see setReadBufferReuse).
setReadBufferReuse(true);

const serve = serveIngest(openIndexedDbStore("layerlab"), (reply, transfer) =>
  self.postMessage(reply, transfer),
);
self.onmessage = (ev: MessageEvent<IngestRequest>) => void serve(ev.data);
