/** Machine-readable error codes; each names a family of failures a caller may handle. */
export type ErrorCode =
  | "DOCKERFILE_SYNTAX"
  | "DOCKERFILE_SEMANTIC"
  | "ARCHIVE_INVALID"
  | "ARCHIVE_HOSTILE"
  | "ARCHIVE_TOO_LARGE"
  | "DIGEST_MISMATCH"
  | "NOT_FOUND"
  | "FS"
  | "BUILD"
  | "CANCELLED"
  | "STORE"
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

/** POSIX-like error codes of the overlay and container filesystems. */
export type Errno = "ENOENT" | "EEXIST" | "ENOTDIR" | "EISDIR" | "ENOTEMPTY" | "ELOOP" | "EINVAL" | "EPERM";

/** A filesystem operation that failed with an errno on a path. */
export class FsError extends LayerLabError {
  readonly errno: Errno;
  readonly path: string;
  constructor(errno: Errno, path: string, detail?: string) {
    super("FS", `${errno}: ${detail ?? describeErrno(errno)}, '${path}'`);
    this.name = "FsError";
    this.errno = errno;
    this.path = path;
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
    case "ENOSPC":
      return "no space left on device (LayerLab limits what one step may write)";
    default:
      return "operation not permitted";
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
