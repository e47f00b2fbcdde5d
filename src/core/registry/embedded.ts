/**
 * An OCI distribution registry served from a store: the API a client uses (blobs by HEAD and GET
 * with byte ranges, uploads by POST, PATCH and PUT, cross-repository mounts, manifests by tag or
 * digest, deletes, the catalog and tag lists), answering `Request`s with `Response`s, so it can sit
 * behind a Service Worker ("another machine" for the transfer lesson), behind a small HTTP server in
 * tests, or be handed to the client as its `fetch`. It answers as CNCF distribution does on
 * everything the client uses (the registry integration tests run against both), streams blob
 * bodies both ways (an upload's chunks go straight into the store as they arrive), and counts the
 * bytes it received and sent.
 */
import { collectAtMost } from "../archive/bytes.ts";
import { type Digest, isDigest, sha256 } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import type { PutResult, Store } from "../store/types.ts";
import { MANIFEST_MAX_BYTES } from "./manifest.ts";

/** What one repository holds: blobs linked into it, its manifests (digest → media type) and its tags. */
interface RepoRecord {
  blobs: Digest[];
  manifests: Record<string, string>;
  tags: Record<string, Digest>;
}

/** Bytes and requests an embedded registry has seen since it started. */
export interface EmbeddedCounters {
  bytesReceived: number;
  bytesSent: number;
  requests: { method: string; path: string; status: number }[];
}

/** What the embedded registry holds, for a page to show it as "another machine". */
export interface EmbeddedRegistryStatus {
  blobs: number;
  bytes: number;
  repositories: { name: string; tags: string[] }[];
  bytesReceived: number;
  bytesSent: number;
}

