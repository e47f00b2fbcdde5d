/**
 * POSIX error codes of LayerLab's filesystems (the overlay, the container layer, the build's
 * filesystem and just-bash over it). An FsError's `code` is one of them, as Node's are, because
 * just-bash's commands decide on `err.code === "ENOENT"`.
 */
export type Errno =
  | "ENOENT"
  | "EEXIST"
  | "ENOTDIR"
  | "EISDIR"
  | "ENOTEMPTY"
  | "ELOOP"
  | "EINVAL"
  | "EPERM"
  | "EACCES"
  | "EIO"
  | "ENOSPC";

/** Machine-readable error codes; each names a family of failures a caller may handle. */
export type ErrorCode =
  | "DOCKERFILE_SYNTAX"
  | "DOCKERFILE_SEMANTIC"
  | "ARCHIVE_INVALID"
  | "ARCHIVE_HOSTILE"
  | "ARCHIVE_TOO_LARGE"
  | "DIGEST_MISMATCH"
  | "NOT_FOUND"
  | Errno
  | "BUILD"
  | "CANCELLED"
  | "STORE"
  | "STORAGE_FULL"
  | "REGISTRY"
  | "USAGE";

/** Base of every error LayerLab raises on purpose; anything else is a bug. */
export class LayerLabError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LayerLabError";
    this.code = code;
  }
}

/** A position in a Dockerfile: 1-based line, 1-based column. */
export interface Position {
  line: number;
  column: number;
}

/** A range in a Dockerfile, end inclusive of its line. */
export interface Range {
  start: Position;
  end: Position;
}

/** A Dockerfile problem, with where it is and, when one fits, what was probably meant. */
export class DockerfileError extends LayerLabError {
  readonly range: Range;
  readonly suggestion: string | undefined;
  constructor(
    message: string,
    range: Range,
    options?: { suggestion?: string; code?: "DOCKERFILE_SYNTAX" | "DOCKERFILE_SEMANTIC"; cause?: unknown },
  ) {
    const where = `line ${range.start.line}, column ${range.start.column}`;
    const hint = options?.suggestion ? ` (did you mean ${options.suggestion}?)` : "";
    super(options?.code ?? "DOCKERFILE_SYNTAX", `${where}: ${message}${hint}`, { cause: options?.cause });
    this.name = "DockerfileError";
    this.range = range;
    this.suggestion = options?.suggestion;
  }
}

/** An archive problem, naming the entry (and byte offset where known) that caused it. */
export class ArchiveError extends LayerLabError {
  readonly entry: string | undefined;
  readonly offset: number | undefined;
  constructor(
    message: string,
    where: { entry?: string; offset?: number } = {},
    code: "ARCHIVE_INVALID" | "ARCHIVE_HOSTILE" | "ARCHIVE_TOO_LARGE" = "ARCHIVE_INVALID",
  ) {
    const at = where.entry !== undefined ? `${where.entry}: ` : "";
    const off = where.offset !== undefined ? ` (at byte ${where.offset})` : "";
    super(code, `${at}${message}${off}`);
    this.name = "ArchiveError";
    this.entry = where.entry;
    this.offset = where.offset;
  }
}

/** Content whose sha256 is not the one it was announced with. */
export class DigestMismatchError extends LayerLabError {
  readonly expected: string;
  readonly actual: string;
  readonly subject: string | undefined;
  constructor(expected: string, actual: string, subject?: string) {
    super(
      "DIGEST_MISMATCH",
      `${subject ? `${subject}: ` : ""}digest mismatch: expected ${expected}, got ${actual}`,
    );
    this.name = "DigestMismatchError";
    this.expected = expected;
    this.actual = actual;
    this.subject = subject;
  }
}

/**
 * A filesystem operation that failed with an errno on a path: the one errno error of every
 * filesystem in the core. With a `syscall` the message is Node's (`ENOENT: no such file or
 * directory, open '/x'`), which just-bash's commands print as they would Node's own errors.
 */
export class FsError extends LayerLabError {
  declare readonly code: Errno;
  /** The same as `code`, under the name POSIX gives it. */
  readonly errno: Errno;
  readonly path: string;
  /** The operation that failed (`open`, `mkdir`, ...), when the caller names one. */
  readonly syscall: string | undefined;
  constructor(errno: Errno, path: string, detail?: string, syscall?: string) {
    const what = detail ?? describeErrno(errno, syscall === undefined ? "plain" : "node");
    super(errno, `${errno}: ${what}, ${syscall === undefined ? "" : `${syscall} `}'${path}'`);
    this.name = "FsError";
    this.errno = errno;
    this.path = path;
    this.syscall = syscall;
  }
}

/**
 * What an errno means, in words. `node` gives Node's wording (just-bash's commands print it), which
 * differs for EISDIR.
 */
export function describeErrno(errno: string, style: "plain" | "node" = "plain"): string {
  switch (errno) {
    case "ENOENT":
      return "no such file or directory";
    case "EEXIST":
      return "file already exists";
    case "ENOTDIR":
      return "not a directory";
    case "EISDIR":
      return style === "node" ? "illegal operation on a directory" : "is a directory";
    case "ENOTEMPTY":
      return "directory not empty";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "EINVAL":
      return "invalid argument";
    case "EACCES":
      return "permission denied";
    case "EIO":
      return "input/output error";
    case "ENOSPC":
      return "no space left on device (LayerLab limits what one step may write)";
    default:
      return "operation not permitted";
  }
}

/** What a StorageFullError knows: how much the operation needed or wrote, and what the platform allows. */
export interface StorageFullFacts {
  /** What was being stored, in words ("import of debian.tar", "build", "file image.tar"). */
  operation?: string;
  /** Bytes the operation needed in all, when known (an archive's size). */
  needed?: number;
  /** Bytes it had written when the platform refused more. */
  written?: number;
  /**
   * Set when it was not started: before writing anything, the browser's estimate of the room
   * left (quota minus usage) was smaller than `needed`.
   */
  upFront?: boolean;
  /** Bytes the platform allows (the browser's quota), when it says. */
  quota?: number;
  /** Bytes in use when it refused. */
  usage?: number;
  /** Whether the browser keeps the store until the person clears it (persistent storage). */
  persisted?: boolean;
  /** What uses the stored bytes: each image's own, largest first (shared blobs counted once). */
  using?: { name: string; bytes: number }[];
  /** Bytes of blobs several images share (counted once, in no image's own bytes). */
  sharedBytes?: number;
}

/**
 * The browser's storage quota (QuotaExceededError, or a transaction aborted for it) or the disk
 * (ENOSPC) refused a write. Everything the operation wrote has been removed by the time a caller
 * sees it; the numbers say how much was needed and allowed.
 */
export class StorageFullError extends LayerLabError {
  readonly facts: StorageFullFacts;
  constructor(message: string, facts: StorageFullFacts = {}, options?: { cause?: unknown }) {
    super("STORAGE_FULL", message, options);
    this.name = "StorageFullError";
    this.facts = facts;
  }
}

/** Raised when a caller's AbortSignal fires during a long operation. */
export class CancelledError extends LayerLabError {
  constructor(what = "operation") {
    super("CANCELLED", `${what} was cancelled`);
    this.name = "CancelledError";
  }
}

/** Throws CancelledError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
