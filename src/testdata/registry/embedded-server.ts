/**
 * The embedded registry (`EmbeddedRegistry` over a memory store) served over real HTTP on a
 * loopback port, so the registry integration tests run the very same client flows against it as
 * against CNCF distribution: request bodies arrive as streams, responses leave as streams, and
 * every request is logged as distribution's access log would show it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EmbeddedRegistry, type EmbeddedRegistryOptions } from "../../core/registry/embedded.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import type { Store } from "../../core/store/types.ts";
import { freePort, type LoggedRequest, type TestRegistry } from "./harness.ts";

/** An embedded registry on a loopback port, shaped as the distribution harness's TestRegistry. */
export interface EmbeddedTestRegistry extends TestRegistry {
  registry: EmbeddedRegistry;
  store: Store;
}

/** Turns a Node request into a fetch `Request` whose body streams. */
export function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
}

/** Writes a fetch `Response` to a Node response, streaming its body. */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res);
}

/** Starts an embedded registry over HTTP on 127.0.0.1; stop it when done. */
export async function startEmbeddedRegistry(
  options: EmbeddedRegistryOptions = {},
): Promise<EmbeddedTestRegistry> {
  const port = await freePort();
  const domain = `127.0.0.1:${port}`;
  const store = openMemoryStore();
  const registry = new EmbeddedRegistry(store, options);
  const log: LoggedRequest[] = [];
  let marked = 0;
  let server: Server | undefined;
  const start = async () => {
    const s = createServer((req, res) => {
      void (async () => {
        const response = await registry.handle(toRequest(req, `http://${domain}`));
        log.push({ method: req.method ?? "GET", path: req.url ?? "/", status: response.status });
        await writeResponse(response, res);
      })().catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => s.listen(port, "127.0.0.1", resolve));
    server = s;
  };
  const kill = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  };
  await start();
  return {
    auth: "none",
    domain,
    dir: "",
    registry,
    store,
    requests: () => log.slice(marked),
    mark: () => {
      marked = log.length;
    },
    kill,
    start,
    tokensIssued: () => 0,
    stop: kill,
  };
}
