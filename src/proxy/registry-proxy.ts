/**
 * The same-origin registry proxy that `npm start` (vite preview) and `npm run dev` serve, so the
 * page can reach public registries that send no CORS headers: `/registry-proxy/HOST/PATH` is
 * forwarded to `https://HOST/PATH`. It is never an open proxy:
 * - only hosts on the allow-list (`PROXIED_HOSTS`, the list the page uses too) are reached, and
 *   only over HTTPS with the certificate checked; the host comes from the list, never the request;
 * - Authorization goes only to a host whose role is `registry` or `auth` (never to blob storage);
 * - cookies are stripped both ways, as are hop-by-hop headers, Origin and Referer;
 * - it answers only requests made to a loopback address unless LAYERLAB_PROXY_ALLOW_REMOTE=1;
 * - `Location` and `WWW-Authenticate` realms naming an allow-listed host are rewritten to the
 *   proxy's path, so redirects and the token flow stay on the page's origin.
 * Bodies stream both ways (a layer is never held whole).
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Plugin } from "vite";
import { PROXIED_HOSTS, type ProxiedHost, REGISTRY_PROXY_PATH } from "../core/registry/endpoints.ts";

/** How the proxy reaches upstreams, and whom it answers. */
export interface RegistryProxyOptions {
  /** The allow-list (default PROXIED_HOSTS). */
  hosts?: readonly ProxiedHost[];
  /** Answer requests whose Host or peer is not loopback (default: LAYERLAB_PROXY_ALLOW_REMOTE=1). */
  allowRemote?: boolean;
  /**
   * Where an allow-listed host is connected to, for tests: the address to dial instead of the
   * name, the port (default 443) and the CA to trust (default the system's). The TLS name
   * checked is always the allow-listed host.
   */
  upstream?: { address?: (host: string) => string; port?: number; ca?: string | Buffer };
  /** Give up on an upstream that sends nothing for this long (default 120 s). */
  idleTimeoutMs?: number;
}

/** A connect-style middleware (what Vite's dev and preview servers take). */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
/** Request headers never forwarded: the page's identity and cookies stay on the page's side. */
const DROPPED_REQUEST = new Set(["host", "cookie", "origin", "referer", "forwarded"]);
const DROPPED_RESPONSE = new Set(["set-cookie", "set-cookie2", "alt-svc", "strict-transport-security"]);
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

/** Whether a Host header (or socket address) names this machine. */
export function isLoopback(host: string | undefined): boolean {
  if (!host) return false;
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) h = h.slice(1, h.indexOf("]"));
  else if (h.split(":").length === 2) h = h.split(":")[0]!;
  if (h.startsWith("::ffff:")) h = h.slice(7);
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The headers of a request or response minus hop-by-hop ones and those `Connection` names. */
function withoutHopByHop(headers: IncomingHttpHeaders, drop: Set<string>): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (v === undefined || HOP_BY_HOP.has(key) || named.has(key) || drop.has(key)) continue;
    out[key] = v;
  }
  return out;
}

/** Rewrites absolute URLs to allow-listed hosts (and paths of the proxied host) into the proxy's path. */
export function rewriteLocation(
  location: string,
  proxied: string,
  origin: string,
  hosts: readonly ProxiedHost[],
): string {
  if (location.startsWith("/") && !location.startsWith("//"))
    return `${REGISTRY_PROXY_PATH}/${proxied}${location}`;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    // Relative to the request's own path: already under the proxy's path.
    return location;
  }
  if (url.protocol !== "https:" || url.port !== "" || url.username || url.password) return location;
  const host = hosts.find((h) => h.host === url.hostname.toLowerCase());
  if (!host) return location;
  return `${origin}${REGISTRY_PROXY_PATH}/${host.host}${url.pathname}${url.search}${url.hash}`;
}

