/**
 * The HTTP side of the OCI distribution API on `fetch`: the scheme a host is reached with, the
 * authentication flow, retries with backoff, redirects that never carry credentials to another
 * host, and failures turned into RegistryErrors that say what to do.
 */
import { CancelledError } from "../errors.ts";
import {
  type BearerToken,
  basicAuthorization,
  type Challenge,
  type Credentials,
  type CredentialsProvider,
  parseChallenges,
  readTokenResponse,
  type TokenResponse,
} from "./auth.ts";
import { describeFailure, networkFailure, RegistryError, type RegistryErrorBody } from "./errors.ts";
import { isLoopbackHost, registryHost } from "./reference.ts";

/** How a client reaches registries. */
export interface RegistryClientOptions {
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  credentials?: CredentialsProvider;
  /** Hosts (with port) that may be reached over plain HTTP besides loopback ones. */
  insecureHosts?: readonly string[];
  /** The origin to reach a registry host at, when not `scheme://host` (the page's proxy). */
  endpoint?: (host: string) => string | undefined;
  /** Tries after the first for network errors, 429 and 5xx (default 4). */
  retries?: number;
  /** The first backoff in ms, doubled each try up to maxBackoffMs (default 500). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest Retry-After honoured, in ms (default 60 s): a longer one fails at once, saying so. */
  maxRetryAfterMs?: number;
  /** The clock, for token expiry. */
  now?: () => number;
}

/** One request to a registry. */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload Location). */
  url: string;
  headers?: Record<string, string>;
  /**
   * The body, made again for each try so a retry can send it anew. A Blob (a file's slice) is
   * read by the platform as it sends it.
   */
  body?: () => Uint8Array | Blob | undefined;
  /** Token scopes this request needs (`repository:NAME:pull`). */
  scopes: string[];
  /** What is asked for, in words, for error messages (`manifest 20.04`). */
  what: string;
  /** Statuses that are answers, not failures (default: 2xx). */
  accept?: (status: number) => boolean;
  /**
   * The fetch's cache mode. Blob GETs say `no-store`: a blob is content-addressed and goes into
   * the store anyway, and distribution marks blobs cacheable for a year, so a browser would
   * otherwise also write every layer into its HTTP cache.
   */
  cache?: RequestCache;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Talks to one registry (a domain such as docker.io or localhost:5000). */
export class RegistryClient {
  readonly domain: string;
  readonly host: string;
  readonly origin: string;
  /** Count of requests sent, by method (tests and the transfer record use it). */
  readonly requests = new Map<string, number>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private challenge: Challenge | undefined;
  private credentials: Credentials | undefined | null = null;
  private readonly tokens = new Map<string, BearerToken>();

