import type {
  ControlMessage,
  MethodName,
  Progress,
  RequestMessage,
  ResponseMessage,
  WireError,
  WorkerMethods,
  WorkerNotice,
} from "./protocol.ts";

/** An error the worker reported, with its code (e.g. DIGEST_MISMATCH, CANCELLED). */
export class WorkerCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** For STORAGE_FULL: the numbers behind the message. */
    readonly storage?: WireError["storage"],
  ) {
    super(message);
    this.name = "WorkerCallError";
  }
}

/** What a page needs of a worker: post messages and hear answers (a Worker, or a test double). */
export interface WorkerPort {
  postMessage(msg: RequestMessage | ControlMessage): void;
  addEventListener(type: "message", fn: (ev: MessageEvent<ResponseMessage>) => void): void;
}

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  /** Events a long call streams (a build's log lines). */
  onEvent?: (e: unknown) => void;
  signal?: AbortSignal;
}

/** A typed client: `call("storage.stats", undefined)` resolves with that method's result type. */
export interface WorkerClient {
  call<M extends MethodName>(
    method: M,
    params: WorkerMethods[M]["params"],
    options?: CallOptions,
  ): Promise<WorkerMethods[M]["result"]>;
  /** Hears what the worker says unasked (its store closed); returns a function that stops it. */
  onNotice(fn: (notice: WorkerNotice) => void): () => void;
}

export function createWorkerClient(port: WorkerPort): WorkerClient {
  let nextId = 1;
  const pending = new Map<
    number,
    {
      resolve: (v: unknown) => void;
      reject: (e: Error) => void;
      onProgress?: (p: Progress) => void;
      onEvent?: (e: unknown) => void;
    }
  >();
  const noticed = new Set<(notice: WorkerNotice) => void>();
  port.addEventListener("message", (ev) => {
    const msg = ev.data;
    if (msg.type === "notice") {
      for (const fn of noticed) fn(msg.notice);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    if (msg.type === "progress") p.onProgress?.(msg.progress);
    else if (msg.type === "event") p.onEvent?.(msg.event);
    else {
      pending.delete(msg.id);
      if (msg.type === "result") p.resolve(msg.result);
      else p.reject(new WorkerCallError(msg.error.code, msg.error.message, msg.error.storage));
    }
  });
  return {
    onNotice(fn) {
      noticed.add(fn);
      return () => noticed.delete(fn);
    },
    call(method, params, options) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, {
          resolve: resolve as (v: unknown) => void,
          reject,
          onProgress: options?.onProgress,
          onEvent: options?.onEvent,
        });
        port.postMessage({ type: "call", id, method, params } as RequestMessage);
        const signal = options?.signal;
        if (signal?.aborted) port.postMessage({ type: "cancel", id });
        else
          signal?.addEventListener("abort", () => port.postMessage({ type: "cancel", id }), { once: true });
      });
    },
  };
}