/** Rewrites every `realm="https://…"` of a WWW-Authenticate naming an allow-listed host. */
export function rewriteChallenge(header: string, origin: string, hosts: readonly ProxiedHost[]): string {
  return header.replace(/realm="([^"]*)"/gi, (whole, realm: string) => {
    const rewritten = rewriteLocation(realm, "", origin, hosts);
    return rewritten === realm || rewritten.startsWith(REGISTRY_PROXY_PATH) ? whole : `realm="${rewritten}"`;
  });
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(body);
}

/** The proxy as a middleware: requests outside `/registry-proxy/` go to `next`. */
export function createRegistryProxy(options: RegistryProxyOptions = {}): Middleware {
  const hosts = options.hosts ?? PROXIED_HOSTS;
  const allowRemote = options.allowRemote ?? process.env.LAYERLAB_PROXY_ALLOW_REMOTE === "1";
  return (req, res, next) => {
    const raw = req.url ?? "/";
    if (!raw.startsWith(`${REGISTRY_PROXY_PATH}/`)) return next();
    if (!allowRemote && (!isLoopback(req.headers.host) || !isLoopback(req.socket.remoteAddress))) {
      return refuse(
        res,
        403,
        "DENIED",
        `The registry proxy answers only on loopback (this request came for Host ${req.headers.host ?? "(none)"} from ${req.socket.remoteAddress ?? "?"}). Set LAYERLAB_PROXY_ALLOW_REMOTE=1 to serve it to other machines.`,
      );
    }
    const rest = raw.slice(REGISTRY_PROXY_PATH.length + 1);
    const cut = rest.search(/[/?#]/);
    const named = decodeURIComponent(cut < 0 ? rest : rest.slice(0, cut)).toLowerCase();
    let path = cut < 0 ? "/" : rest.slice(cut);
    if (!path.startsWith("/")) path = `/${path}`;
    const host = hosts.find((h) => h.host === named);
    if (!host) {
      return refuse(
        res,
        403,
        "DENIED",
        `The registry proxy forwards only to its allow-list (${hosts.map((h) => h.host).join(", ")}); '${named}' is not on it. Reach other registries directly (they must send CORS headers).`,
      );
    }
    const method = (req.method ?? "GET").toUpperCase();
    if (!METHODS.has(method))
      return refuse(res, 405, "UNSUPPORTED", `The registry proxy does not forward ${method} requests.`);
    const headers = withoutHopByHop(req.headers, DROPPED_REQUEST);
    // Credentials are for the registry and its token service; blob storage gets signed URLs only.
    if (host.role === "blobs") delete headers.authorization;
    headers.host = host.host;
    const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
    const origin = `${scheme}://${req.headers.host}`;
    const upstream = httpsRequest({
      host: options.upstream?.address?.(host.host) ?? host.host,
      servername: host.host,
      port: options.upstream?.port ?? 443,
      method,
      path,
      headers,
      ...(options.upstream?.ca ? { ca: options.upstream.ca } : {}),
      rejectUnauthorized: true,
    });
    upstream.setTimeout(options.idleTimeoutMs ?? 120_000, () =>
      upstream.destroy(
        new Error(`no answer from ${host.host} for ${(options.idleTimeoutMs ?? 120_000) / 1000} s`),
      ),
    );
    upstream.on("response", (up) => {
      const out = withoutHopByHop(up.headers, DROPPED_RESPONSE);
      const location = up.headers.location;
      if (location) out.location = rewriteLocation(location, host.host, origin, hosts);
      const challenge = up.headers["www-authenticate"];
      if (challenge) out["www-authenticate"] = rewriteChallenge(challenge, origin, hosts);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
      up.on("error", () => res.destroy());
    });
    upstream.on("error", (err) => {
      if (res.headersSent) return res.destroy();
      refuse(
        res,
        502,
        "UNAVAILABLE",
        `The registry proxy could not reach https://${host.host}: ${err.message}. Check the network (and, behind a corporate proxy, its certificate).`,
      );
    });
    // A client that goes away cancels the upstream request too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}

/** The Vite plugin: the proxy on the dev server and on `vite preview`. */
export function registryProxy(options: RegistryProxyOptions = {}): Plugin {
  const middleware = createRegistryProxy(options);
  return {
    name: "layerlab-registry-proxy",
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}
