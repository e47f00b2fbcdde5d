/**
 * Image references as Docker reads them (its distribution/reference grammar): a short name such as
 * `ubuntu:20.04` means `docker.io/library/ubuntu:20.04`, reached at `registry-1.docker.io`; a first
 * component with a dot, a colon or named `localhost` is a registry host.
 */
import { type Digest, isDigest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";

/** A parsed reference: where the image lives and which of its versions is meant. */
export interface ImageReference {
  /** The registry as people write it (`docker.io`, `localhost:5000`, `ghcr.io`). */
  domain: string;
  /** The repository path inside the registry (`library/ubuntu`). */
  repository: string;
  /** The tag; `latest` when neither a tag nor a digest was given. */
  tag?: string;
  /** The manifest digest, when given. */
  digest?: Digest;
}

/** The default registry of short names. */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_HOST = "registry-1.docker.io";

const ALNUM = "[a-z0-9]+";
// Docker's grammar writes the dash separator `[-]*`; with an empty separator allowed, a
// backtracking engine (JavaScript's, not Go's) takes exponential time on a long name that fails
// near its end. `[-]+` accepts the same names: an empty separator only joins two alphanumeric runs.
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`,
);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** A reference that does not follow Docker's grammar; the message says which part is wrong. */
export class InvalidReferenceError extends LayerLabError {
  readonly reference: string;
  constructor(reference: string, problem: string) {
    super("USAGE", `invalid reference '${reference}': ${problem}`);
    this.name = "InvalidReferenceError";
    this.reference = reference;
  }
}

/**
 * Parses a reference as `docker pull` does: `ubuntu` → docker.io/library/ubuntu:latest;
 * `host:port/name[:tag][@sha256:…]`; `index.docker.io` means docker.io. Throws InvalidReferenceError
 * (saying what is wrong) for anything Docker would refuse.
 */
export function parseReference(text: string): ImageReference {
  const s = text.trim();
  if (s === "") throw new InvalidReferenceError(text, "it is empty");
  if (HEX64_RE.test(s))
    throw new InvalidReferenceError(text, "a 64-hex-digit string is an image ID, not a repository name");
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(d)) throw new InvalidReferenceError(text, `'${d}' is not a digest (algorithm:hex)`);
    if (!isDigest(d)) throw new InvalidReferenceError(text, `only sha256 digests are supported, not '${d}'`);
    digest = d;
  }
  // A tag follows the last colon after the last slash (a colon before it is a port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag))
      throw new InvalidReferenceError(
        text,
        `'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; up to 128; not starting with '.' or '-')`,
      );
  }
  if (rest === "") throw new InvalidReferenceError(text, "it has no repository name");
  const { domain, repository } = splitDomain(rest, text);
  if (!DOMAIN_RE.test(domain))
    throw new InvalidReferenceError(text, `'${domain}' is not a valid registry host`);
  if (repository !== repository.toLowerCase())
    throw new InvalidReferenceError(text, "repository names must be lowercase");
  if (!PATH_RE.test(repository))
    throw new InvalidReferenceError(
      text,
      `'${repository}' is not a valid repository name (lowercase letters, digits and single separators . _ __ - between them, components split by /)`,
    );
  if (`${domain}/${repository}`.length > NAME_MAX)
    throw new InvalidReferenceError(text, `the name is longer than ${NAME_MAX} characters`);
  return {
    domain,
    repository,
    ...(tag !== undefined ? { tag } : digest ? {} : { tag: "latest" }),
    ...(digest ? { digest } : {}),
  };
}

function splitDomain(name: string, text: string): { domain: string; repository: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  let domain: string;
  let repository: string;
  // Docker: the first component is a host only if it has a dot or colon, is localhost, or has capitals.
  if (slash < 0 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DOCKER_HUB;
    repository = name;
  } else {
    domain = first;
    repository = name.slice(slash + 1);
  }
  if (repository === "")
    throw new InvalidReferenceError(text, "it has no repository name after the registry");
  if (domain === "index.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  return { domain, repository };
}

/** The full form: `docker.io/library/ubuntu:20.04`, `localhost:5000/demo@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The short form people type and `docker images` prints: `ubuntu:20.04`, `localhost:5000/demo:1`. */
export function familiarReference(ref: ImageReference): string {
  let name = `${ref.domain}/${ref.repository}`;
  if (ref.domain === DOCKER_HUB) {
    const short = ref.repository.slice("library/".length);
    name = ref.repository.startsWith("library/") && !short.includes("/") ? short : ref.repository;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The host (and port) the registry API answers on: docker.io is served by registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === DOCKER_HUB ? DOCKER_HUB_HOST : domain;
}

/** Whether a registry host is this machine (reached over plain HTTP, as Docker does). */
export function isLoopbackHost(host: string): boolean {
  const h = hostName(host).toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1";
}

/** The host without its port (`[::1]:5000` → `::1`). */
export function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}
