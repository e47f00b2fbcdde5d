import { shortDigest } from "../../core/digest.ts";
import {
  type ImageDescription,
  type ImageHead,
  type LayerSummary,
  openImageDescription,
} from "../../core/image/describe.ts";
import { type ImportResult, importArchive } from "../../core/image/import.ts";
import { checkThresholds, type ThresholdCheck, type Thresholds } from "../../core/library/thresholds.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import type { Store } from "../../core/store/types.ts";
import { openArchiveFile } from "../archive-file.ts";
import { type CliIo, type Command, parseArgs, UsageError } from "../command.ts";
import { openIndexOnlyStore } from "../index-only-store.ts";
import { JsonWriter, lazyArray } from "../json-writer.ts";

/** Parses a byte size like 512M, 2G, 100k or 4096. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a size (try 512M or 2G)`);
  const unit = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as "" | "k"]!;
  return Math.floor(Number(m[1]) * unit);
}

/** The options inspect and convert share: platform choice and the decompression-bomb limit. */
export function importFlags(flags: Map<string, string[]>): { platform?: string; maxLayerBytes?: number } {
  const platform = flags.get("platform")?.[0];
  const max = flags.get("max-layer-size")?.[0];
  return { ...(platform ? { platform } : {}), ...(max ? { maxLayerBytes: parseSize(max) } : {}) };
}

/**
 * Reads an archive file (a tar, or a gzip- or zstd-compressed one) into a fresh memory store,
 * streaming it from disk. With `indexOnly`, the store keeps configs, manifests and entry indexes
 * but not layer contents (enough for inspect).
 */
export async function importFile(
  path: string,
  io: CliIo,
  options: { platform?: string; maxLayerBytes?: number; indexOnly?: boolean } = {},
): Promise<{ store: Store; result: ImportResult }> {
  const archive = await openArchiveFile(path, io.cwd);
  const store = options.indexOnly ? openIndexOnlyStore() : openMemoryStore();
  const result = await importArchive(store, archive.source, {
    ...(archive.tarBytes !== undefined ? { totalBytes: archive.tarBytes } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.maxLayerBytes ? { limits: { maxLayerBytes: options.maxLayerBytes } } : {}),
  });
  return { store, result };
}

function kb(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The text lines of an image before its layers. */
function renderHead(im: ImageHead, layerCount: number): string {
  const lines: string[] = [];
  lines.push(`image ${im.tags.length ? im.tags.join(", ") : "(untagged)"}`);
  lines.push(`  id        ${im.id}`);
  lines.push(`  platform  ${im.platform ?? "unknown"}`);
  if (im.created) lines.push(`  created   ${im.created}`);
  lines.push(`  size      ${kb(im.size)} in ${layerCount} layers`);
  if (im.efficiency) {
    const e = im.efficiency;
    lines.push(
      `  efficiency ${pct(e.score)}: ${kb(e.wastedBytes)} of ${kb(e.totalBytes)} duplicated or deleted in later layers`,
    );
    lines.push(`  dive's efficiency ${pct(e.dive.score)}, ${kb(e.dive.wastedBytes)} wasted by dive's count`);
  }
  lines.push("  config");
  for (const [k, v] of Object.entries(im.config)) {
    const text = Array.isArray(v)
      ? JSON.stringify(v)
      : typeof v === "object"
        ? Object.entries(v as Record<string, unknown>)
            .map(([a, b]) => (typeof b === "string" ? `${a}=${b}` : a))
            .join(", ")
        : String(v);
    lines.push(`    ${k.padEnd(14)}${text}`);
  }
  lines.push("  layers");
  return `${lines.join("\n")}\n`;
}

/** The text lines of one layer (`i` counts from 0). */
function renderLayer(l: LayerSummary, i: number): string {
  const lines: string[] = [];
  lines.push(
    `    ${String(i + 1).padStart(2)}  ${shortDigest(l.digest)}  diffId ${shortDigest(l.diffId)}  ${kb(l.size).padStart(10)}  ${l.mediaType}`,
  );
  if (l.createdBy) lines.push(`        created by: ${l.createdBy}`);
  if (l.changeSummary) {
    const a = l.changeSummary;
    lines.push(
      `        changes: ${a.added} added (${kb(a.addedBytes)}), ${a.modified} modified (${kb(a.modifiedBytes)}), ${a.removed} removed (${kb(a.removedBytes)})`,
    );
  }
  for (const f of l.files ?? []) {
    const link = f.linkname !== undefined ? ` -> ${f.linkname}` : "";
    lines.push(
      `        ${f.type.padEnd(8)} ${f.mode} ${`${f.uid}:${f.gid}`.padEnd(9)} ${String(f.size).padStart(9)}  ${f.path}${link}`,
    );
  }
  for (const w of l.whiteouts ?? []) {
    lines.push(
      `        ${"delete".padEnd(8)} ${w.opaque ? `${w.path || "/"} (opaque: hides what lower layers had inside)` : w.path}`,
    );
  }
  for (const w of l.warnings ?? []) lines.push(`        warning: ${w.entry}: ${w.message}`);
  return `${lines.join("\n")}\n`;
}

/** The CI checks of one described image (none when no limit is set). */
function checksOf(head: ImageHead, limits: Thresholds): ThresholdCheck[] {
  if (!head.efficiency) return [];
  return checkThresholds(
    {
      name: head.tags[0] ?? shortDigest(head.id),
      size: head.size,
      efficiency: head.efficiency,
      dive: head.efficiency.dive,
    },
    limits,
  );
}

function ratio(text: string, name: string, scale: number): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || v > scale)
    throw new UsageError(`--${name} takes a number from 0 to ${scale}`);
  return v / scale;
}

