/**
 * Fetches a worker hands to the page. The embedded registry is a Service Worker, and a Service
 * Worker only sees the requests of the clients it controls: on a first visit the store's worker
 * starts before the Service Worker is installed, and Chromium does not let the Service Worker
 * claim a dedicated worker that already runs. Its requests to `/embedded-registry/` would reach
 * the preview server instead (whose fallback answers a HEAD with index.html and 200). So the
 * worker asks the page, which the Service Worker does claim, to make those requests; bodies go
 * as copies, answers come back with their body as a transferred stream (nothing is buffered).
 */

/** One request, as it crosses the port. */
interface RelayRequest {
  kind: "fetch";
  id: number;
  url: string;
  method: string;
  headers: [string, string][];
  redirect: RequestRedirect;
  body?: Uint8Array;
}

interface RelayAbort {
  kind: "abort";
  id: number;
}

/** The page's answer: the response's head and its body as a stream, or why there is none. */
type RelayAnswer =
  | {
      id: number;
      status: number;
      statusText: string;
      headers: [string, string][];
      body: ReadableStream<Uint8Array> | null;
    }
  | { id: number; error: string };

/** The page's side: answers the worker's requests with the page's own fetch. */
export function serveFetchRelay(port: MessagePort, doFetch: typeof fetch = (i, o) => fetch(i, o)): void {
  const running = new Map<number, AbortController>();
  port.onmessage = async (ev: MessageEvent<RelayRequest | RelayAbort>) => {
    const msg = ev.data;
    if (msg.kind === "abort") {
      running.get(msg.id)?.abort();
      return;
    }
    const ac = new AbortController();
    running.set(msg.id, ac);
    try {
      const res = await doFetch(msg.url, {
        method: msg.method,
        headers: msg.headers,
        ...(msg.body ? { body: msg.body as BodyInit } : {}),
        redirect: msg.redirect,
        signal: ac.signal,
      });
      const answer: RelayAnswer = {
        id: msg.id,
        status: res.status,
        statusText: res.statusText,
        headers: [...res.headers],
        body: res.body,
      };
      port.postMessage(answer, res.body ? [res.body as unknown as Transferable] : []);
    } catch (err) {
      port.postMessage({
        id: msg.id,
        error: err instanceof Error ? err.message : String(err),
      } satisfies RelayAnswer);
    } finally {
      running.delete(msg.id);
    }
  };
}

/** The worker's side: a fetch whose requests the page makes. */
export function relayFetch(port: MessagePort): typeof fetch {
  let next = 0;
  const waiting = new Map<number, { resolve: (r: Response) => void; reject: (e: unknown) => void }>();
  port.onmessage = (ev: MessageEvent<RelayAnswer>) => {
    const a = ev.data;
    const w = waiting.get(a.id);
    if (!w) return;
    waiting.delete(a.id);
    if ("error" in a) {
      w.reject(new TypeError(`fetch failed: ${a.error}`));
      return;
    }
    // An opaque redirect (status 0) cannot be rebuilt: it reads as a failed fetch, as it would here.
    if (a.status < 200 || a.status > 599) {
      w.resolve(Response.error());
      return;
    }
    // A Response may not carry a body for these statuses, even an empty one.
    const bodyless = a.status === 204 || a.status === 205 || a.status === 304;
    w.resolve(
      new Response(bodyless ? null : a.body, {
        status: a.status,
        statusText: a.statusText,
        headers: a.headers,
      }),
    );
  };
  return async (input, init) => {
    const req = new Request(input, init);
    const id = ++next;
    const body = init?.body == null ? undefined : new Uint8Array(await req.arrayBuffer());
    const signal = init?.signal;
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      signal?.addEventListener(
        "abort",
        () => {
          if (!waiting.delete(id)) return;
          port.postMessage({ kind: "abort", id } satisfies RelayAbort);
          reject(signal.reason);
        },
        { once: true },
      );
      const msg: RelayRequest = {
        kind: "fetch",
        id,
        url: req.url,
        method: req.method,
        headers: [...req.headers],
        redirect: req.redirect,
        ...(body && body.byteLength > 0 ? { body } : {}),
      };
      port.postMessage(msg);
    });
  };
}
