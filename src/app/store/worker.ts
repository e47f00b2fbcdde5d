import { createWorkerClient, type WorkerClient } from "../../worker/client.ts";
import { serveFetchRelay } from "../../worker/fetch-relay.ts";
import type { FetchRelayPort } from "../../worker/protocol.ts";

let client: WorkerClient | undefined;

/** The one worker that owns the store; started on first use. */
export function workerClient(): WorkerClient {
  if (!client) {
    const worker = new Worker(new URL("../../worker/worker.ts", import.meta.url), { type: "module" });
    // The embedded registry's requests are made by the page, which its Service Worker controls.
    const relay = new MessageChannel();
    serveFetchRelay(relay.port1);
    worker.postMessage({ type: "fetch-relay", port: relay.port2 } satisfies FetchRelayPort, [relay.port2]);
    client = createWorkerClient(worker);
  }
  return client;
}
