/**
 * Real CNCF distribution registries for the tests: Debian's `docker-registry` (v2.8) started on a
 * loopback port with a config written here, its storage in a temporary folder and its access log
 * kept so tests can count requests. Three kinds: no auth, htpasswd (basic), and token auth with a
 * small token server that signs JWTs (RS256, `x5c` header) with a key made for the run. Either
 * may serve TLS with a certificate made for the run (makeTestCertificate).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSign, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REGISTRY_BIN = "/usr/bin/docker-registry";
/** Why the registry suites do not run here, or undefined when they can. */
export const registryMissing = existsSync(REGISTRY_BIN)
  ? undefined
  : `${REGISTRY_BIN} is not installed (apt-get install -y docker-registry)`;

export type AuthKind = "none" | "basic" | "token";
export const USER = { username: "tester", password: "s3cret pass" };

/** One request from the access log. */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

/** A running registry. */
export interface TestRegistry {
  auth: AuthKind;
  /** `127.0.0.1:PORT`: a reference domain and the host. */
  domain: string;
  /** `127.0.0.1:PORT` of the token server (token auth only). */
  tokenDomain?: string;
  dir: string;
  /** Requests logged so far (the access log, in order). */
  requests(): LoggedRequest[];
  /** Forget the requests logged so far (the next `requests()` starts after them). */
  mark(): void;
  /** Kills the registry process at once (SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
  /** Tokens issued by the token server (token auth only). */
  tokensIssued(): number;
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * An htpasswd line with a bcrypt hash. Node has no bcrypt; the C library's crypt() (libxcrypt on
 * Debian) has, and perl (always installed with Debian) calls it.
 */
export function htpasswdLine(user: string, password: string): string {
  const salt = Array.from(randomBytes(21), (b) => BCRYPT_ALPHABET[b & 63]).join("");
  const hash = execFileSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", password, `$2a$05$${salt}.`], {
    encoding: "utf8",
  });
  if (!hash.startsWith("$2a$05$")) throw new Error(`crypt() gave no bcrypt hash: '${hash}'`);
  return `${user}:${hash}`;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** A certificate made for one run, self-signed (it is its own CA), for names and 127.0.0.1. */
export interface TestCertificate {
  names: string[];
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/**
 * Makes a self-signed certificate (RSA 2048, two days) for the DNS names given and the IP
 * 127.0.0.1, in `dir`: what a loopback server needs to answer TLS for a registry's public name.
 * Token auth also signs its JWTs with one (no names), its certificate being distribution's
 * `rootcertbundle`.
 */
export function makeTestCertificate(dir: string, names: string[]): TestCertificate {
  const certPath = join(dir, "tls-cert.pem");
  const keyPath = join(dir, "tls-key.pem");
  const san = [...names.map((n) => `DNS:${n}`), "IP:127.0.0.1"].join(",");
  execFileSync(
    "/usr/bin/openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=layerlab-test-tls",
      "-addext",
      `subjectAltName=${san}`,
    ],
    { stdio: "ignore" },
  );
  return {
    names,
    certPath,
    keyPath,
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
  };
}

