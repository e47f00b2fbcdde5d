/**
 * For tests in Node: a worker client wired to the real handlers in-process, as the page is wired
 * to the worker (every message structured-cloned both ways, as postMessage does).
 */
import type { Store } from "../core/store/types.ts";
import { createWorkerClient, type WorkerClient } from "./client.ts";
import { createHandlers } from "./handlers.ts";
import type { ResponseMessage } from "./protocol.ts";
import { serveProtocol } from "./serve.ts";

/** The client of a worker whose handlers run over `store` in this thread. */
export function connectInProcess(store: Store, options?: Parameters<typeof createHandlers>[1]): WorkerClient {
  const listeners: ((ev: MessageEvent<ResponseMessage>) => void)[] = [];
  const handle = serveProtocol(createHandlers(store, options), (msg) => {
    for (const l of listeners) l({ data: structuredClone(msg) } as MessageEvent<ResponseMessage>);
  });
  return createWorkerClient({
    postMessage: (msg) => void handle(structuredClone(msg)),
    addEventListener: (_t, fn) => listeners.push(fn),
  });
}
