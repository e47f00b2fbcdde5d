import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROXIED_HOSTS } from "../core/registry/endpoints.ts";
import { makeTestCertificate } from "../testdata/registry/harness.ts";
import {
  createRegistryProxy,
  isLoopback,
  type RegistryProxyOptions,
  readTestUpstreams,
  TEST_CA_ENV,
  TEST_UPSTREAMS_ENV,
} from "./registry-proxy.ts";

/** What the upstream saw of one request. */
interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  servername: string | undefined;
  bodyBytes: number;
  bodySha: string;
}

const BIG = 3 * 1024 * 1024 + 17;
const bigBody = Buffer.alloc(BIG, 0);
for (let i = 0; i < BIG; i++) bigBody[i] = (i * 31 + 7) & 255;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let dir: string;
let upstream: HttpsServer;
let seen: Seen[] = [];
let upstreamPort = 0;
let certPath: string;

/** One https server standing in for every allow-listed host (its certificate names them all). */
async function startUpstream(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "layerlab-proxy-"));
  // Its own CA: a self-signed certificate for every allow-listed name (the harness makes it).
  const made = makeTestCertificate(
    dir,
    PROXIED_HOSTS.map((h) => h.host),
  );
  certPath = made.certPath;
  upstream = createHttpsServer({ key: made.key, cert: made.cert }, (req, res) => {
    const hash = createHash("sha256");
    let n = 0;
    req.on("data", (c: Buffer) => {
      hash.update(c);
      n += c.length;
    });
    req.on("end", () => {
      const path = req.url ?? "/";
      seen.push({
        method: req.method ?? "",
        path,
        headers: req.headers,
        servername: (req.socket as { servername?: string }).servername,
        bodyBytes: n,
        bodySha: hash.digest("hex"),
      });
      if (path === "/v2/") {
        res.writeHead(401, {
          "WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
          "Set-Cookie": "session=upstream-secret",
          "Content-Type": "application/json",
        });
        return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      }
      if (path.startsWith("/v2/library/x/blobs/sha256:")) {
        res.writeHead(307, { Location: "https://production.cloudflare.docker.com/blob?sig=abc" });
        return res.end();
      }
      if (path === "/v2/library/x/blobs/uploads/") {
        res.writeHead(202, { Location: "/v2/library/x/blobs/uploads/u-1?_state=s" });
        return res.end();
      }
      if (path === "/elsewhere") {
        res.writeHead(302, { Location: "https://evil.example/steal" });
        return res.end();
      }
      if (path === "/big") {
        res.writeHead(200, {
          "Content-Length": String(BIG),
          Connection: "keep-alive, X-Upstream-Hop",
          "X-Upstream-Hop": "1",
        });
        // Written in pieces: the proxy passes them on as they come.
        let at = 0;
        const more = () => {
          while (at < BIG) {
            const piece = bigBody.subarray(at, at + 65536);
            at += piece.length;
            if (!res.write(piece)) return res.once("drain", more);
          }
          res.end();
        };
        return more();
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ bytes: n, sha: seen.at(-1)!.bodySha }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamPort = (upstream.address() as { port: number }).port;
}

/** The proxy on a loopback HTTP server, as vite preview would serve it. */
async function startProxy(
  extra: Partial<RegistryProxyOptions> = {},
): Promise<{ server: Server; port: number }> {
  const proxy = createRegistryProxy({
    upstream: () => ({ address: "127.0.0.1", port: upstreamPort, ca: readFileSync(certPath) }),
    allowRemote: false,
    ...extra,
  });
  const server = createServer((req, res) =>
    proxy(req, res, () => {
      res.writeHead(404);
      res.end("not the proxy");
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

/** One request to the proxy with full control of its headers (Host included). */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }),
        );
      },
    );
    req.on("error", reject);
    if (body) {
      // Sent in pieces with no Content-Length: the proxy streams it on chunked.
      for (let at = 0; at < body.length; at += 100_000) req.write(body.subarray(at, at + 100_000));
    }
    req.end();
  });
}

