/**
 * The ways a platform refuses to store more, turned into one typed error: browsers raise a
 * DOMException named QuotaExceededError (or abort the transaction with it as its error), Node's
 * file system fails with ENOSPC or EDQUOT.
 */
import { StorageFullError, type StorageFullFacts } from "../errors.ts";
import { formatBytes as bytes } from "../format.ts";

const QUOTA_NAMES = new Set(["QuotaExceededError", "NS_ERROR_DOM_QUOTA_REACHED"]);
const DISK_FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** Whether `err` (or an error it was caused by) is the platform refusing to store more. */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageFullError) return true;
    const { name, code, message } = e as { name?: string; code?: unknown; message?: string };
    if (name && QUOTA_NAMES.has(name)) return true;
    if (typeof code === "string" && DISK_FULL_CODES.has(code)) return true;
    // Safari and older engines abort with a generic error whose message names the quota.
    if ((name === "UnknownError" || name === "AbortError") && /quota/i.test(message ?? "")) return true;
  }
  return false;
}

/**
 * What happened, in words a person can act on: what was refused after how much, what the
 * browser allows and what uses it, and what to do.
 */
export function describeStorageFull(facts: StorageFullFacts): string {
  const what = facts.operation ?? "storing";
  let text: string;
  if (facts.upFront && facts.needed !== undefined && facts.quota !== undefined && facts.usage !== undefined) {
    const left = Math.max(0, facts.quota - facts.usage);
    text = `Not enough storage: ${what} needs about ${bytes(facts.needed)}, but the browser has only ${bytes(left)} left for this site (it allows ${bytes(facts.quota)}, ${bytes(facts.usage)} of it in use), so it was not started. Nothing was written.`;
  } else {
    text = `Not enough storage: ${what} was refused`;
    if (facts.written !== undefined && facts.written > 0) text += ` after writing ${bytes(facts.written)}`;
    if (facts.needed !== undefined) text += ` (it needs about ${bytes(facts.needed)})`;
    text += ". Nothing of it was kept.";
  }
  if (facts.quota !== undefined && !facts.upFront) {
    const used = facts.usage !== undefined ? `, ${bytes(facts.usage)} of it in use` : "";
    const wanted = (facts.usage ?? 0) + (facts.needed ?? facts.written ?? 0);
    // Browsers report a quota they do not always enforce (private windows, low disk, policies).
    text +=
      facts.usage !== undefined && wanted < facts.quota
        ? ` The browser refused it with ${bytes(facts.usage)} in use, though it reports ${bytes(facts.quota)} allowed: the limit it enforces is lower (a private window, little free disk space or a policy).`
        : ` The browser allows this site ${bytes(facts.quota)}${used}.`;
  }
  if (facts.using?.length) {
    const rows = facts.using.map((u) => `${u.name} ${bytes(u.bytes)}`);
    if (facts.sharedBytes) rows.push(`layers shared between images ${bytes(facts.sharedBytes)}`);
    text += ` Stored: ${rows.join(", ")}.`;
  }
  text += " To make room, delete images you no longer need or clear the store";
  text += facts.persisted ? "." : ", or let the browser keep LayerLab's data (persistent storage).";
  return text;
}

/**
 * Returns `err` as a StorageFullError when the platform refused to store more (the facts it
 * already carried, updated by those given: the caller knows the whole operation); any other
 * error comes back as it was.
 */
export function asStorageFull(err: unknown, facts: StorageFullFacts = {}): unknown {
  if (!isStorageFull(err)) return err;
  const known = err instanceof StorageFullError ? err.facts : {};
  const merged: StorageFullFacts = { ...known };
  for (const [k, v] of Object.entries(facts) as [keyof StorageFullFacts, never][]) {
    if (v !== undefined) merged[k] = v;
  }
  const cause = err instanceof StorageFullError ? (err.cause ?? err) : err;
  return new StorageFullError(describeStorageFull(merged), merged, { cause });
}
