/// <reference lib="webworker" />
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import { createHandlers } from "./handlers.ts";
import type { ControlMessage, RequestMessage } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

declare const self: DedicatedWorkerGlobalScope;

const handle = serveProtocol(
  openIndexedDbStore("layerlab").then((store) => createHandlers(store)),
  (msg) => self.postMessage(msg),
);

self.onmessage = (ev: MessageEvent<RequestMessage | ControlMessage>) => void handle(ev.data);