/** The token server distribution's `auth: token` points at (over TLS when `tls` is given). */
function startTokenServer(
  keyPem: string,
  certPem: string,
  service: string,
  issuer: string,
  tls?: TestCertificate,
) {
  const der = new X509Certificate(certPem).raw.toString("base64");
  let issued = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    const expected = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString("base64")}`;
    if (auth !== expected) {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "wrong user name or password" }] }));
      return;
    }
    const access = url.searchParams.getAll("scope").flatMap((s) => {
      const m = /^repository:(.+):([a-z,*]+)$/.exec(s);
      return m ? [{ type: "repository", name: m[1], actions: m[2]!.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [der] };
    const claims = {
      iss: issuer,
      sub: USER.username,
      aud: url.searchParams.get("service") ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign("RSA-SHA256").update(signing).sign(keyPem);
    issued++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        token: `${signing}.${b64url(sig)}`,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    );
  };
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle)
    : createServer(handle);
  return { server, issued: () => issued };
}

/**
 * The `http.headers` a distribution registry needs before a page on another origin may use it
 * (CORS). Distribution sends them on every response, and answers a preflight OPTIONS with them
 * itself, but only while auth is off (with auth on, the preflight gets 401).
 */
export function corsHeaders(origin = "*"): Record<string, string[]> {
  return {
    "Access-Control-Allow-Origin": [origin],
    "Access-Control-Allow-Methods": ["HEAD", "GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
    "Access-Control-Allow-Headers": ["Authorization", "Content-Type", "Content-Range", "Accept", "Range"],
    "Access-Control-Expose-Headers": [
      "Docker-Content-Digest",
      "Location",
      "Range",
      "WWW-Authenticate",
      "Docker-Upload-UUID",
      "OCI-Chunk-Min-Length",
    ],
  };
}

/** `http.headers` as the lines of distribution's YAML config (indented under `http:`). */
export function headersYaml(headers: Record<string, string[]>): string {
  const lines = Object.entries(headers).map(
    ([name, values]) => `    ${name}: [${values.map((v) => JSON.stringify(v)).join(", ")}]`,
  );
  return lines.length ? `  headers:\n${lines.join("\n")}\n` : "";
}

/** What else a test registry is started with. */
export interface RegistryOptions {
  /** Static headers sent on every response (`http.headers`), e.g. corsHeaders(). */
  headers?: Record<string, string[]>;
  /** Serve HTTPS (`http.tls`) with this certificate; the token server too. */
  tls?: TestCertificate;
  /** The realm token auth announces (default the token server's own URL). */
  tokenRealm?: string;
}

/** Whether a server answers HTTP (or HTTPS, checking its certificate for its first name). */
function probe(domain: string, tls: TestCertificate | undefined): Promise<void> {
  if (!tls)
    return fetch(`http://${domain}/v2/`).then(async (r) => {
      await r.body?.cancel();
    });
  const [host, port] = domain.split(":");
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host, port: Number(port), path: "/v2/", ca: tls.cert, servername: tls.names[0] },
      (res) => {
        res.resume();
        resolve();
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A registry an integration suite runs against: the same tests run against every target. */
export interface RegistryTarget {
  label: string;
  auth: AuthKind;
  start(): Promise<TestRegistry>;
}

/**
 * CNCF distribution with each kind of auth given (only when it is installed), then LayerLab's
 * embedded registry (the Service Worker's, here over a loopback HTTP server), which must behave
 * like distribution on all of it. The embedded registry asks for no auth: it is the page's own
 * "other machine".
 */
export function registryTargets(kinds: AuthKind[]): RegistryTarget[] {
  return [
    ...(registryMissing === undefined
      ? kinds.map((auth) => ({
          label: `a real distribution registry (auth: ${auth})`,
          auth,
          start: () => startRegistry(auth),
        }))
      : []),
    {
      label: "the embedded registry over HTTP",
      auth: "none",
      // Loaded when started: embedded-server.ts imports this module, and the e2e specs that use
      // this harness need none of the core's registry.
      start: async () => (await import("./embedded-server.ts")).startEmbeddedRegistry(),
    },
  ];
}

/** Starts a registry of the given kind; stop it when done. */
export async function startRegistry(auth: AuthKind, options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "layerlab-registry-"));
  const port = await freePort();
  const domain = `127.0.0.1:${port}`;
  let authBlock = "";
  let token: ReturnType<typeof startTokenServer> | undefined;
  let tokenDomain: string | undefined;
  if (auth === "basic") {
    writeFileSync(join(dir, "htpasswd"), `${htpasswdLine(USER.username, USER.password)}\n`);
    authBlock = `auth:\n  htpasswd:\n    realm: layerlab-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    // The key the token server signs with; its certificate is distribution's rootcertbundle. In a
    // folder of its own so it never meets a TLS certificate made in the registry's folder.
    const signingDir = join(dir, "token-signing");
    mkdirSync(signingDir);
    const signing = makeTestCertificate(signingDir, []);
    const tport = await freePort();
    token = startTokenServer(signing.key, signing.cert, "layerlab-test", "layerlab-test-issuer", options.tls);
    await new Promise<void>((r) => token!.server.listen(tport, "127.0.0.1", r));
    tokenDomain = `127.0.0.1:${tport}`;
    const realm = options.tokenRealm ?? `${options.tls ? "https" : "http"}://${tokenDomain}/token`;
    authBlock = `auth:\n  token:\n    realm: ${realm}\n    service: layerlab-test\n    issuer: layerlab-test-issuer\n    rootcertbundle: ${signing.certPath}\n`;
  }
  const config = `version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, "data")}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${domain}
  secret: layerlab-test-secret
${options.tls ? `  tls:\n    certificate: ${options.tls.certPath}\n    key: ${options.tls.keyPath}\n` : ""}${headersYaml(options.headers ?? {})}${authBlock}`;
  writeFileSync(join(dir, "config.yml"), config);
  const logPath = join(dir, "access.log");
  writeFileSync(logPath, "");
  let proc: ChildProcess | undefined;
  let marked = 0;
  const start = async () => {
    const { openSync } = await import("node:fs");
    const fd = openSync(logPath, "a");
    proc = spawn(REGISTRY_BIN, ["serve", join(dir, "config.yml")], { stdio: ["ignore", fd, fd] });
    for (let i = 0; i < 200; i++) {
      try {
        await probe(domain, options.tls);
        return;
      } catch {
        if (proc.exitCode !== null)
          throw new Error(`docker-registry exited: ${readFileSync(logPath, "utf8")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error("docker-registry did not start");
  };
  const allRequests = (): LoggedRequest[] => {
    const out: LoggedRequest[] = [];
    for (const m of readFileSync(logPath, "utf8").matchAll(
      /"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/g,
    )) {
      out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]) });
    }
    return out;
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    auth,
    domain,
    ...(tokenDomain ? { tokenDomain } : {}),
    dir,
    requests: () => allRequests().slice(marked),
    mark: () => {
      marked = allRequests().length;
    },
    kill,
    start,
    tokensIssued: () => token?.issued() ?? 0,
    async stop() {
      await kill();
      if (token) await new Promise((r) => token!.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
