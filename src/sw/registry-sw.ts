/**
 * The Service Worker that serves the embedded registry: requests under `/embedded-registry/` are
 * answered by `EmbeddedRegistry` over a second IndexedDB database (`layerlab-embedded-registry`,
 * "another machine" with its own blobs and byte count); every other request goes to the network
 * untouched. Built by Vite to `/registry-sw.js` (scope `/`) and registered by the page on load.
 */
import { EmbeddedRegistry } from "../core/registry/embedded.ts";
import {
  EMBEDDED_REGISTRY_CHANNEL,
  EMBEDDED_REGISTRY_DB,
  EMBEDDED_REGISTRY_PATH,
} from "../core/registry/endpoints.ts";
import { openIndexedDbStore } from "../core/store/indexeddb.ts";

/** The parts of the Service Worker global scope used here (the DOM lib has no such type). */
interface ServiceWorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: "install" | "activate", fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", fn: (e: FetchEvent) => void): void;
}
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response>): void;
}

const sw = self as unknown as ServiceWorkerScope;
const changes =
  typeof BroadcastChannel === "undefined" ? undefined : new BroadcastChannel(EMBEDDED_REGISTRY_CHANNEL);
let opened: Promise<EmbeddedRegistry> | undefined;

/** The registry, its database opened on first use (and again if the browser closed it). */
function registry(): Promise<EmbeddedRegistry> {
  if (!opened) {
    const p = openIndexedDbStore(EMBEDDED_REGISTRY_DB, {
      onClosed: () => {
        if (opened === p) opened = undefined;
      },
    }).then((store) => new EmbeddedRegistry(store, { prefix: EMBEDDED_REGISTRY_PATH }));
    p.catch(() => {
      if (opened === p) opened = undefined;
    });
    opened = p;
  }
  return opened;
}

/** Whether an answer changed what the registry holds (a page showing it refreshes). */
function changed(method: string, path: string, status: number): boolean {
  if (method === "POST" && path.endsWith("/clear")) return status === 200;
  return (
    (status === 201 && (method === "PUT" || method === "POST")) || (status === 202 && method === "DELETE")
  );
}

async function answer(request: Request): Promise<Response> {
  try {
    const res = await (await registry()).handle(request);
    if (changed(request.method, new URL(request.url).pathname, res.status))
      changes?.postMessage({ kind: "changed" });
    return res;
  } catch (err) {
    const message = `the embedded registry could not open its store: ${err instanceof Error ? err.message : String(err)}`;
    return new Response(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message }] }), {
      status: 503,
      headers: { "Content-Type": "application/json" },
    });
  }
}

sw.addEventListener("install", (e) => e.waitUntil(sw.skipWaiting()));
// Take the open pages at once, so the first visit can use the registry without a reload.
sw.addEventListener("activate", (e) => e.waitUntil(sw.clients.claim()));
sw.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== sw.location.origin || !url.pathname.startsWith(`${EMBEDDED_REGISTRY_PATH}/`)) return;
  e.respondWith(answer(e.request));
});