/** How an embedded registry is served. */
export interface EmbeddedRegistryOptions {
  /**
   * The path the API is served under (`/embedded-registry` behind the Service Worker; empty when
   * the registry is a host of its own). Locations it gives are made absolute against the
   * request's origin and this prefix, as distribution makes them against its Host.
   */
  prefix?: string;
  /** The smallest PATCH chunk it takes (announced as OCI-Chunk-Min-Length), if any. */
  chunkMinLength?: number;
  /** Keep at most this many requests in `counters.requests` (default 1000; the oldest go first). */
  keepRequests?: number;
  /** An upload untouched this long is dropped with what it stored (default 10 minutes). */
  uploadIdleMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

const REPO_KEY = "embedded-registry-repo:";
const NAME = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*";
const ROUTE = new RegExp(
  `^/v2/(${NAME})/(?:blobs/uploads/([A-Za-z0-9-]*)|blobs/([^/]+)|manifests/([^/]+)|(tags/list))$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const API_VERSION = { "Docker-Distribution-API-Version": "registry/2.0" };
/** Bytes read from the store per step when a byte range is served. */
const RANGE_STEP = 1 << 20;

/**
 * Hands the chunks of an upload's PATCH requests to the store's one streaming put, one at a time:
 * a chunk is taken only when the store asks for the next, so nothing piles up in memory.
 */
class BytePipe implements AsyncIterable<Uint8Array> {
  private pending: { chunk: Uint8Array; resolve: () => void; reject: (e: unknown) => void } | undefined;
  private taken: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private wake: (() => void) | undefined;
  private state: "open" | "ended" | "failed" = "open";
  private failure: unknown;

  /** Resolves when the store has taken the chunk; rejects when the store stopped taking any. */
  push(chunk: Uint8Array): Promise<void> {
    if (this.state !== "open") return Promise.reject(this.failure ?? new Error("the upload has ended"));
    return new Promise((resolve, reject) => {
      this.pending = { chunk, resolve, reject };
      this.notify();
    });
  }
  end(): void {
    if (this.state === "open") this.state = "ended";
    this.notify();
  }
  fail(err: unknown): void {
    if (this.state === "open") {
      this.state = "failed";
      this.failure = err;
    }
    this.notify();
  }
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.pending) {
          const p = this.pending;
          this.pending = undefined;
          this.taken = p;
          yield p.chunk;
          this.taken = undefined;
          p.resolve();
          continue;
        }
        if (this.state === "ended") return;
        if (this.state === "failed") throw this.failure;
        await new Promise<void>((r) => {
          this.wake = r;
        });
      }
    } finally {
      // The store stopped (it failed, or the upload was cancelled): no push may wait for it.
      if (this.state === "open") {
        this.state = "failed";
        this.failure = new Error("the store stopped taking the upload");
      }
      this.taken?.reject(this.failure);
      this.pending?.reject(this.failure);
      this.taken = this.pending = undefined;
    }
  }
}

/** An upload in progress: the bytes so far stream into one store put, started by the first chunk. */
interface Upload {
  id: string;
  repo: string;
  size: number;
  pipe?: BytePipe;
  written?: Promise<PutResult>;
  /** A chunk smaller than OCI-Chunk-Min-Length was taken: it must be the last. */
  pendingShort?: boolean;
  /** A PATCH or PUT is being read: another one at the same time is refused, as distribution does. */
  busy?: boolean;
  /** Its bytes are all stored (a PUT named the wrong digest): only a PUT without a body may follow. */
  ended?: boolean;
  /** When a request last touched it (ms). */
  touched: number;
}

/** A registry over a store, answering the OCI distribution API. */
export class EmbeddedRegistry {
  readonly counters: EmbeddedCounters = { bytesReceived: 0, bytesSent: 0, requests: [] };
  private readonly uploads = new Map<string, Upload>();
  private readonly prefix: string;
  private next = 0;

  constructor(
    private readonly store: Store,
    private readonly options: EmbeddedRegistryOptions = {},
  ) {
    this.prefix = (options.prefix ?? "").replace(/\/+$/, "");
  }

  /** A `fetch` that answers from this registry (for the client, in tests and in a worker). */
  get fetch(): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) =>
      this.handle(new Request(input, init))) as typeof fetch;
  }

  /** Answers one request of the distribution API (or of the status and clear calls beside it). */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    await this.dropIdleUploads();
    const res = await this.route(req, url).catch((err: unknown) =>
      error(500, "UNKNOWN", "unknown error", err instanceof Error ? err.message : String(err)),
    );
    const log = this.counters.requests;
    log.push({ method: req.method, path: url.pathname + url.search, status: res.status });
    if (log.length > (this.options.keepRequests ?? 1000))
      log.splice(0, log.length - (this.options.keepRequests ?? 1000));
    return res;
  }

  /** The blobs, bytes and repositories it holds (what the page shows of "another machine"). */
  async status(): Promise<EmbeddedRegistryStatus> {
    const stats = await this.store.blobs.stats();
    const repositories = [];
    for (const name of await this.repoNames()) {
      const r = await this.repo(name);
      repositories.push({ name, tags: Object.keys(r?.tags ?? {}).sort() });
    }
    return {
      blobs: stats.count,
      bytes: stats.bytes,
      repositories,
      bytesReceived: this.counters.bytesReceived,
      bytesSent: this.counters.bytesSent,
    };
  }

  /** Removes every blob, manifest, tag and upload: the other machine starts empty. */
  async clear(): Promise<void> {
    for (const up of this.uploads.values())
      up.pipe?.fail(new LayerLabError("CANCELLED", "the registry was cleared"));
    this.uploads.clear();
    await this.serial(() => this.store.clear());
  }

  private async repo(name: string): Promise<RepoRecord | undefined> {
    return (await this.store.meta.get("kv", REPO_KEY + name))?.value as RepoRecord | undefined;
  }
  private async repoNames(): Promise<string[]> {
    return (await this.store.meta.list("kv"))
      .filter((r) => r.id.startsWith(REPO_KEY))
      .map((r) => r.id.slice(REPO_KEY.length))
      .sort();
  }
  private async saveRepo(name: string, r: RepoRecord): Promise<void> {
    await this.store.meta.put("kv", { id: REPO_KEY + name, value: r });
  }
  /** Read-modify-write of repository records, one at a time (uploads finish concurrently). */
  private queue: Promise<unknown> = Promise.resolve();
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
  private link(name: string, digest: Digest): Promise<void> {
    return this.serial(async () => {
      const r = (await this.repo(name)) ?? { blobs: [], manifests: {}, tags: {} };
      if (!r.blobs.includes(digest)) r.blobs.push(digest);
      await this.saveRepo(name, r);
    });
  }
  /** Removes a blob from the store once no repository links it or holds it as a manifest. */
  private async collect(digest: Digest): Promise<void> {
    for (const name of await this.repoNames()) {
      const r = await this.repo(name);
      if (r?.blobs.includes(digest) || r?.manifests[digest] !== undefined) return;
    }
    await this.store.blobs.delete(digest);
  }

  private async route(req: Request, url: URL): Promise<Response> {
    if (this.prefix && !url.pathname.startsWith(`${this.prefix}/`)) return notFound();
    const path = url.pathname.slice(this.prefix.length);
    const method = req.method;
    if (path === "/status" && method === "GET") return json(200, await this.status());
    if (path === "/clear" && method === "POST") {
      await this.clear();
      return json(200, await this.status());
    }
    if (path === "/v2/" || path === "/v2") {
      if (method !== "GET" && method !== "HEAD") return unsupported();
      return json(200, {}, method === "HEAD");
    }
    if (path === "/v2/_catalog") {
      if (method !== "GET") return unsupported();
      return this.page(url, "repositories", await this.repoNames(), {});
    }
    const m = ROUTE.exec(path);
    if (!m) {
      if (/^\/v2\/.+\/(?:blobs|manifests|tags)\//.test(path))
        return error(404, "NAME_INVALID", "invalid repository name");
      return notFound();
    }
    const [, name, uploadId, blobRef, manifestRef, tagsList] = m as unknown as [
      string,
      string,
      ...(string | undefined)[],
    ];
    if (tagsList !== undefined) {
      if (method !== "GET") return unsupported();
      const r = await this.repo(name);
      if (!r) return error(404, "NAME_UNKNOWN", "repository name not known to registry", { name });
      return this.page(url, "tags", Object.keys(r.tags).sort(), { name });
    }
    if (uploadId !== undefined) {
      if (uploadId === "") {
        if (method === "POST") return this.startUpload(req, name, url);
        return unsupported();
      }
      const up = this.uploads.get(uploadId);
      if (!up || up.repo !== name)
        return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
      up.touched = this.now();
      if (method === "GET") return uploadStatus(204, this.uploadPath(url, up), up);
      if (method === "PATCH") return this.patch(req, url, up);
      if (method === "PUT") return this.finish(req, url, up);
      if (method === "DELETE") {
        this.uploads.delete(up.id);
        up.pipe?.fail(new LayerLabError("CANCELLED", "the upload was cancelled"));
        const stored = await up.written?.catch(() => undefined);
        // Bytes a finished but never accepted upload stored go with it, unless they were there before.
        if (stored && !stored.deduplicated) await this.serial(() => this.collect(stored.digest));
        return new Response(null, { status: 204, headers: { ...API_VERSION, "Content-Length": "0" } });
      }
      return unsupported();
    }
    if (blobRef !== undefined) return this.blob(req, name, blobRef);
    return this.manifest(req, url, name, manifestRef!);
  }

  /** A page of a sorted list, as `_catalog` and `tags/list` give it (`n`, `last`, a Link to the next). */
  private page(url: URL, key: string, all: string[], extra: Record<string, string>): Response {
    const last = url.searchParams.get("last");
    const nText = url.searchParams.get("n");
    const n = nText === null || nText === "" ? undefined : Number(nText);
    if (n !== undefined && (!Number.isInteger(n) || n < 0))
      return error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", { n: nText });
    const after = last ? all.filter((x) => x > last) : all;
    const items = n === undefined ? after : after.slice(0, n);
    const headers: Record<string, string> = {};
    if (n !== undefined && n > 0 && after.length > n) {
      const next = new URL(url.pathname, url.origin);
      next.searchParams.set("n", String(n));
      next.searchParams.set("last", items[items.length - 1]!);
      headers.Link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    return json(200, { ...extra, [key]: items }, false, headers);
  }

  private async blob(req: Request, name: string, ref: string): Promise<Response> {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD" && method !== "DELETE") return unsupported();
    if (!isDigest(ref))
      return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", { digest: ref });
    const r = await this.repo(name);
    if (method === "DELETE") {
      if (!r?.blobs.includes(ref))
        return error(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest: ref });
      await this.serial(async () => {
        const now = await this.repo(name);
        if (!now) return;
        now.blobs = now.blobs.filter((d) => d !== ref);
        await this.saveRepo(name, now);
        await this.collect(ref);
      });
      return new Response(null, {
        status: 202,
        headers: { ...API_VERSION, "Content-Length": "0", "Docker-Content-Digest": ref },
      });
    }
    const size = r?.blobs.includes(ref) ? await this.store.blobs.size(ref) : undefined;
    if (size === undefined) return error(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest: ref });
    const headers: Record<string, string> = {
      ...API_VERSION,
      "Accept-Ranges": "bytes",
      "Cache-Control": "max-age=31536000",
      "Content-Type": "application/octet-stream",
      "Docker-Content-Digest": ref,
      ETag: `"${ref}"`,
    };
    const etag = req.headers.get("if-none-match");
    if (etag?.split(",").some((t) => t.trim() === `"${ref}"` || t.trim() === "*"))
      return new Response(null, { status: 304, headers });
    const range = parseRange(req.headers.get("range"), size);
    if (range === "unsatisfiable")
      return new Response(null, {
        status: 416,
        headers: { ...headers, "Content-Range": `bytes */${size}`, "Content-Length": "0" },
      });
    if (range) {
      const [start, end] = range;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
      headers["Content-Length"] = String(end - start + 1);
      if (method === "HEAD") return new Response(null, { status: 206, headers });
      return new Response(this.sendStream(this.readRange(ref, start, end + 1)), { status: 206, headers });
    }
    headers["Content-Length"] = String(size);
    if (method === "HEAD") return new Response(null, { status: 200, headers });
    return new Response(this.sendStream(this.store.blobs.stream(ref)), { status: 200, headers });
  }

  private async *readRange(digest: Digest, start: number, end: number): AsyncGenerator<Uint8Array> {
    for (let at = start; at < end; at += RANGE_STEP) {
      yield await this.store.blobs.read(digest, at, Math.min(RANGE_STEP, end - at));
    }
  }

  /** A response body read from the store a chunk at a time, as the receiver asks for it. */
  private sendStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
    const it = source[Symbol.asyncIterator]();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const r = await it.next();
        if (r.done) return controller.close();
        this.counters.bytesSent += r.value.byteLength;
        controller.enqueue(r.value);
      },
      cancel: async () => {
        await it.return?.();
      },
    });
  }

  private uploadPath(url: URL, up: Upload): string {
    return `${url.origin}${this.prefix}/v2/${up.repo}/blobs/uploads/${up.id}`;
  }

  private async startUpload(req: Request, name: string, url: URL): Promise<Response> {
    const mount = url.searchParams.get("mount");
    const from = url.searchParams.get("from");
    if (mount && from && isDigest(mount)) {
      const source = await this.repo(from);
      if (source?.blobs.includes(mount) && (await this.store.blobs.has(mount))) {
        await this.link(name, mount);
        return created(`${url.origin}${this.prefix}/v2/${name}/blobs/${mount}`, mount);
      }
    }
    const up: Upload = {
      id: `${(++this.next).toString(36)}-${crypto.randomUUID()}`,
      repo: name,
      size: 0,
      touched: this.now(),
    };
    this.uploads.set(up.id, up);
    const digest = url.searchParams.get("digest");
    // A monolithic upload: POST with the digest and the whole blob.
    if (digest !== null && !mount) return this.finish(req, url, up);
    return uploadStatus(202, this.uploadPath(url, up), up, this.options.chunkMinLength);
  }

  /** Streams a request body into the upload's store put; the bytes it took, or an error response. */
  private async take(req: Request, up: Upload): Promise<number | Response> {
    if (!req.body) return 0;
    if (up.ended) {
      const more = await readLimited(req, 0);
      if (more?.byteLength === 0) return 0;
      return error(
        416,
        "BLOB_UPLOAD_INVALID",
        "blob upload invalid",
        "the upload's bytes were already completed",
      );
    }
    if (!up.pipe) {
      const pipe = new BytePipe();
      up.pipe = pipe;
      up.written = this.store.blobs.putStream(pipe);
      up.written.catch(() => {});
    }
    const reader = req.body.getReader();
    let n = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.byteLength === 0) continue;
        await up.pipe.push(value);
        n += value.byteLength;
        up.size += value.byteLength;
        this.counters.bytesReceived += value.byteLength;
      }
    } catch (err) {
      await reader.cancel().catch(() => {});
      this.drop(up, err);
      const full = await up.written?.then(
        () => undefined,
        (e: unknown) => e,
      );
      const why = full instanceof Error ? full.message : err instanceof Error ? err.message : String(err);
      return error(500, "UNKNOWN", "unknown error", `the upload could not be stored: ${why}`);
    }
    return n;
  }

  /** Uploads a client walked away from: their store writes are cancelled and what they stored goes. */
  private async dropIdleUploads(): Promise<void> {
    const now = this.now();
    const idle = this.options.uploadIdleMs ?? 10 * 60 * 1000;
    for (const up of [...this.uploads.values()]) {
      if (up.busy || now - up.touched <= idle) continue;
      this.uploads.delete(up.id);
      up.pipe?.fail(new LayerLabError("CANCELLED", "the upload was left idle"));
      const stored = await up.written?.catch(() => undefined);
      if (stored && !stored.deduplicated) await this.serial(() => this.collect(stored.digest));
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private drop(up: Upload, why: unknown): void {
    this.uploads.delete(up.id);
    up.pipe?.fail(why);
  }

  private async patch(req: Request, url: URL, up: Upload): Promise<Response> {
    if (up.busy) return uploadBusy();
    const range = req.headers.get("content-range");
    let expected: number | undefined;
    if (range) {
      const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(range.trim());
      if (!m || Number(m[1]) !== up.size || Number(m[2]) < Number(m[1]))
        return error(
          416,
          "BLOB_UPLOAD_INVALID",
          "blob upload invalid",
          `Content-Range ${range} does not follow the ${up.size} bytes received`,
        );
      expected = Number(m[2]) - Number(m[1]) + 1;
    }
    const min = this.options.chunkMinLength;
    if (min && up.pendingShort)
      return error(
        416,
        "BLOB_UPLOAD_INVALID",
        "blob upload invalid",
        "a chunk smaller than OCI-Chunk-Min-Length was not the last",
      );
    up.busy = true;
    try {
      const n = await this.take(req, up);
      if (n instanceof Response) return n;
      if (expected !== undefined && n !== expected) {
        this.drop(up, new LayerLabError("REGISTRY", "a chunk did not match its Content-Range"));
        return error(
          416,
          "BLOB_UPLOAD_INVALID",
          "blob upload invalid",
          `Content-Range ${range} announced ${expected} bytes, the body had ${n}`,
        );
      }
      if (min && n < min) up.pendingShort = true;
      return uploadStatus(202, this.uploadPath(url, up), up);
    } finally {
      up.busy = false;
    }
  }

  private async finish(req: Request, url: URL, up: Upload): Promise<Response> {
    if (up.busy) return uploadBusy();
    up.busy = true;
    try {
      const digest = url.searchParams.get("digest");
      if (!digest || !isDigest(digest)) {
        // Distribution keeps the upload open when the digest is missing; the bytes stay.
        return error(
          400,
          "DIGEST_INVALID",
          "provided digest did not match uploaded content",
          "digest missing or invalid",
        );
      }
      const n = await this.take(req, up);
      if (n instanceof Response) return n;
      if (!up.pipe) {
        up.pipe = new BytePipe();
        up.written = this.store.blobs.putStream(up.pipe);
        up.written.catch(() => {});
      }
      up.pipe.end();
      up.ended = true;
      let stored: PutResult;
      try {
        stored = await up.written!;
      } catch (err) {
        this.uploads.delete(up.id);
        return error(
          500,
          "UNKNOWN",
          "unknown error",
          `the upload could not be stored: ${(err as Error).message}`,
        );
      }
      if (stored.digest !== digest) {
        // As distribution does, the upload stays open: a PUT with the right digest completes it.
        return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", {
          expected: digest,
          actual: stored.digest,
        });
      }
      this.uploads.delete(up.id);
      await this.link(up.repo, digest);
      return created(`${url.origin}${this.prefix}/v2/${up.repo}/blobs/${digest}`, digest);
    } finally {
      up.busy = false;
    }
  }

  private async manifest(req: Request, url: URL, name: string, ref: string): Promise<Response> {
    if (!isDigest(ref) && !TAG.test(ref))
      return error(400, isDigest(ref) ? "DIGEST_INVALID" : "TAG_INVALID", "manifest tag did not match URI", {
        tag: ref,
      });
    if (req.method === "PUT") return this.putManifest(req, url, name, ref);
    if (req.method === "DELETE") return this.deleteManifest(name, ref);
    if (req.method !== "GET" && req.method !== "HEAD") return unsupported();
    // A repository it does not know is MANIFEST_UNKNOWN too, as distribution answers (it keeps
    // NAME_UNKNOWN for the tag list).
    const r = await this.repo(name);
    const digest = isDigest(ref) ? ref : r?.tags[ref];
    const type = digest ? r?.manifests[digest] : undefined;
    const bytes = digest && type ? await this.store.blobs.get(digest) : undefined;
    if (!digest || !type || !bytes)
      return error(
        404,
        "MANIFEST_UNKNOWN",
        "manifest unknown",
        isDigest(ref) ? { digest: ref } : { tag: ref },
      );
    const headers = {
      ...API_VERSION,
      "Content-Type": type,
      "Docker-Content-Digest": digest,
      "Content-Length": String(bytes.byteLength),
      ETag: `"${digest}"`,
    };
    if (req.method === "HEAD") return new Response(null, { status: 200, headers });
    this.counters.bytesSent += bytes.byteLength;
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
  }

  private async putManifest(req: Request, url: URL, name: string, ref: string): Promise<Response> {
    const bytes = await readLimited(req, MANIFEST_MAX_BYTES);
    // Over the limit is an invalid manifest, as distribution answers (400, not 413).
    if (!bytes)
      return error(
        400,
        "MANIFEST_INVALID",
        "manifest invalid",
        `http: request body too large (a manifest is at most ${MANIFEST_MAX_BYTES} bytes)`,
      );
    const digest = await sha256(bytes);
    if (isDigest(ref) && ref !== digest)
      return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", {
        expected: ref,
        actual: digest,
      });
    let doc: {
      schemaVersion?: number;
      mediaType?: string;
      config?: { digest?: string };
      layers?: { digest?: string }[];
      manifests?: { digest?: string }[];
    };
    try {
      doc = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return error(400, "MANIFEST_INVALID", "manifest invalid", "the body is not JSON");
    }
    if (typeof doc !== "object" || doc === null || doc.schemaVersion !== 2)
      return error(400, "MANIFEST_INVALID", "manifest invalid", "schemaVersion must be 2");
    const type =
      req.headers.get("content-type")?.split(";")[0]?.trim() ||
      doc.mediaType ||
      "application/vnd.oci.image.manifest.v1+json";
    if (doc.mediaType && doc.mediaType !== type)
      return error(
        400,
        "MANIFEST_INVALID",
        "manifest invalid",
        `mediaType ${doc.mediaType} does not match Content-Type ${type}`,
      );
    const refused = await this.serial(async () => {
      const r = (await this.repo(name)) ?? { blobs: [], manifests: {}, tags: {} };
      const named = [
        doc.config?.digest,
        ...(doc.layers ?? []).map((l) => l.digest),
        ...(doc.manifests ?? []).map((l) => l.digest),
      ];
      for (const d of named) {
        if (d === undefined) continue;
        if (!r.blobs.includes(d as Digest) && r.manifests[d] === undefined) return d;
      }
      await this.store.blobs.put(bytes, { expected: digest });
      r.manifests[digest] = type;
      if (!isDigest(ref)) r.tags[ref] = digest;
      await this.saveRepo(name, r);
      return undefined;
    });
    if (refused) return error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", { digest: refused });
    this.counters.bytesReceived += bytes.byteLength;
    return created(`${url.origin}${this.prefix}/v2/${name}/manifests/${digest}`, digest);
  }

  private async deleteManifest(name: string, ref: string): Promise<Response> {
    const outcome = await this.serial(async () => {
      const r = await this.repo(name);
      // An unknown repository is an unknown manifest, as distribution answers.
      if (!r) return "manifest";
      if (isDigest(ref)) {
        if (r.manifests[ref] === undefined) return "manifest";
        delete r.manifests[ref];
        for (const [t, d] of Object.entries(r.tags)) if (d === ref) delete r.tags[t];
        await this.saveRepo(name, r);
        await this.collect(ref);
      } else {
        if (r.tags[ref] === undefined) return "manifest";
        delete r.tags[ref];
        await this.saveRepo(name, r);
      }
      return "done";
    });
    if (outcome === "manifest") return error(404, "MANIFEST_UNKNOWN", "manifest unknown", { reference: ref });
    return new Response(null, { status: 202, headers: { ...API_VERSION, "Content-Length": "0" } });
  }
}

/** A single byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) within `size`; undefined for the whole. */
function parseRange(header: string | null, size: number): [number, number] | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or a unit other than bytes: the whole blob is an allowed answer (RFC 9110).
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}

/** Reads a small body whole, or undefined when it is longer than `max`. */
async function readLimited(req: Request, max: number): Promise<Uint8Array | undefined> {
  return req.body ? collectAtMost(req.body, max) : new Uint8Array(0);
}

/** Two requests at once on one upload: distribution refuses the second the same way. */
function uploadBusy(): Response {
  return error(
    416,
    "BLOB_UPLOAD_INVALID",
    "blob upload invalid",
    "another request is writing to this upload",
  );
}

function uploadStatus(status: number, location: string, up: Upload, chunkMinLength?: number): Response {
  return new Response(null, {
    status,
    headers: {
      ...API_VERSION,
      Location: location,
      Range: `0-${Math.max(0, up.size - 1)}`,
      "Docker-Upload-UUID": up.id,
      "Content-Length": "0",
      ...(chunkMinLength ? { "OCI-Chunk-Min-Length": String(chunkMinLength) } : {}),
    },
  });
}

function created(location: string, digest: Digest): Response {
  return new Response(null, {
    status: 201,
    headers: { ...API_VERSION, Location: location, "Docker-Content-Digest": digest, "Content-Length": "0" },
  });
}

function json(status: number, body: unknown, headOnly = false, extra: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(headOnly ? null : text, {
    status,
    headers: {
      ...API_VERSION,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(new TextEncoder().encode(text).byteLength),
      ...extra,
    },
  });
}

/** An error body as distribution writes it: `{"errors":[{"code","message","detail"}]}`. */
function error(status: number, code: string, message: string, detail?: unknown): Response {
  return json(status, { errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] });
}

function unsupported(): Response {
  return error(405, "UNSUPPORTED", "The operation is unsupported.");
}

/** A path outside the API: distribution answers such with Go's plain-text 404. */
function notFound(): Response {
  return new Response("404 page not found\n", {
    status: 404,
    headers: { ...API_VERSION, "Content-Type": "text/plain; charset=utf-8" },
  });
}
