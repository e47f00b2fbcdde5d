/**
 * The CLI's fetch: a request whose body is a range of a file on disk (a Blob of file-ranges.ts, as
 * the temp-file store hands them out) goes out through node:http(s), its body read from the file
 * and written to the socket a MiB at a time; every other request goes to the global fetch. Node's
 * fetch reads a Blob body whole into new memory first (and copies a Uint8Array body), which made a
 * 500 MB push spend about twice skopeo's CPU; see src/bench/README.md.
 */

import { createReadStream } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { fileRangeOf } from "./file-ranges.ts";

/** Bytes per read of a file range being sent. */
const SEND_READ_BYTES = 1 << 20;

/** fetch, with a file range's Blob body sent from the file (see the module's comment). */
export const uploadFetch: typeof fetch = (input, init) => {
  const body = init?.body;
  const range = body instanceof Blob ? fileRangeOf(body) : undefined;
  if (!range) return fetch(input, init);
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => {
    headers[k] = v;
  });
  headers["content-length"] = String(range.end - range.start);
  const method = init?.method ?? "GET";
  const signal = init?.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method, headers }, (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (Array.isArray(v)) for (const x of v) h.append(k, x);
        else if (v !== undefined) h.set(k, v);
      }
      const status = res.statusCode ?? 500;
      const empty = status === 204 || status === 304 || method === "HEAD";
      if (empty) res.resume();
      resolve(
        new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
          status,
          statusText: res.statusMessage ?? "",
          headers: h,
        }),
      );
    });
    req.on("error", reject);
    signal?.addEventListener("abort", () => req.destroy(signal.reason as Error), { once: true });
    if (range.end <= range.start) {
      req.end();
      return;
    }
    const file = createReadStream(range.path, {
      start: range.start,
      end: range.end - 1,
      highWaterMark: SEND_READ_BYTES,
    });
    file.on("error", (err) => req.destroy(err));
    file.pipe(req);
  });
};
