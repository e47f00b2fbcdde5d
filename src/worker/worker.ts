/// <reference lib="webworker" />
import "./shims/buffer.ts";
import { builtinResolver } from "../core/build/builtins.ts";
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import { createHandlers } from "./handlers.ts";
import type { ControlMessage, RequestMessage } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

declare const self: DedicatedWorkerGlobalScope;

/** The teaching bases' data, served with the app from public/catalog. */
async function loadCatalogFile(file: string): Promise<Uint8Array | undefined> {
  const res = await fetch(new URL(`${import.meta.env.BASE_URL}catalog/${file}`, self.location.origin));
  return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
}

const handle = serveProtocol(
  openIndexedDbStore("layerlab").then((store) =>
    createHandlers(store, { builtins: builtinResolver(loadCatalogFile) }),
  ),
  (msg) => self.postMessage(msg),
);

self.onmessage = (ev: MessageEvent<RequestMessage | ControlMessage>) => void handle(ev.data);
