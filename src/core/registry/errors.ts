import { LayerLabError } from "../errors.ts";

/** What went wrong talking to a registry, one kind per thing a person can do about it. */
export type RegistryErrorKind =
  | "unauthorized"
  | "denied"
  | "name-unknown"
  | "manifest-unknown"
  | "blob-unknown"
  | "blob-upload-invalid"
  | "digest-mismatch"
  | "too-many-requests"
  | "network"
  | "insecure"
  | "unsupported"
  | "too-large"
  | "server"
  | "protocol";

/** Where a registry error happened: the registry, the repository and the request. */
export interface RegistryErrorContext {
  registry?: string;
  repository?: string;
  /** The HTTP method and path, e.g. `GET /v2/library/ubuntu/manifests/20.04`. */
  request?: string;
  status?: number;
  /** The registry's own error codes from its JSON body (`MANIFEST_UNKNOWN`, …). */
  codes?: string[];
}

/** A registry refused or failed a request; the message says what happened and what to do. */
export class RegistryError extends LayerLabError {
  readonly kind: RegistryErrorKind;
  readonly status: number | undefined;
  readonly registry: string | undefined;
  readonly repository: string | undefined;
  readonly codes: string[];
  constructor(
    kind: RegistryErrorKind,
    message: string,
    context: RegistryErrorContext = {},
    options?: { cause?: unknown },
  ) {
    const where = context.registry
      ? ` (${context.registry}${context.repository ? `/${context.repository}` : ""}${context.request ? `: ${context.request}` : ""}${context.status ? ` → ${context.status}` : ""})`
      : "";
    super("REGISTRY", `${message}${where}`, options);
    this.name = "RegistryError";
    this.kind = kind;
    this.status = context.status;
    this.registry = context.registry;
    this.repository = context.repository;
    this.codes = context.codes ?? [];
  }
}

/** The `errors` of a registry's JSON error body (OCI distribution spec). */
export interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/**
 * Turns a failed response into a RegistryError whose message says what to do. `what` names the
 * thing asked for (`manifest 20.04`, `blob sha256:…`).
 */
export function describeFailure(
  status: number,
  body: RegistryErrorBody | undefined,
  context: RegistryErrorContext & { what?: string; retryAfter?: string | null },
): RegistryError {
  const codes = (body?.errors ?? []).map((e) => e.code ?? "").filter(Boolean);
  const detail = (body?.errors ?? [])
    .map((e) => e.message)
    .filter(Boolean)
    .join("; ");
  const said = detail ? ` The registry said: ${detail}.` : "";
  const ctx = { ...context, codes, status };
  const has = (c: string) => codes.includes(c);
  const what = context.what ?? "the request";
  if (status === 401 || has("UNAUTHORIZED"))
    return new RegistryError(
      "unauthorized",
      `Not signed in for ${what}: the registry wants credentials, or the ones given are wrong. Check the user name and password (or token) and try again.${said}`,
      ctx,
    );
  if (status === 403 || has("DENIED"))
    return new RegistryError(
      "denied",
      `Access denied for ${what}: these credentials may not do this here. Check that the repository name is right and that the account may pull (or push) it.${said}`,
      ctx,
    );
  if (has("NAME_UNKNOWN"))
    return new RegistryError(
      "name-unknown",
      `The repository ${context.repository ?? ""} does not exist on ${context.registry ?? "the registry"}: check its spelling (and for Docker Hub, the owner, e.g. library/ for official images).${said}`,
      ctx,
    );
  if (has("MANIFEST_UNKNOWN") || (status === 404 && /\/manifests\//.test(context.request ?? "")))
    return new RegistryError(
      "manifest-unknown",
      `${what} is not in ${context.repository ?? "the repository"}: check the tag or digest (the repository may not exist either).${said}`,
      ctx,
    );
  if (has("BLOB_UNKNOWN") || (status === 404 && /\/blobs\/sha256:/.test(context.request ?? "")))
    return new RegistryError(
      "blob-unknown",
      `${what} is not in the registry although a manifest names it: the image there is incomplete; push it again.${said}`,
      ctx,
    );
  if (has("BLOB_UPLOAD_INVALID") || has("BLOB_UPLOAD_UNKNOWN") || status === 416)
    return new RegistryError(
      "blob-upload-invalid",
      `The registry refused the upload of ${what} (the upload session was lost or its ranges did not line up). Push again: blobs already sent are kept.${said}`,
      ctx,
    );
  if (has("DIGEST_INVALID") || has("SIZE_INVALID"))
    return new RegistryError(
      "digest-mismatch",
      `The registry says ${what} does not match its digest or size: the bytes were changed on the way. Try again; if it repeats, something between here and the registry alters data.${said}`,
      ctx,
    );
  if (has("MANIFEST_INVALID") || has("MANIFEST_BLOB_UNKNOWN") || has("TAG_INVALID") || has("NAME_INVALID"))
    return new RegistryError("protocol", `The registry refused ${what} as invalid.${said}`, ctx);
  if (status === 429 || has("TOOMANYREQUESTS"))
    return new RegistryError(
      "too-many-requests",
      `The registry limits how often it may be asked (429 Too Many Requests)${context.retryAfter ? `; it asks to wait ${context.retryAfter} s` : ""}. Wait and try again, or sign in for a higher limit.${said}`,
      ctx,
    );
  if (status === 404)
    return new RegistryError(
      "name-unknown",
      `${what} was not found (404): check the registry address and the repository name.${said}`,
      ctx,
    );
  if (status === 413)
    return new RegistryError("too-large", `The registry refused ${what} as too large (413).${said}`, ctx);
  if (status >= 500)
    return new RegistryError(
      "server",
      `The registry failed (${status}) on ${what} and kept failing after retries. Try again later.${said}`,
      ctx,
    );
  return new RegistryError("protocol", `The registry answered ${status} to ${what}.${said}`, ctx);
}

/**
 * A request that got no answer at all. A page cannot tell a refused CORS request from a network
 * failure, so the message names both and points at the same-origin proxy.
 */
export function networkFailure(
  cause: unknown,
  context: RegistryErrorContext & { what?: string },
): RegistryError {
  const reason =
    cause instanceof Error
      ? cause.cause instanceof Error
        ? cause.cause.message
        : cause.message
      : String(cause);
  return new RegistryError(
    "network",
    `Could not reach the registry for ${context.what ?? "the request"} (${reason}). Check the address and that it is running. In the page, the registry may also refuse cross-origin requests (CORS): use \`npm start\`'s same-origin proxy, or configure the registry's CORS headers.`,
    context,
    { cause },
  );
}
