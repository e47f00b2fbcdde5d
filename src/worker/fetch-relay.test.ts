import { describe, expect, it } from "vitest";
import { relayFetch, serveFetchRelay } from "./fetch-relay.ts";

/** A relay over a real MessageChannel, the page side answering with `answer`. */
function relay(answer: typeof fetch) {
  const ch = new MessageChannel();
  serveFetchRelay(ch.port1, answer);
  const f = relayFetch(ch.port2);
  return {
    f,
    close() {
      ch.port1.close();
      ch.port2.close();
    },
  };
}

describe("the page makes the worker's embedded-registry requests", () => {
  it("sends method, headers and a copy of the body; streams the answer back with its status and headers", async () => {
    const seen: { method: string; headers: Record<string, string>; body: string }[] = [];
    const r = relay(async (input, init) => {
      const req = new Request(input, init);
      seen.push({
        method: req.method,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
      });
      return new Response(new TextEncoder().encode("x".repeat(100_000)), {
        status: 201,
        headers: { "docker-content-digest": "sha256:abc", location: "/v2/a/blobs/sha256:abc" },
      });
    });
    try {
      const body = new TextEncoder().encode("chunk");
      const res = await r.f("http://localhost/embedded-registry/v2/a/blobs/uploads/1", {
        method: "PUT",
        headers: { "Content-Type": "application/octet-stream" },
        body,
      });
      // The caller may reuse its buffer at once: the relay sent a copy.
      body.fill(0);
      expect(res.status).toBe(201);
      expect(res.headers.get("docker-content-digest")).toBe("sha256:abc");
      expect((await res.text()).length).toBe(100_000);
      expect(seen).toEqual([
        { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: "chunk" },
      ]);
    } finally {
      r.close();
    }
  });

  it("gives a HEAD and a 204 no body, and a failed fetch as a TypeError naming why", async () => {
    const r = relay(async (input, init) => {
      const req = new Request(input, init);
      if (req.url.endsWith("/down")) throw new Error("connection refused");
      return new Response(null, {
        status: req.method === "HEAD" ? 200 : 204,
        headers: { "content-length": "7" },
      });
    });
    try {
      const head = await r.f("http://localhost/x", { method: "HEAD" });
      expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, "7", ""]);
      expect((await r.f("http://localhost/y", { method: "DELETE" })).status).toBe(204);
      await expect(r.f("http://localhost/down")).rejects.toThrow(/fetch failed: connection refused/);
    } finally {
      r.close();
    }
  });

  it("cancels: an aborted request rejects at once and the page's fetch is aborted too", async () => {
    let pageSignal: AbortSignal | undefined;
    const r = relay(
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          pageSignal = init?.signal ?? undefined;
          pageSignal?.addEventListener("abort", () => reject(new Error("aborted")));
        }),
    );
    try {
      const ac = new AbortController();
      const pending = r.f("http://localhost/slow", { signal: ac.signal });
      await new Promise((res) => setTimeout(res, 20));
      ac.abort(new Error("push cancelled"));
      await expect(pending).rejects.toThrow(/push cancelled/);
      await new Promise((res) => setTimeout(res, 20));
      expect(pageSignal?.aborted).toBe(true);
    } finally {
      r.close();
    }
  });
});
