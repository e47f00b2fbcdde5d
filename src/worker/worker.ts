/// <reference lib="webworker" />
import "./shims/buffer.ts";
import { builtinResolver } from "../core/builder/builtins.ts";
import { setReadBufferReuse } from "../core/image/import.ts";
import { EMBEDDED_REGISTRY_PATH, pageEndpoint } from "../core/registry/endpoints.ts";
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import { relayFetch } from "./fetch-relay.ts";
import { createHandlers } from "./handlers.ts";
import type { IngestPort } from "./ingest-pool.ts";
import { type ControlMessage, type FetchRelayPort, type RequestMessage, STORE_CHANNEL } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

declare const self: DedicatedWorkerGlobalScope;

// A browser's DecompressionStream lets go of each chunk soon after it gets it (the Streams
// standard's queues hold a chunk or two): a pulled layer's ranges are read into the same memory
// by turns (see setReadBufferReuse).
setReadBufferReuse(true);

/** The teaching bases' data, served with the app from public/catalog. */
async function loadCatalogFile(file: string): Promise<Uint8Array | undefined> {
  const res = await fetch(new URL(`${import.meta.env.BASE_URL}catalog/${file}`, self.location.origin));
  return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
}

/** The page's fetch for the embedded registry (see fetch-relay.ts); set when the page sends its port. */
let viaPage: typeof fetch | undefined;
const embedded = `${self.location.origin}${EMBEDDED_REGISTRY_PATH}/`;
const registryFetch: typeof fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  return viaPage && url.startsWith(embedded) ? viaPage(input, init) : fetch(input, init);
};

let helpers: IngestPort[] | undefined;
/**
 * Layers of an import are ingested on the other cores (this worker reads the archive's headers).
 * The helpers are started once and kept: a worker takes tens of milliseconds to load and open the
 * store, which an import should not wait for.
 */
function ingestWorkers(): IngestPort[] {
  helpers ??= Array.from(
    { length: Math.max(1, Math.min(4, self.navigator.hardwareConcurrency ?? 2)) },
    () =>
      new Worker(new URL("./ingest-worker.ts", import.meta.url), {
        type: "module",
      }) as unknown as IngestPort,
  );
  return helpers;
}

/** Tells the other tabs what changed, so their pages show a new image without a reload. */
const channel = typeof BroadcastChannel === "undefined" ? undefined : new BroadcastChannel(STORE_CHANNEL);

const store = openIndexedDbStore("layerlab", {
  // A newer tab upgrades the schema: this one has closed its store and the page must reload.
  onClosed: (why) => self.postMessage({ type: "notice", notice: { kind: "store-closed", why } }),
});
const handle = serveProtocol(
  store.then((s) =>
    createHandlers(s, {
      builtins: builtinResolver(loadCatalogFile),
      ingestWorkers,
      onChanged: (change) => channel?.postMessage(change),
      // Public registries through the same-origin proxy, the embedded one at its own path.
      registryEndpoint: (host) => pageEndpoint(host, self.location.origin),
      registryFetch,
      // The helpers fetch a pull's ranges themselves, but the embedded registry only through the page.
      registryHelperFetches: (url) => !url.startsWith(embedded),
    }),
  ),
  (msg) => self.postMessage(msg),
);
// Ready before the first import: they load on their own threads while this one serves the page.
void store.then(ingestWorkers);

self.onmessage = (ev: MessageEvent<RequestMessage | ControlMessage | FetchRelayPort>) => {
  const msg = ev.data;
  if (msg.type === "fetch-relay") viaPage = relayFetch(msg.port);
  else void handle(msg);
};
