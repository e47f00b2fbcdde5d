/**
 * A small HTTP proxy in front of a test registry that can misbehave on purpose: corrupt one
 * blob, answer one request with a status, serve a manifest of its own, or redirect blob downloads
 * to a "storage" server on another port (which records whether credentials reached it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { freePort } from "./harness.ts";

/** What the proxy does to one request; undefined passes it through. */
export type Fault =
  | { kind: "corrupt" }
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  | { kind: "serve"; status: number; headers: Record<string, string>; body: Uint8Array; chunked?: boolean }
  | { kind: "redirect" };

export interface FaultProxy {
  domain: string;
  /** Decide per request (method, path) what to do; called for every request. */
  fault: (method: string, path: string) => Fault | undefined;
  /** Requests the storage server got, with whether they carried Authorization. */
  storageHits: { path: string; authorization: boolean }[];
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Starts a proxy to `upstream` (`127.0.0.1:PORT`). `upstreamAuth` is what storage uses to fetch blobs. */
export async function startFaultProxy(upstream: string, upstreamAuth?: string): Promise<FaultProxy> {
  const port = await freePort();
  const storagePort = await freePort();
  const proxy: FaultProxy = {
    domain: `127.0.0.1:${port}`,
    fault: () => undefined,
    storageHits: [],
    stop: async () => {},
  };
  const forward = async (req: IncomingMessage, path: string, headers: Record<string, string>) => {
    const body =
      req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await readBody(req));
    return fetch(`http://${upstream}${path}`, {
      method: req.method ?? "GET",
      headers,
      ...(body ? { body } : {}),
      redirect: "manual",
    });
  };
  const headersOf = (req: IncomingMessage): Record<string, string> => {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && k !== "host" && k !== "connection") h[k] = v;
    }
    return h;
  };
  const reply = async (res: ServerResponse, up: Response, mutate?: (b: Buffer) => Buffer) => {
    const h: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection") h[k] = v;
    });
    let body: Buffer = Buffer.from(await up.arrayBuffer());
    if (mutate) body = mutate(body);
    if (up.headers.has("content-length")) h["content-length"] = String(body.length);
    res.writeHead(up.status, h);
    res.end(body);
  };
  const server: Server = createServer(async (req, res) => {
    try {
      const path = req.url ?? "/";
      const f = proxy.fault(req.method ?? "GET", path);
      if (f?.kind === "status") {
        res.writeHead(f.status, { "content-type": "application/json", ...(f.headers ?? {}) });
        res.end(f.body ?? "");
        return;
      }
      if (f?.kind === "serve") {
        res.writeHead(f.status, {
          ...f.headers,
          ...(f.chunked ? {} : { "content-length": String(f.body.length) }),
        });
        if (f.chunked) {
          for (let i = 0; i < f.body.length; i += 65536) res.write(f.body.subarray(i, i + 65536));
          res.end();
        } else res.end(f.body);
        return;
      }
      if (f?.kind === "redirect") {
        res.writeHead(307, { location: `http://127.0.0.1:${storagePort}${path}` });
        res.end();
        return;
      }
      const up = await forward(req, path, headersOf(req));
      await reply(
        res,
        up,
        f?.kind === "corrupt"
          ? (b) => {
              const c = Buffer.from(b);
              if (c.length > 100) c[c.length - 100] = c[c.length - 100]! ^ 0xff;
              return c;
            }
          : undefined,
      );
    } catch (err) {
      res.destroy(err as Error);
    }
  });
  const storage: Server = createServer(async (req, res) => {
    proxy.storageHits.push({ path: req.url ?? "", authorization: req.headers.authorization !== undefined });
    // Storage answers byte ranges, as S3 and CDNs do.
    const range = req.headers.range;
    const up = await fetch(`http://${upstream}${req.url}`, {
      headers: { ...(upstreamAuth ? { authorization: upstreamAuth } : {}), ...(range ? { range } : {}) },
    });
    await reply(res, up);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  await new Promise<void>((r) => storage.listen(storagePort, "127.0.0.1", r));
  proxy.stop = async () => {
    server.closeAllConnections();
    storage.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => storage.close(r))]);
  };
  return proxy;
}
