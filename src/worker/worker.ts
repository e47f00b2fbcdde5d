/// <reference lib="webworker" />
import { openIndexedDbStore } from "../core/store/indexeddb.ts";
import { type CallContext, createHandlers, toWireError } from "./handlers.ts";
import type { ControlMessage, RequestMessage, ResponseMessage } from "./protocol.ts";

declare const self: DedicatedWorkerGlobalScope;

const handlersReady = openIndexedDbStore("layerlab").then(createHandlers);
const running = new Map<number, AbortController>();

function send(msg: ResponseMessage) {
  self.postMessage(msg);
}

self.onmessage = async (ev: MessageEvent<RequestMessage | ControlMessage>) => {
  const msg = ev.data;
  if (msg.type === "cancel") {
    running.get(msg.id)?.abort();
    return;
  }
  const ac = new AbortController();
  running.set(msg.id, ac);
  const ctx: CallContext = {
    signal: ac.signal,
    progress: (progress) => send({ type: "progress", id: msg.id, progress }),
  };
  try {
    const handlers = await handlersReady;
    const handler = handlers[msg.method] as (p: unknown, c: CallContext) => Promise<unknown>;
    const result = await handler(msg.params, ctx);
    send({ type: "result", id: msg.id, result });
  } catch (err) {
    send({ type: "error", id: msg.id, error: toWireError(err) });
  } finally {
    running.delete(msg.id);
  }
};
