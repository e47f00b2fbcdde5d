/**
 * Docker's build cache: a step is reused when its parent chain, its instruction and (for COPY and
 * ADD) the checksums of its source files are what they were. Records also remember what a step's
 * sources were, so a rebuilt step can say why it missed.
 */
import type { Digest } from "../digest.ts";
import type { Changeset } from "../fs/types.ts";
import type { HistoryEntry } from "../image/oci.ts";
import type { TreeSnapshot } from "./layer-fs.ts";
import type { BuildImageConfig } from "./types.ts";

/** The stage state a step leaves behind, apart from the filesystem. */
export interface StageMeta {
  config: BuildImageConfig;
  env: [string, string][];
  args: [string, string | undefined][];
  cmdSet: boolean;
}

/** One cached step. */
export interface CacheRecord {
  key: string;
  parent: string;
  /** The instruction as dispatched (expanded), without source checksums. */
  instruction: string;
  /** Per-file checksums of COPY/ADD sources, by path. */
  sources?: Map<string, string>;
  tree: TreeSnapshot;
  meta: StageMeta;
  history: HistoryEntry;
  layer?: { diffId: Digest; size: number; changeset: Changeset };
  output?: string;
}

/** Why a step was not found in the cache. */
export function missReason(
  cache: BuildCache,
  parent: string,
  instruction: string,
  sources?: Map<string, string>,
): string {
  const siblings = cache.children(parent);
  if (siblings.length === 0) return "not in the cache (nothing was built on this parent before)";
  const same = siblings.filter((r) => r.instruction === instruction);
  if (same.length === 0) return "the instruction changed (or is new) since the last build";
  if (sources) {
    const prev = same[same.length - 1]?.sources ?? new Map<string, string>();
    const changed: string[] = [];
    for (const [p, sum] of sources) if (prev.get(p) !== sum) changed.push(p);
    for (const p of prev.keys()) if (!sources.has(p)) changed.push(p);
    if (changed.length > 0) {
      const shown = changed.slice(0, 5).join(", ");
      return `source files changed: ${shown}${changed.length > 5 ? ` and ${changed.length - 5} more` : ""}`;
    }
  }
  return "not in the cache";
}

/** The build cache; keep one per session and pass it to every build. */
export class BuildCache {
  private readonly records = new Map<string, CacheRecord>();
  private readonly byParent = new Map<string, CacheRecord[]>();
  /** Contents of RUN --mount=type=cache directories, by mount id; they outlive builds, never in layers. */
  readonly mounts = new Map<string, Changeset>();

  constructor(private readonly maxRecords = 2000) {}

  get(key: string): CacheRecord | undefined {
    return this.records.get(key);
  }

  children(parent: string): CacheRecord[] {
    return this.byParent.get(parent) ?? [];
  }

  put(record: CacheRecord): void {
    if (this.records.has(record.key)) return;
    this.records.set(record.key, record);
    const list = this.byParent.get(record.parent) ?? [];
    list.push(record);
    this.byParent.set(record.parent, list);
    while (this.records.size > this.maxRecords) {
      const oldest = this.records.keys().next().value as string;
      const r = this.records.get(oldest) as CacheRecord;
      this.records.delete(oldest);
      const sibs = this.byParent.get(r.parent)?.filter((x) => x !== r) ?? [];
      if (sibs.length) this.byParent.set(r.parent, sibs);
      else this.byParent.delete(r.parent);
    }
  }

  /** The records, oldest first: what to save to keep the cache across sessions. */
  entries(): CacheRecord[] {
    return [...this.records.values()];
  }

  /** Puts saved records back (oldest first), as a reload of the page would. */
  restore(records: Iterable<CacheRecord>): void {
    for (const r of records) this.put(r);
  }

  /** Number of cached steps. */
  get size(): number {
    return this.records.size;
  }

  clear(): void {
    this.records.clear();
    this.byParent.clear();
    this.mounts.clear();
  }
}
