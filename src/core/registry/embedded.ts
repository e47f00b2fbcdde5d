/**
 * An OCI distribution registry served from a store: the API a client uses (blobs by HEAD and GET,
 * uploads by POST, PATCH and PUT, cross-repository mounts, manifests by tag or digest), answering
 * `Request`s with `Response`s, so it can sit behind a Service Worker ("another machine" for the
 * transfer lesson) or be handed to the client as its `fetch` in tests. It answers as CNCF
 * distribution does on everything the client uses, and counts the bytes it received and sent.
 */
import { collectBytes } from "../archive/bytes.ts";
import { type Digest, isDigest, sha256 } from "../digest.ts";
import type { Store } from "../store/types.ts";
import { MANIFEST_MAX_BYTES } from "./manifest.ts";

/** What one repository holds: blobs linked into it and its tags. */
interface RepoRecord {
  blobs: Digest[];
  manifests: Record<string, string>;
  tags: Record<string, Digest>;
}

/** An upload in progress: its chunks so far; a short chunk must be the last. */
interface Upload {
  repo: string;
  parts: Uint8Array[];
  size: number;
  pendingShort?: boolean;
}

/** Bytes and requests an embedded registry has seen. */
export interface EmbeddedCounters {
  bytesReceived: number;
  bytesSent: number;
  requests: { method: string; path: string; status: number }[];
}

const REPO_KEY = "embedded-registry-repo:";
const NAME = "[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*";
const ROUTE = new RegExp(`^/v2/(${NAME})/(blobs/uploads/([A-Za-z0-9-]*)|blobs/([^/]+)|manifests/([^/]+))$`);

/** A registry over a store, answering the OCI distribution API. */
export class EmbeddedRegistry {
  readonly counters: EmbeddedCounters = { bytesReceived: 0, bytesSent: 0, requests: [] };
  private readonly uploads = new Map<string, Upload>();
  private next = 0;

  constructor(
    private readonly store: Store,
    /** The origin URLs are made absolute against (`Location`). */
    private readonly origin = "http://embedded.invalid",
    /** The smallest PATCH chunk it takes (announced as OCI-Chunk-Min-Length), if any. */
    private readonly chunkMinLength?: number,
  ) {}

