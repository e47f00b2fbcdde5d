/**
 * Where the page reaches a registry host. A browser can only talk to registries that send CORS
 * headers, and the public ones do not; so the page reaches a fixed allow-list of public registries
 * (and their token and blob-storage hosts) through the same-origin proxy that `npm start` serves,
 * the embedded registry (a Service Worker over a second store: "another machine") at a path of its
 * own, and every other host directly. The proxy reads the same list, so the two never disagree.
 */

/** The registry host the embedded registry answers as (`embedded.layerlab/example:v1`). */
export const EMBEDDED_REGISTRY_HOST = "embedded.layerlab";

/** The same-origin path the Service Worker serves the embedded registry's `/v2/` API under. */
export const EMBEDDED_REGISTRY_PATH = "/embedded-registry";

/**
 * The IndexedDB database the embedded registry keeps its blobs and repositories in: a second
 * store beside the page's (`layerlab`), with its own blobs and byte count ("another machine").
 */
export const EMBEDDED_REGISTRY_DB = "layerlab-embedded-registry";

/** The Service Worker script that serves the embedded registry, at the site root (scope `/`). */
export const EMBEDDED_REGISTRY_SW = "/registry-sw.js";

/** The BroadcastChannel the embedded registry announces changes on (a blob or manifest stored, a clear). */
export const EMBEDDED_REGISTRY_CHANNEL = "layerlab-embedded-registry";

/** The same-origin path the preview server's proxy serves: `/registry-proxy/HOST/…` → `https://HOST/…`. */
export const REGISTRY_PROXY_PATH = "/registry-proxy";

/**
 * What a proxied host is to the registry it belongs to. Only `registry` and `auth` hosts receive
 * an Authorization header (a token is issued for the registry, basic credentials for the token
 * service); blob-storage hosts get signed URLs and never credentials.
 */
export type ProxiedHostRole = "registry" | "auth" | "blobs";

/** One allow-listed upstream host (always reached over HTTPS). */
export interface ProxiedHost {
  host: string;
  role: ProxiedHostRole;
  /** The registry domain it serves, as references name it. */
  registry: string;
}

/** The hosts the proxy forwards to, and no other (never a host taken from a request). */
export const PROXIED_HOSTS: readonly ProxiedHost[] = [
  { host: "registry-1.docker.io", role: "registry", registry: "docker.io" },
  { host: "auth.docker.io", role: "auth", registry: "docker.io" },
  { host: "production.cloudflare.docker.com", role: "blobs", registry: "docker.io" },
  {
    host: "docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com",
    role: "blobs",
    registry: "docker.io",
  },
  { host: "ghcr.io", role: "registry", registry: "ghcr.io" },
  { host: "pkg-containers.githubusercontent.com", role: "blobs", registry: "ghcr.io" },
  { host: "quay.io", role: "registry", registry: "quay.io" },
  { host: "cdn.quay.io", role: "blobs", registry: "quay.io" },
  { host: "cdn01.quay.io", role: "blobs", registry: "quay.io" },
  { host: "cdn02.quay.io", role: "blobs", registry: "quay.io" },
  { host: "cdn03.quay.io", role: "blobs", registry: "quay.io" },
  { host: "quayio-production-s3.s3.amazonaws.com", role: "blobs", registry: "quay.io" },
];

/** The allow-list entry for a host (case-insensitive, no port), or undefined. */
export function proxiedHost(host: string): ProxiedHost | undefined {
  const h = host.toLowerCase();
  return PROXIED_HOSTS.find((p) => p.host === h);
}

/**
 * The origin (scheme, host and path prefix, no trailing slash) at which the page reaches a
 * registry host, or undefined to reach it directly (`http://` for loopback, else `https://`).
 * `pageOrigin` is the page's own origin (`http://localhost:4173`); `useProxy` is false when the
 * page is served without the proxy (the dev server of another tool, a static host).
 */
export function pageEndpoint(host: string, pageOrigin: string, useProxy = true): string | undefined {
  if (host.toLowerCase() === EMBEDDED_REGISTRY_HOST) return `${pageOrigin}${EMBEDDED_REGISTRY_PATH}`;
  const p = proxiedHost(host);
  if (useProxy && p?.role === "registry") return `${pageOrigin}${REGISTRY_PROXY_PATH}/${p.host}`;
  return undefined;
}
