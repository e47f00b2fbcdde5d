import { describe, expect, it } from "vitest";
import { staticCredentials } from "./auth.ts";
import { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";

/** A fetch that answers from a function and records what it was asked. */
function fakeFetch(answer: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
    return answer(url, init ?? {});
  }) as typeof fetch;
  return { fn, calls };
}

describe("RegistryClient", () => {
  it("reaches loopback over plain HTTP, everything else over HTTPS unless allowed", () => {
    expect(new RegistryClient("localhost:5000").origin).toBe("http://localhost:5000");
    expect(new RegistryClient("127.0.0.1:5000").origin).toBe("http://127.0.0.1:5000");
    expect(new RegistryClient("ghcr.io").origin).toBe("https://ghcr.io");
    expect(new RegistryClient("docker.io").origin).toBe("https://registry-1.docker.io");
    expect(new RegistryClient("lab.internal:5000", { insecureHosts: ["lab.internal:5000"] }).origin).toBe(
      "http://lab.internal:5000",
    );
  });

  it("fetches a bearer token for the scopes asked and fetches it again when it expires", async () => {
    let now = 1_000_000;
    const { fn, calls } = fakeFetch((url, init) => {
      if (url.startsWith("https://auth.example/token"))
        return Response.json({ access_token: `tok${calls.length}`, expires_in: 60 });
      const auth = (init.headers as Record<string, string>).Authorization;
      if (!auth?.startsWith("Bearer "))
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="https://auth.example/token",service="reg.example"' },
        });
      return new Response("ok");
    });
    const c = new RegistryClient("reg.example", {
      fetch: fn,
      now: () => now,
      credentials: staticCredentials({ "reg.example": { username: "u", password: "p" } }),
    });
    const req = {
      method: "GET" as const,
      url: "/v2/a/b/manifests/1",
      scopes: ["repository:a/b:pull"],
      what: "m",
    };
    await c.send(req);
    await c.send(req);
    const tokenCalls = () => calls.filter((x) => x.url.startsWith("https://auth.example/token"));
    expect(tokenCalls()).toHaveLength(1);
    const url = new URL(tokenCalls()[0]!.url);
    expect(url.searchParams.get("service")).toBe("reg.example");
    expect(url.searchParams.getAll("scope")).toEqual(["repository:a/b:pull"]);
    expect(tokenCalls()[0]!.headers.Authorization).toBe(`Basic ${btoa("u:p")}`);
    now += 61_000;
    await c.send(req);
    expect(tokenCalls()).toHaveLength(2);
  });

  it("follows a redirect to another host without the Authorization header", async () => {
    const { fn, calls } = fakeFetch((url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url.startsWith("https://reg.example/")) {
        if (!auth)
          return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } });
        return new Response(null, {
          status: 307,
          headers: { location: "https://storage.example/blob?sig=1" },
        });
      }
      return new Response("bytes");
    });
    const c = new RegistryClient("reg.example", {
      fetch: fn,
      credentials: staticCredentials({ "reg.example": { username: "u", password: "p" } }),
    });
    const res = await c.send({ method: "GET", url: "/v2/a/blobs/sha256:x", scopes: [], what: "blob" });
    expect(await res.text()).toBe("bytes");
    const storage = calls.filter((x) => x.url.startsWith("https://storage.example/"));
    expect(storage).toHaveLength(1);
    expect(storage[0]!.headers.Authorization).toBeUndefined();
  });

  it("gives up on a Retry-After longer than it will wait, saying to wait", async () => {
    const { fn } = fakeFetch(() => new Response(null, { status: 429, headers: { "retry-after": "3600" } }));
    const c = new RegistryClient("reg.example", { fetch: fn });
    const err = await c.send({ method: "GET", url: "/v2/", scopes: [], what: "the API" }).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("too-many-requests");
    expect(err.message).toMatch(/it asks to wait 3600 s/);
  });

  it("refuses to send credentials to a token service over plain HTTP on another host", async () => {
    const { fn } = fakeFetch(
      () =>
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="http://auth.example/token",service="s"' },
        }),
    );
    const c = new RegistryClient("reg.example", {
      fetch: fn,
      credentials: staticCredentials({ "reg.example": { username: "u", password: "p" } }),
    });
    const err = await c.send({ method: "GET", url: "/v2/", scopes: [], what: "the API" }).catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("insecure");
  });
});