describe("the registry proxy", () => {
  let proxy: { server: Server; port: number };
  beforeAll(async () => {
    await startUpstream();
    proxy = await startProxy();
  });
  afterAll(async () => {
    await new Promise((r) => proxy?.server.close(r));
    await new Promise((r) => upstream?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards an allow-listed host over https (certificate checked for that name) and rewrites the token realm", async () => {
    seen = [];
    const r = await call(proxy.port, "GET", "/registry-proxy/registry-1.docker.io/v2/");
    expect(r.status).toBe(401);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe("/v2/");
    expect(seen[0]!.headers.host).toBe("registry-1.docker.io");
    expect(seen[0]!.servername).toBe("registry-1.docker.io");
    expect(r.headers["www-authenticate"]).toBe(
      `Bearer realm="http://127.0.0.1:${proxy.port}/registry-proxy/auth.docker.io/token",service="registry.docker.io"`,
    );
    expect(r.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses hosts not on the allow-list, ports and user-info tricks, without reaching anything", async () => {
    seen = [];
    for (const path of [
      "/registry-proxy/evil.example/v2/",
      "/registry-proxy/registry-1.docker.io:8443/v2/",
      "/registry-proxy/registry-1.docker.io@evil.example/v2/",
      "/registry-proxy/127.0.0.1/v2/",
    ]) {
      const r = await call(proxy.port, "GET", path);
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body.toString()).errors[0].message).toMatch(/forwards only to its allow-list/);
    }
    expect(seen).toEqual([]);
    const other = await call(proxy.port, "GET", "/index.html");
    expect([other.status, other.body.toString()]).toEqual([404, "not the proxy"]);
  });

  it("rewrites Locations: absolute to an allow-listed host onto the proxy, paths under the proxied host, others untouched", async () => {
    const blob = await call(
      proxy.port,
      "GET",
      `/registry-proxy/registry-1.docker.io/v2/library/x/blobs/sha256:${"a".repeat(64)}`,
    );
    expect(blob.status).toBe(307);
    expect(blob.headers.location).toBe(
      `http://127.0.0.1:${proxy.port}/registry-proxy/production.cloudflare.docker.com/blob?sig=abc`,
    );
    const up = await call(
      proxy.port,
      "POST",
      "/registry-proxy/registry-1.docker.io/v2/library/x/blobs/uploads/",
    );
    expect(up.headers.location).toBe(
      "/registry-proxy/registry-1.docker.io/v2/library/x/blobs/uploads/u-1?_state=s",
    );
    const away = await call(proxy.port, "GET", "/registry-proxy/registry-1.docker.io/elsewhere");
    expect(away.headers.location).toBe("https://evil.example/steal");
  });

  it("forwards Authorization to registry and auth hosts only, and never cookies, Origin or hop-by-hop headers", async () => {
    seen = [];
    const creds = {
      Authorization: "Bearer secret-token",
      Cookie: "page=secret",
      Origin: "http://127.0.0.1",
      Connection: "keep-alive, X-Hop",
      "X-Hop": "1",
    };
    await call(proxy.port, "GET", "/registry-proxy/registry-1.docker.io/ok", creds);
    await call(proxy.port, "GET", "/registry-proxy/auth.docker.io/token?scope=x", creds);
    await call(proxy.port, "GET", "/registry-proxy/production.cloudflare.docker.com/blob?sig=abc", creds);
    await call(proxy.port, "GET", "/registry-proxy/cdn.quay.io/blob", creds);
    expect(seen.map((s) => [s.headers.host, s.headers.authorization])).toEqual([
      ["registry-1.docker.io", "Bearer secret-token"],
      ["auth.docker.io", "Bearer secret-token"],
      ["production.cloudflare.docker.com", undefined],
      ["cdn.quay.io", undefined],
    ]);
    for (const s of seen) {
      expect(s.headers.cookie).toBeUndefined();
      expect(s.headers.origin).toBeUndefined();
      expect(s.headers["x-hop"]).toBeUndefined();
    }
  });

  it("streams bodies both ways (a chunked upload arrives whole; a large download comes back intact)", async () => {
    seen = [];
    const put = await call(proxy.port, "PUT", "/registry-proxy/ghcr.io/v2/a/blobs/uploads/1", {}, bigBody);
    expect(JSON.parse(put.body.toString())).toEqual({ bytes: BIG, sha: sha(bigBody) });
    const got = await call(proxy.port, "GET", "/registry-proxy/quay.io/big");
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(BIG);
    expect(sha(got.body)).toBe(sha(bigBody));
    expect(got.headers["x-upstream-hop"]).toBeUndefined();
  });

  it("refuses a request whose Host is not loopback, unless told to serve other machines", async () => {
    seen = [];
    const r = await call(proxy.port, "GET", "/registry-proxy/registry-1.docker.io/v2/", {
      Host: "layerlab.example:4173",
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).errors[0].message).toMatch(
      /answers only on loopback.*LAYERLAB_PROXY_ALLOW_REMOTE=1/,
    );
    expect(seen).toEqual([]);
    const open = await startProxy({ allowRemote: true });
    try {
      const ok = await call(open.port, "GET", "/registry-proxy/registry-1.docker.io/v2/", {
        Host: "layerlab.example:4173",
      });
      expect(ok.status).toBe(401);
      expect(ok.headers["www-authenticate"]).toMatch(
        /realm="http:\/\/layerlab\.example:4173\/registry-proxy\/auth\.docker\.io\/token"/,
      );
    } finally {
      await new Promise((r) => open.server.close(r));
    }
  });

  it("an upstream it cannot reach is a 502 that names the host", async () => {
    const broken = await startProxy({ upstream: () => ({ address: "127.0.0.1", port: 1 }) });
    try {
      const r = await call(broken.port, "GET", "/registry-proxy/quay.io/v2/");
      expect(r.status).toBe(502);
      expect(JSON.parse(r.body.toString()).errors[0].message).toMatch(/could not reach https:\/\/quay\.io/);
    } finally {
      await new Promise((r) => broken.server.close(r));
    }
  });

  it("dials the test upstreams LAYERLAB_PROXY_TEST_UPSTREAMS names (read when the proxy is made), and every other host as before", async () => {
    const env = {
      [TEST_UPSTREAMS_ENV]: `registry-1.docker.io=127.0.0.1:${upstreamPort}`,
      [TEST_CA_ENV]: certPath,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let made: { server: Server; port: number };
    try {
      made = await startProxy({ upstream: undefined });
    } finally {
      for (const k of Object.keys(env)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    try {
      seen = [];
      // The variable is gone now: the proxy kept what it read when it was made.
      const r = await call(made.port, "GET", "/registry-proxy/registry-1.docker.io/v2/", {
        Authorization: "Bearer t",
      });
      expect(r.status).toBe(401);
      expect(seen.map((s) => [s.servername, s.headers.host, s.headers.authorization])).toEqual([
        ["registry-1.docker.io", "registry-1.docker.io", "Bearer t"],
      ]);
      expect(r.headers["www-authenticate"]).toMatch(
        new RegExp(`realm="http://127\\.0\\.0\\.1:${made.port}/registry-proxy/auth\\.docker\\.io/token"`),
      );
      // A name it does not map is still dialled at its public address (unreachable here), and
      // names off the list are still refused.
      seen = [];
      expect((await call(made.port, "GET", "/registry-proxy/evil.example/v2/")).status).toBe(403);
      expect(seen).toEqual([]);
    } finally {
      await new Promise((r) => made.server.close(r));
    }
  });

  it("accepts only allow-listed names at loopback addresses with a readable CA for LAYERLAB_PROXY_TEST_UPSTREAMS", () => {
    const ca = certPath;
    expect(readTestUpstreams({})).toBeUndefined();
    expect(readTestUpstreams({ [TEST_UPSTREAMS_ENV]: "  " })).toBeUndefined();
    const ok = readTestUpstreams({
      [TEST_UPSTREAMS_ENV]: "registry-1.docker.io=127.0.0.1:5443, AUTH.docker.io=[::1]:5444",
      [TEST_CA_ENV]: ca,
    })!;
    expect([...ok].map(([name, t]) => [name, t.address, t.port, t.ca.includes("BEGIN CERTIFICATE")])).toEqual(
      [
        ["registry-1.docker.io", "127.0.0.1", 5443, true],
        ["auth.docker.io", "::1", 5444, true],
      ],
    );
    const cases: [Record<string, string>, RegExp][] = [
      [{ [TEST_UPSTREAMS_ENV]: "registry-1.docker.io=127.0.0.1:5443" }, /set LAYERLAB_PROXY_TEST_CA/],
      [
        { [TEST_UPSTREAMS_ENV]: "registry-1.docker.io=127.0.0.1:5443", [TEST_CA_ENV]: join(dir, "none.pem") },
        /cannot read LAYERLAB_PROXY_TEST_CA/,
      ],
      [
        { [TEST_UPSTREAMS_ENV]: "evil.example=127.0.0.1:5443", [TEST_CA_ENV]: ca },
        /not on the proxy's allow-list/,
      ],
      [{ [TEST_UPSTREAMS_ENV]: "ghcr.io=10.0.0.5:443", [TEST_CA_ENV]: ca }, /not a loopback IP address/],
      [
        { [TEST_UPSTREAMS_ENV]: "ghcr.io=localhost.evil.example:443", [TEST_CA_ENV]: ca },
        /not a loopback IP/,
      ],
      [{ [TEST_UPSTREAMS_ENV]: "ghcr.io=127.0.0.1", [TEST_CA_ENV]: ca }, /is not NAME=ADDRESS:PORT/],
      [{ [TEST_UPSTREAMS_ENV]: "ghcr.io=127.0.0.1:70000", [TEST_CA_ENV]: ca }, /out of range/],
      [{ [TEST_UPSTREAMS_ENV]: "ghcr.io=127.0.0.1:1 ghcr.io=127.0.0.1:2", [TEST_CA_ENV]: ca }, /given twice/],
    ];
    for (const [env, why] of cases) {
      expect(() => readTestUpstreams(env), JSON.stringify(env)).toThrow(why);
      expect(() => readTestUpstreams(env)).toThrow(/^LAYERLAB_PROXY_TEST_UPSTREAMS=/);
    }
  });

  it("knows loopback hosts", () => {
    expect(
      ["localhost:5173", "127.0.0.1", "[::1]:4173", "::ffff:127.0.0.1", "app.localhost"].map(isLoopback),
    ).toEqual([true, true, true, true, true]);
    expect(["192.168.1.2:5173", "example.com", "127.0.0.1.evil.com", undefined].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
