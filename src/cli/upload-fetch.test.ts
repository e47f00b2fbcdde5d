import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileRangeBlob, fileRangeOf } from "./file-ranges.ts";
import { uploadFetch } from "./upload-fetch.ts";

/** A server that answers each request with what it received: method, length header, bytes. */
let server: Server;
let origin: string;
let dir: string;
const bytes = randomBytes(3 * 2 ** 20 + 17);
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "layerlab-upload-fetch-"));
  path = join(dir, "file.bin");
  writeFileSync(path, bytes);
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      if (req.url === "/slow") return; // never answers: for the abort
      const body = Buffer.concat(parts);
      res.writeHead(202, { location: "/next", "x-length": req.headers["content-length"] ?? "" });
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers["content-type"],
          got: body.toString("base64"),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  origin = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("the CLI's upload fetch", () => {
  it("sends a file range's Blob from the file, with its length, and slices of it as their own ranges", async () => {
    const whole = await fileRangeBlob(path, 100, bytes.byteLength - 50);
    const part = whole.slice(2 ** 20, 2 ** 21 + 5).slice(3);
    expect(fileRangeOf(part)).toEqual({ path, start: 100 + 2 ** 20 + 3, end: 100 + 2 ** 21 + 5 });
    expect(
      Buffer.compare(
        new Uint8Array(await part.arrayBuffer()),
        bytes.subarray(100 + 2 ** 20 + 3, 100 + 2 ** 21 + 5),
      ),
    ).toBe(0);
    for (const blob of [whole, part, whole.slice(-10), whole.slice(5, 5)]) {
      const range = fileRangeOf(blob)!;
      const res = await uploadFetch(`${origin}/upload`, {
        method: "PATCH",
        headers: { "Content-Type": "application/octet-stream" },
        body: blob,
      });
      expect(res.status).toBe(202);
      expect(res.headers.get("location")).toBe("/next");
      expect(res.headers.get("x-length")).toBe(String(range.end - range.start));
      const seen = (await res.json()) as { method: string; type: string; got: string };
      expect(seen.method).toBe("PATCH");
      expect(seen.type).toBe("application/octet-stream");
      expect(Buffer.compare(Buffer.from(seen.got, "base64"), bytes.subarray(range.start, range.end))).toBe(0);
    }
  });

  it("leaves any other body to the global fetch, and stops when its signal aborts", async () => {
    const res = await uploadFetch(`${origin}/plain`, { method: "PUT", body: new Uint8Array([1, 2, 3]) });
    expect(Buffer.from(((await res.json()) as { got: string }).got, "base64")).toEqual(
      Buffer.from([1, 2, 3]),
    );
    const abort = new AbortController();
    const pending = uploadFetch(`${origin}/slow`, {
      method: "PATCH",
      body: await fileRangeBlob(path, 0, 1000),
      signal: abort.signal,
    });
    abort.abort(new Error("stopped"));
    await expect(pending).rejects.toThrow(/stopped/);
  });
});
