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
 *
 * For end-to-end tests only, LAYERLAB_PROXY_TEST_UPSTREAMS (read once, when the server starts)
 * dials some allow-listed names at a loopback https server instead, trusting the CA file named
 * by LAYERLAB_PROXY_TEST_CA (see readTestUpstreams): the names, the rules above and the
 * certificate check for the allow-listed name all stay as they are.
 */
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Plugin } from "vite";
import { LayerLabError } from "../core/errors.ts";
import { PROXIED_HOSTS, type ProxiedHost, REGISTRY_PROXY_PATH } from "../core/registry/endpoints.ts";

/** How the proxy reaches upstreams, and whom it answers. */
export interface RegistryProxyOptions {
  /** The allow-list (default PROXIED_HOSTS). */
  hosts?: readonly ProxiedHost[];
  /** Answer requests whose Host or peer is not loopback (default: LAYERLAB_PROXY_ALLOW_REMOTE=1). */
  allowRemote?: boolean;
  /**
   * Where an allow-listed host is dialled instead of its public address, for tests (undefined
   * for the public address). The TLS name checked is always the allow-listed host. Default: what
   * LAYERLAB_PROXY_TEST_UPSTREAMS says (readTestUpstreams), read when the proxy is made.
   */
  upstream?: (host: string) => UpstreamTarget | undefined;
  /** Give up on an upstream that sends nothing for this long (default 120 s). */
  idleTimeoutMs?: number;
}

/** A server an allow-listed host is dialled at instead of its public address (tests only). */
export interface UpstreamTarget {
  /** The address to connect to. */
  address: string;
  /** The port (default 443). */
  port?: number;
  /** The CA to trust for it (default the system's). */
  ca?: string | Buffer;
}

/** The environment variable that points allow-listed names at loopback test servers. */
export const TEST_UPSTREAMS_ENV = "LAYERLAB_PROXY_TEST_UPSTREAMS";
/** The environment variable naming the CA file those test servers' certificates chain to. */
export const TEST_CA_ENV = "LAYERLAB_PROXY_TEST_CA";

/** An IP literal (v4 or v6) of this machine: test upstreams may only be there. */
function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith("127.");
  return isIP(address) === 6 && address === "::1";
}

/**
 * The test upstreams of LAYERLAB_PROXY_TEST_UPSTREAMS, or undefined when it is unset or empty.
 * Its value is `NAME=ADDRESS:PORT` pairs separated by commas or spaces
 * (`registry-1.docker.io=127.0.0.1:5443,auth.docker.io=127.0.0.1:5444`; `[::1]:5443` for IPv6):
 * each NAME must be on the allow-list and each ADDRESS a loopback IP, so the variable can send
 * an allow-listed name only to a server on this machine, never elsewhere. LAYERLAB_PROXY_TEST_CA
 * must name a PEM file: the CA those servers' certificates (issued for the NAMEs) chain to; it is
 * trusted for them only. Anything wrong throws, naming the variable, so the server does not start.
 */
export function readTestUpstreams(
  env: Record<string, string | undefined>,
  hosts: readonly ProxiedHost[] = PROXIED_HOSTS,
): Map<string, Required<UpstreamTarget>> | undefined {
  const value = env[TEST_UPSTREAMS_ENV]?.trim();
  if (!value) return undefined;
  const bad = (why: string) => new LayerLabError("USAGE", `${TEST_UPSTREAMS_ENV}='${value}': ${why}`);
  const caPath = env[TEST_CA_ENV];
  if (!caPath)
    throw bad(`set ${TEST_CA_ENV} to the PEM file of the CA that issued the test servers' certificates`);
  let ca: string;
  try {
    ca = readFileSync(caPath, "utf8");
  } catch (err) {
    throw bad(`cannot read ${TEST_CA_ENV} '${caPath}': ${(err as Error).message}`);
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----"))
    throw bad(`${TEST_CA_ENV} '${caPath}' holds no PEM certificate`);
  const out = new Map<string, Required<UpstreamTarget>>();
  for (const pair of value.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([^=]+)=(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(pair);
    if (!m) throw bad(`'${pair}' is not NAME=ADDRESS:PORT`);
    const name = m[1]!.toLowerCase();
    const address = m[2] ?? m[3]!;
    const port = Number(m[4]);
    if (!hosts.some((h) => h.host === name))
      throw bad(`'${name}' is not on the proxy's allow-list (${hosts.map((h) => h.host).join(", ")})`);
    if (!isLoopbackAddress(address))
      throw bad(`'${address}' is not a loopback IP address (127.x.x.x or ::1)`);
    if (port < 1 || port > 65535) throw bad(`port ${port} is out of range`);
    if (out.has(name)) throw bad(`'${name}' is given twice`);
    out.set(name, { address, port, ca });
  }
  return out;
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
  const upstreamOf = options.upstream ?? testUpstreamsFromEnv(hosts);
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
    const target = upstreamOf?.(host.host);
    const upstream = httpsRequest({
      host: target?.address ?? host.host,
      servername: host.host,
      port: target?.port ?? 443,
      method,
      path,
      headers,
      ...(target?.ca ? { ca: target.ca } : {}),
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

/** The environment's test upstreams as an `upstream` option, saying on stderr where each name goes. */
function testUpstreamsFromEnv(
  hosts: readonly ProxiedHost[],
): ((host: string) => UpstreamTarget | undefined) | undefined {
  const targets = readTestUpstreams(process.env, hosts);
  if (!targets) return undefined;
  const where = [...targets].map(([name, t]) => `${name} → ${t.address}:${t.port}`).join(", ");
  // Loud on purpose: a server started with it no longer reaches those registries.
  console.warn(`registry proxy: ${TEST_UPSTREAMS_ENV} dials ${where} (CA ${process.env[TEST_CA_ENV]})`);
  return (host) => targets.get(host);
}

/**
 * The Vite plugin: the proxy on the dev server and on `vite preview`, made (and the environment
 * read) when either server starts, so `vite build` never reads it.
 */
export function registryProxy(options: RegistryProxyOptions = {}): Plugin {
  return {
    name: "layerlab-registry-proxy",
    configureServer(server) {
      server.middlewares.use(createRegistryProxy(options));
    },
    configurePreviewServer(server) {
      server.middlewares.use(createRegistryProxy(options));
    },
  };
}