  constructor(
    domain: string,
    readonly options: RegistryClientOptions = {},
  ) {
    this.domain = domain;
    this.host = registryHost(domain);
    const insecure = isLoopbackHost(this.host) || (options.insecureHosts ?? []).includes(this.host);
    this.origin = options.endpoint?.(this.host) ?? `${insecure ? "http" : "https"}://${this.host}`;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /**
   * The absolute URL of a path under the registry, or of a Location the registry gave. A path
   * (`/v2/…`) goes under the origin's own path, which is not empty when the registry is reached
   * at a prefix (`/embedded-registry`, `/registry-proxy/HOST`).
   */
  resolve(url: string, base?: string): string {
    if (base === undefined && url.startsWith("/") && !url.startsWith("//"))
      return new URL(this.origin + url).href;
    return new URL(url, base ?? `${this.origin}/`).href;
  }

  /**
   * A GET of a path under the registry, ready for another thread to send with its own fetch: the
   * absolute URL and the Authorization header for these scopes (a token fetched or refreshed
   * here). Counted as a GET. The sender must follow redirects with `redirect: "follow"`, which
   * drops Authorization when a redirect leaves the registry's origin (Fetch standard).
   */
  async prepare(req: {
    url: string;
    scopes: string[];
    signal?: AbortSignal;
  }): Promise<{ url: string; headers: Record<string, string> }> {
    const url = this.resolve(req.url);
    const authorization = await this.authorization(req.scopes, req.signal);
    this.count("GET");
    return { url, headers: authorization && this.isRegistry(url) ? { Authorization: authorization } : {} };
  }

  /** Whether a URL is the registry itself (under its origin and path), where credentials may go. */
  private isRegistry(url: string): boolean {
    return url === this.origin || url.startsWith(`${this.origin}/`);
  }

  /**
   * Sends a request with the right authorization, retrying network errors, 429 and 5xx with
   * backoff (honouring Retry-After), and following redirects. Returns the response whose status
   * `accept` allows; throws a RegistryError otherwise. The caller reads or cancels the body.
   */
  async send(req: RegistryRequest): Promise<Response> {
    const retries = this.options.retries ?? 4;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      throwIfCancelled(req.signal);
      let res: Response;
      try {
        res = await this.sendOnce(req);
      } catch (err) {
        if (err instanceof RegistryError || err instanceof CancelledError) throw err;
        throwIfCancelled(req.signal);
        if (attempt < retries) {
          await this.backoff(attempt, undefined, req.signal);
          continue;
        }
        throw networkFailure(err, this.context(req));
      }
      const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
      if (accept(res.status)) return res;
      if (res.status === 401 && !authRetried) {
        const header = res.headers.get("www-authenticate");
        await discard(res);
        if (header && (await this.learnChallenge(header, req))) {
          authRetried = true;
          attempt--;
          continue;
        }
        throw describeFailure(401, undefined, this.context(req));
      }
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        const wait = retryAfterMs(res.headers.get("retry-after"), this.now());
        await discard(res);
        if (wait !== undefined && wait > (this.options.maxRetryAfterMs ?? 60_000)) {
          throw describeFailure(res.status, undefined, {
            ...this.context(req),
            retryAfter: res.headers.get("retry-after"),
          });
        }
        await this.backoff(attempt, wait, req.signal);
        continue;
      }
      const body = await readErrorBody(res);
      throw describeFailure(res.status, body, {
        ...this.context(req),
        retryAfter: res.headers.get("retry-after"),
      });
    }
  }

  private context(req: RegistryRequest) {
    let path = req.url;
    try {
      const prefix = new URL(`${this.origin}/`).pathname.replace(/\/$/, "");
      path = new URL(this.resolve(req.url)).pathname;
      if (prefix && path.startsWith(`${prefix}/`)) path = path.slice(prefix.length);
    } catch {}
    const repo = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(path)?.[1];
    return {
      registry: this.domain,
      ...(repo ? { repository: repo } : {}),
      request: `${req.method} ${path}`,
      what: req.what,
    };
  }

  private count(method: string): void {
    this.requests.set(method, (this.requests.get(method) ?? 0) + 1);
  }

  private async sendOnce(req: RegistryRequest): Promise<Response> {
    let url = this.resolve(req.url);
    const authorization = await this.authorization(req.scopes, req.signal);
    let method: string = req.method;
    let body = req.body?.();
    for (let hop = 0; hop < 10; hop++) {
      const sameHost = this.isRegistry(url);
      const headers: Record<string, string> = { ...req.headers };
      // Credentials go only to the registry itself, never to a storage host it redirects to.
      if (authorization && sameHost) headers.Authorization = authorization;
      this.count(method);
      const res = await this.fetch(url, {
        method,
        headers,
        ...(body ? { body: body as Uint8Array<ArrayBuffer> | Blob } : {}),
        redirect: "manual",
        ...(req.cache ? { cache: req.cache } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (res.type === "opaqueredirect") {
        // A page cannot see where a redirect goes; the browser follows it and drops
        // Authorization when it leaves the origin (Fetch standard).
        return this.fetch(url, {
          method,
          headers,
          ...(body ? { body: body as Uint8Array<ArrayBuffer> | Blob } : {}),
          redirect: "follow",
          ...(req.cache ? { cache: req.cache } : {}),
          ...(req.signal ? { signal: req.signal } : {}),
        });
      }
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || !location) return res;
      await discard(res);
      url = new URL(location, url).href;
      if (res.status === 303) {
        method = "GET";
        body = undefined;
      }
    }
    throw new RegistryError("protocol", `too many redirects for ${req.what}`, { registry: this.domain });
  }

  /** The Authorization header for these scopes, from what the registry asked for before. */
  private async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === "basic") {
      const creds = await this.loadCredentials();
      return creds ? basicAuthorization(creds) : undefined;
    }
    if (c.scheme !== "bearer") return undefined;
    const key = [...scopes].sort().join(" ");
    const held = this.tokens.get(key);
    // A token about to expire is fetched again rather than sent and refused.
    if (held && held.expiresAt - 5_000 > this.now()) return `Bearer ${held.token}`;
    const token = await this.fetchToken(c, scopes, signal);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async loadCredentials(): Promise<Credentials | undefined> {
    if (this.credentials === null) this.credentials = await this.options.credentials?.get(this.domain);
    return this.credentials ?? undefined;
  }

  /**
   * Learns the scheme from a 401's WWW-Authenticate; true when a retry may now succeed (the
   * scheme was new, or a cached token may have been revoked).
   */
  private async learnChallenge(header: string, req: RegistryRequest): Promise<boolean> {
    const all = parseChallenges(header);
    const chosen = all.find((c) => c.scheme === "bearer") ?? all.find((c) => c.scheme === "basic");
    if (!chosen) return false;
    this.challenge = chosen;
    if (chosen.scheme === "basic") {
      if (!(await this.loadCredentials())) {
        throw describeFailure(401, undefined, this.context(req));
      }
      return true;
    }
    // Drop the token for these scopes: it was refused (expired early or revoked).
    this.tokens.delete([...req.scopes].sort().join(" "));
    return true;
  }

  private async fetchToken(c: Challenge, scopes: string[], signal?: AbortSignal): Promise<BearerToken> {
    const realm = c.params.realm;
    if (!realm)
      throw new RegistryError("protocol", "the registry asked for a token but named no realm", {
        registry: this.domain,
      });
    const url = new URL(realm);
    if (
      url.protocol !== "https:" &&
      !isLoopbackHost(url.host) &&
      !(this.options.insecureHosts ?? []).includes(url.host) &&
      !this.origin.startsWith("http:")
    ) {
      throw new RegistryError(
        "insecure",
        `the token service ${url.origin} is not https: refusing to send credentials to it`,
        { registry: this.domain },
      );
    }
    if (c.params.service) url.searchParams.set("service", c.params.service);
    const wanted = new Set([...scopes, ...(c.params.scope ? c.params.scope.split(" ") : [])].filter(Boolean));
    for (const s of wanted) url.searchParams.append("scope", s);
    const creds = await this.loadCredentials();
    const headers: Record<string, string> = {};
    if (creds) headers.Authorization = basicAuthorization(creds);
    const retries = this.options.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      throwIfCancelled(signal);
      let res: Response;
      try {
        this.count("TOKEN");
        res = await this.fetch(url.href, { headers, ...(signal ? { signal } : {}) });
      } catch (err) {
        throwIfCancelled(signal);
        if (attempt < retries) {
          await this.backoff(attempt, undefined, signal);
          continue;
        }
        throw networkFailure(err, {
          registry: this.domain,
          request: `GET ${url.origin}${url.pathname}`,
          what: "a token",
        });
      }
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        await discard(res);
        await this.backoff(attempt, retryAfterMs(res.headers.get("retry-after"), this.now()), signal);
        continue;
      }
      if (!res.ok) {
        const body = await readErrorBody(res);
        throw describeFailure(res.status === 400 ? 401 : res.status, body, {
          registry: this.domain,
          request: `GET ${url.origin}${url.pathname}`,
          what: `a token for ${[...wanted].join(" ")}`,
        });
      }
      const json = (await res.json().catch(() => ({}))) as TokenResponse;
      const token = readTokenResponse(json, this.now());
      if (!token)
        throw new RegistryError("protocol", "the token service answered without a token", {
          registry: this.domain,
        });
      return token;
    }
  }

  private async backoff(
    attempt: number,
    retryAfter: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const base = this.options.backoffMs ?? 500;
    const wait = retryAfter ?? Math.min(this.options.maxBackoffMs ?? 8_000, base * 2 ** attempt);
    await sleep(wait, signal);
  }
}

/** Retry-After as ms to wait: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError("registry transfer");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError("registry transfer"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError("registry transfer"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Lets go of a body that is not read, so the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {}
}

async function readErrorBody(res: Response): Promise<RegistryErrorBody | undefined> {
  try {
    const text = await res.text();
    if (text.length > 65536) return undefined;
    return JSON.parse(text) as RegistryErrorBody;
  } catch {
    return undefined;
  }
}
