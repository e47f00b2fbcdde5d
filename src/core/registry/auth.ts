/**
 * Registry authentication: anonymous, HTTP basic, and the bearer-token flow that a registry
 * announces with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` (Docker's token spec).
 */

/** A user name and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/**
 * Where credentials come from. The page keeps them for the session or remembers them, as the
 * person chooses; the CLI reads `~/.docker/config.json` or `--password-stdin`.
 */
export interface CredentialsProvider {
  /** Credentials for a registry (`docker.io`, `localhost:5000`), or undefined for anonymous. */
  get(registry: string): Promise<Credentials | undefined>;
}

/** Credentials held in memory, keyed by registry: the session kind of provider. */
export function staticCredentials(map: Record<string, Credentials>): CredentialsProvider {
  return { get: async (registry) => map[registry] };
}

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate` (RFC 7235): one or more challenges, each a scheme and
 * comma-separated `key=value` or `key="quoted, value"` parameters.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === " " || header[i] === "\t" || header[i] === ",")) i++;
  };
  while (i < n) {
    skipSpace();
    const m = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*/.exec(header.slice(i));
    if (!m) break;
    const challenge: Challenge = { scheme: m[0].toLowerCase(), params: {} };
    i += m[0].length;
    out.push(challenge);
    for (;;) {
      skipSpace();
      const k = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(header.slice(i));
      if (!k) break;
      i += k[0].length;
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const v = /^[^,\s]*/.exec(header.slice(i))!;
        value = v[0];
        i += value.length;
      }
      const key = k[1]!.toLowerCase();
      // A repeated scope parameter adds scopes (some registries send one per repository).
      challenge.params[key] =
        key === "scope" && challenge.params.scope ? `${challenge.params.scope} ${value}` : value;
    }
  }
  return out;
}

/** A bearer token and when it stops being good (ms since the epoch). */
export interface BearerToken {
  token: string;
  expiresAt: number;
}

/** The token endpoint's answer: `token` or `access_token`, `expires_in`, `issued_at`. */
export interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
}

/** Reads a token endpoint's JSON; the spec's minimum lifetime (60 s) when it says none. */
export function readTokenResponse(body: TokenResponse, now: number): BearerToken | undefined {
  const token = body.token ?? body.access_token;
  if (typeof token !== "string" || token === "") return undefined;
  const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
  const issued = body.issued_at ? Date.parse(body.issued_at) : Number.NaN;
  const from = Number.isFinite(issued) && Math.abs(issued - now) < 10 * 60_000 ? issued : now;
  return { token, expiresAt: from + seconds * 1000 };
}

/** `Basic base64(user:password)`, UTF-8 safe. */
export function basicAuthorization(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** The scope a repository operation needs: `repository:NAME:pull` or `…:pull,push`. */
export function repositoryScope(repository: string, actions: "pull" | "pull,push"): string {
  return `repository:${repository}:${actions}`;
}
