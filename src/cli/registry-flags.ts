/** What `layerlab pull` and `push` share: credentials, plain-HTTP hosts, per-layer lines and exit codes. */

import { shortDigest } from "../core/digest.ts";
import { formatBytes } from "../core/format.ts";
import { RegistryError } from "../core/registry/errors.ts";
import type { TransferProgress } from "../core/registry/pull.ts";
import { type ImageReference, parseReference } from "../core/registry/reference.ts";
import type { TransferRecord } from "../core/registry/transfer.ts";
import { type CliIo, parseArgs, UsageError } from "./command.ts";
import { cliCredentials } from "./docker-config.ts";
import { uploadFetch } from "./upload-fetch.ts";

/** Flags both commands take. */
export const REGISTRY_FLAGS = ["username", "insecure-registry"];
export const REGISTRY_BOOLS = ["json", "password-stdin"];

/**
 * Parses a registry command's arguments: its own flags plus the shared registry ones
 * (`--username`, `--password-stdin`, `--json`, repeated `--insecure-registry`).
 */
export function parseRegistryArgs(args: string[], own: string[], short?: Record<string, string>) {
  return parseArgs(args, {
    flags: [...own, ...REGISTRY_FLAGS.filter((f) => f !== "insecure-registry")],
    multi: ["insecure-registry"],
    bools: REGISTRY_BOOLS,
    ...(short ? { short } : {}),
  });
}

/** A reference argument as Docker parses it; a bad one is a usage error saying what is wrong. */
export function referenceArg(text: string): ImageReference {
  try {
    return parseReference(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Exit codes a script can tell apart. */
export const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3, notFound: 4, network: 5 } as const;
export const EXIT_HELP =
  "exit codes: 0 done, 1 failed, 2 bad usage, 3 not signed in or denied, 4 not found, 5 registry unreachable";

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** The client options from the flags: credentials (flags, then ~/.docker/config.json) and plain-HTTP hosts. */
export async function registryOptions(flags: Map<string, string[]>, bools: Set<string>, ref: ImageReference) {
  const username = flags.get("username")?.[0];
  if (bools.has("password-stdin") && !username) throw new UsageError("--password-stdin needs --username");
  if (username && !bools.has("password-stdin"))
    throw new UsageError("--username needs --password-stdin (passwords are never taken as arguments)");
  const given = username
    ? { registry: ref.domain, credentials: { username, password: await readStdin() } }
    : undefined;
  return {
    credentials: cliCredentials(given),
    insecureHosts: flags.get("insecure-registry") ?? [],
    // Uploads from the archive's file are sent from the file (see upload-fetch.ts).
    fetch: uploadFetch,
  };
}

/** Prints one line per layer as it finishes: exists, mounted, pushed 12.3 MB, pulled 12.3 MB. */
export function layerPrinter(io: CliIo, verb: "pushed" | "pulled"): (p: TransferProgress) => void {
  return (p) => {
    if (p.state !== "done" || p.role === "manifest") return;
    const what = p.role === "layer" ? `layer ${p.index! + 1}/${p.of ?? "?"}` : "config";
    const outcome =
      p.outcome === "skipped"
        ? "exists"
        : p.outcome === "mounted"
          ? "mounted"
          : `${verb} ${formatBytes(p.size)}`;
    io.err(`${what.padEnd(12)} ${shortDigest(p.digest)}  ${outcome}\n`);
  };
}

/** The one-line summary of a transfer. */
export function summarize(t: TransferRecord): string {
  const moved = t.kind === "pull" ? t.totals.received : t.totals.sent;
  const parts = [
    `${moved.count} ${t.kind === "pull" ? "received" : "sent"} (${formatBytes(moved.bytes)})`,
    `${t.totals.skipped.count} already there (${formatBytes(t.totals.skipped.bytes)})`,
  ];
  if (t.kind === "push")
    parts.push(`${t.totals.mounted.count} mounted (${formatBytes(t.totals.mounted.bytes)})`);
  const secs = Math.max(0.001, (t.finishedAt - t.startedAt) / 1000);
  return `${parts.join(", ")} in ${secs.toFixed(1)} s`;
}

/** Prints a registry failure and returns its exit code; other errors go to the CLI's handler. */
export function registryExit(err: unknown, io: CliIo, command: string): number {
  if (!(err instanceof RegistryError)) throw err;
  io.err(`layerlab ${command}: ${err.message}\n`);
  switch (err.kind) {
    case "unauthorized":
    case "denied":
      return EXIT.auth;
    case "name-unknown":
    case "manifest-unknown":
    case "blob-unknown":
      return EXIT.notFound;
    case "network":
      return EXIT.network;
    default:
      return EXIT.failed;
  }
}