  /** A `fetch` that answers from this registry (for the client, in tests and in a worker). */
  get fetch(): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) =>
      this.handle(new Request(input, init))) as typeof fetch;
  }

  /** Answers one request of the distribution API. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const res = await this.route(req, url).catch(() => error(500, "UNKNOWN", "internal error"));
    this.counters.requests.push({ method: req.method, path: url.pathname + url.search, status: res.status });
    return res;
  }

  private async repo(name: string): Promise<RepoRecord | undefined> {
    return (await this.store.meta.get("kv", REPO_KEY + name))?.value as RepoRecord | undefined;
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

  private async route(req: Request, url: URL): Promise<Response> {
    if (url.pathname === "/v2/" || url.pathname === "/v2") return new Response("{}", { status: 200 });
    const m = ROUTE.exec(url.pathname);
    if (!m) return error(404, "NAME_INVALID", "invalid repository name");
    const [, name, , uploadId, blobRef, manifestRef] = m;
    const method = req.method;
    if (uploadId !== undefined) {
      if (method === "POST" && uploadId === "") return this.startUpload(name!, url);
      const up = this.uploads.get(uploadId);
      if (!up || up.repo !== name) return error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
      if (method === "PATCH") return this.patch(req, uploadId, up);
      if (method === "PUT") return this.finish(req, url, uploadId, up);
      return error(405, "UNSUPPORTED", "method not allowed");
    }
    if (blobRef !== undefined) {
      if (method !== "GET" && method !== "HEAD") return error(405, "UNSUPPORTED", "method not allowed");
      if (!isDigest(blobRef)) return error(400, "DIGEST_INVALID", "invalid digest");
      const r = await this.repo(name!);
      const size = await this.store.blobs.size(blobRef);
      if (!r?.blobs.includes(blobRef) || size === undefined)
        return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
      const headers = {
        "Content-Length": String(size),
        "Docker-Content-Digest": blobRef,
        "Content-Type": "application/octet-stream",
      };
      if (method === "HEAD") return new Response(null, { status: 200, headers });
      const bytes = (await this.store.blobs.get(blobRef))!;
      this.counters.bytesSent += bytes.byteLength;
      return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
    }
    return this.manifest(req, name!, manifestRef!);
  }

  private async startUpload(name: string, url: URL): Promise<Response> {
    const mount = url.searchParams.get("mount");
    const from = url.searchParams.get("from");
    if (mount && from && isDigest(mount)) {
      const source = await this.repo(from);
      if (source?.blobs.includes(mount) && (await this.store.blobs.has(mount))) {
        await this.link(name, mount);
        return new Response(null, {
          status: 201,
          headers: { Location: `${this.origin}/v2/${name}/blobs/${mount}`, "Docker-Content-Digest": mount },
        });
      }
    }
    const id = `upload-${++this.next}-${Date.now().toString(36)}`;
    this.uploads.set(id, { repo: name, parts: [], size: 0 });
    return new Response(null, {
      status: 202,
      headers: {
        Location: `/v2/${name}/blobs/uploads/${id}`,
        Range: "0-0",
        "Docker-Upload-UUID": id,
        ...(this.chunkMinLength ? { "OCI-Chunk-Min-Length": String(this.chunkMinLength) } : {}),
      },
    });
  }

  private async patch(req: Request, id: string, up: Upload): Promise<Response> {
    const range = req.headers.get("content-range");
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (range) {
      const m = /^(\d+)-(\d+)$/.exec(range);
      if (!m || Number(m[1]) !== up.size || Number(m[2]) - Number(m[1]) + 1 !== bytes.byteLength)
        return error(416, "BLOB_UPLOAD_INVALID", "content range does not follow what was received");
    }
    if (this.chunkMinLength && up.pendingShort)
      return error(416, "BLOB_UPLOAD_INVALID", "a chunk smaller than OCI-Chunk-Min-Length was not the last");
    if (this.chunkMinLength && bytes.byteLength < this.chunkMinLength) up.pendingShort = true;
    up.parts.push(bytes);
    up.size += bytes.byteLength;
    this.counters.bytesReceived += bytes.byteLength;
    return new Response(null, {
      status: 202,
      headers: {
        Location: `/v2/${up.repo}/blobs/uploads/${id}`,
        Range: `0-${Math.max(0, up.size - 1)}`,
        "Docker-Upload-UUID": id,
      },
    });
  }

  private async finish(req: Request, url: URL, id: string, up: Upload): Promise<Response> {
    const digest = url.searchParams.get("digest");
    const last = new Uint8Array(await req.arrayBuffer());
    if (last.byteLength) {
      up.parts.push(last);
      this.counters.bytesReceived += last.byteLength;
    }
    this.uploads.delete(id);
    if (!digest || !isDigest(digest)) return error(400, "DIGEST_INVALID", "digest missing or invalid");
    const parts = up.parts;
    try {
      await this.store.blobs.putStream(
        (async function* () {
          yield* parts;
        })(),
        { expected: digest },
      );
    } catch {
      return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
    }
    await this.link(up.repo, digest);
    return new Response(null, {
      status: 201,
      headers: { Location: `${this.origin}/v2/${up.repo}/blobs/${digest}`, "Docker-Content-Digest": digest },
    });
  }

  private async manifest(req: Request, name: string, ref: string): Promise<Response> {
    if (req.method === "PUT") {
      const bytes = await collectBytes(
        (async function* () {
          yield new Uint8Array(await req.arrayBuffer());
        })(),
      );
      if (bytes.byteLength > MANIFEST_MAX_BYTES) return error(413, "SIZE_INVALID", "manifest too large");
      const digest = await sha256(bytes);
      if (isDigest(ref) && ref !== digest)
        return error(400, "DIGEST_INVALID", "manifest digest does not match");
      let doc: {
        config?: { digest?: string };
        layers?: { digest?: string }[];
        manifests?: { digest?: string }[];
      };
      try {
        doc = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        return error(400, "MANIFEST_INVALID", "manifest invalid");
      }
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
        r.manifests[digest] = req.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json";
        if (!isDigest(ref)) r.tags[ref] = digest;
        await this.saveRepo(name, r);
        return undefined;
      });
      if (refused) return error(400, "MANIFEST_BLOB_UNKNOWN", `blob unknown to registry: ${refused}`);
      this.counters.bytesReceived += bytes.byteLength;
      return new Response(null, {
        status: 201,
        headers: {
          Location: `${this.origin}/v2/${name}/manifests/${digest}`,
          "Docker-Content-Digest": digest,
        },
      });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return error(405, "UNSUPPORTED", "method not allowed");
    const r = await this.repo(name);
    if (!r) return error(404, "NAME_UNKNOWN", "repository name not known to registry");
    const digest = isDigest(ref) ? ref : r.tags[ref];
    const type = digest ? r.manifests[digest] : undefined;
    const bytes = digest && type ? await this.store.blobs.get(digest) : undefined;
    if (!digest || !type || !bytes) return error(404, "MANIFEST_UNKNOWN", "manifest unknown");
    const headers = {
      "Content-Type": type,
      "Docker-Content-Digest": digest,
      "Content-Length": String(bytes.byteLength),
    };
    if (req.method === "HEAD") return new Response(null, { status: 200, headers });
    this.counters.bytesSent += bytes.byteLength;
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
  }
}

function error(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ errors: [{ code, message }] }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}
