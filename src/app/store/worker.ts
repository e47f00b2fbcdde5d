import { createWorkerClient, type WorkerClient } from "../../worker/client.ts";

let client: WorkerClient | undefined;

/** The one worker that owns the store; started on first use. */
export function workerClient(): WorkerClient {
  if (!client) {
    const worker = new Worker(new URL("../../worker/worker.ts", import.meta.url), { type: "module" });
    client = createWorkerClient(worker);
  }
  return client;
}