/** The CI limits given on the command line. */
function thresholdFlags(flags: Map<string, string[]>, dive: boolean): Thresholds {
  const t: Thresholds = {};
  const get = (n: string) => flags.get(n)?.[0];
  if (get("lowest-efficiency") !== undefined)
    t.lowestEfficiency = ratio(get("lowest-efficiency")!, "lowest-efficiency", 1);
  if (get("highest-wasted-bytes") !== undefined)
    t.highestWastedBytes = parseSize(get("highest-wasted-bytes")!);
  if (get("highest-wasted-percent") !== undefined)
    t.highestWastedShare = ratio(get("highest-wasted-percent")!, "highest-wasted-percent", 100);
  if (get("highest-image-size") !== undefined) t.highestImageBytes = parseSize(get("highest-image-size")!);
  if (dive) t.dive = true;
  return t;
}

export const inspect: Command = {
  name: "inspect",
  summary: "show an image archive's images, platform, config, layers and their files",
  usage:
    "layerlab inspect ARCHIVE [--json] [--platform OS/ARCH[/VARIANT]] [--max-layer-size SIZE]\n" +
    "       [--lowest-efficiency 0..1] [--highest-wasted-bytes SIZE] [--highest-wasted-percent 0..100]\n" +
    "       [--highest-image-size SIZE] [--dive]   (CI mode: exit 1 when a limit fails, like dive --ci;\n" +
    "       --dive checks --lowest-efficiency and --highest-wasted-bytes against dive's figures)\n" +
    "       (ARCHIVE: a tar as docker save, skopeo or umoci write it, or that tar gzip- or zstd-compressed)",
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, bools, positional } = parseArgs(args, {
      bools: ["json", "dive"],
      flags: [
        "platform",
        "max-layer-size",
        "lowest-efficiency",
        "highest-wasted-bytes",
        "highest-wasted-percent",
        "highest-image-size",
      ],
    });
    if (positional.length !== 1) throw new UsageError("give exactly one ARCHIVE");
    const limits = thresholdFlags(flags, bools.has("dive"));
    const { store, result } = await importFile(positional[0]!, io, {
      ...importFlags(flags),
      indexOnly: true,
    });
    const options = { files: true, analysis: true };
    const checks: ThresholdCheck[] = [];
    // Each image, and each of its layers, is written out as soon as it is described and then
    // dropped: the output is never held whole, nor every layer's files and changes at once.
    if (bools.has("json")) {
      const json = new JsonWriter((text) => io.out(text));
      const images = lazyArray(result.images.length, async (n) => {
        const d = await openImageDescription(store, result.images[n]!.record, options);
        checks.push(...checksOf(d.head, limits));
        return imageJson(d);
      });
      await json.write({ images, checks: lazyChecks(checks) });
      json.end("\n");
    } else {
      for (const im of result.images) {
        const d = await openImageDescription(store, im.record, options);
        checks.push(...checksOf(d.head, limits));
        io.out(renderHead(d.head, d.layerCount));
        for (let i = 0; i < d.layerCount; i++) io.out(renderLayer(await d.layer(i), i));
        io.out("\n");
      }
      io.out(
        `read ${kb(result.bytesRead)}; stored ${result.blobsAdded} blobs (${kb(result.bytesAdded)}), ${kb(result.bytesShared)} deduplicated\n`,
      );
      for (const c of checks) io.out(`${c.message}\n`);
    }
    return checks.some((c) => !c.pass) ? 1 : 0;
  },
};

/** An image as `inspect --json` prints it: the head's keys in ImageSummary's order, layers streamed. */
function imageJson(d: ImageDescription): Record<string, unknown> {
  const { size, efficiency, ...rest } = d.head;
  return { ...rest, layers: lazyArray(d.layerCount, (i) => d.layer(i)), size, efficiency };
}

/** The checks, known only once every image was described; left out of the JSON when there are none. */
function lazyChecks(checks: ThresholdCheck[]) {
  return lazyArray(
    () => checks.length,
    async (i) => checks[i],
    { omitWhenEmpty: true },
  );
}
