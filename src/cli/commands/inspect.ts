import { createReadStream, statSync } from "node:fs";
import { resolve } from "node:path";
import { shortDigest } from "../../core/digest.ts";
import { LayerLabError } from "../../core/errors.ts";
import { describeImage, type ImageSummary } from "../../core/image/describe.ts";
import { type ImportResult, importArchive } from "../../core/image/import.ts";
import { checkThresholds, type ThresholdCheck, type Thresholds } from "../../core/library/thresholds.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import type { Store } from "../../core/store/types.ts";
import { type CliIo, type Command, parseArgs, UsageError } from "../command.ts";

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

/** Reads an archive file into a fresh memory store, streaming it from disk. */
export async function importFile(
  path: string,
  io: CliIo,
  options: { platform?: string; maxLayerBytes?: number } = {},
): Promise<{ store: Store; result: ImportResult }> {
  const file = resolve(io.cwd, path);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new LayerLabError("NOT_FOUND", `cannot read '${path}': no such file`);
  }
  const store = openMemoryStore();
  const result = await importArchive(store, createReadStream(file, { highWaterMark: 1 << 20 }), {
    totalBytes: size,
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

function renderText(images: ImageSummary[]): string {
  const lines: string[] = [];
  for (const im of images) {
    lines.push(`image ${im.tags.length ? im.tags.join(", ") : "(untagged)"}`);
    lines.push(`  id        ${im.id}`);
    lines.push(`  platform  ${im.platform ?? "unknown"}`);
    if (im.created) lines.push(`  created   ${im.created}`);
    lines.push(`  size      ${kb(im.size)} in ${im.layers.length} layers`);
    if (im.efficiency) {
      const e = im.efficiency;
      lines.push(
        `  efficiency ${(e.score * 100).toFixed(1)}%: ${kb(e.wastedBytes)} of ${kb(e.totalBytes)} duplicated or deleted in later layers`,
      );
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
    im.layers.forEach((l, i) => {
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
    });
    lines.push("");
  }
  return `${lines.join("\n")}`;
}

function ratio(text: string, name: string, scale: number): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || v > scale)
    throw new UsageError(`--${name} takes a number from 0 to ${scale}`);
  return v / scale;
}

/** The CI limits given on the command line. */
function thresholdFlags(flags: Map<string, string[]>): Thresholds {
  const t: Thresholds = {};
  const get = (n: string) => flags.get(n)?.[0];
  if (get("lowest-efficiency") !== undefined)
    t.lowestEfficiency = ratio(get("lowest-efficiency")!, "lowest-efficiency", 1);
  if (get("highest-wasted-bytes") !== undefined)
    t.highestWastedBytes = parseSize(get("highest-wasted-bytes")!);
  if (get("highest-wasted-percent") !== undefined)
    t.highestWastedShare = ratio(get("highest-wasted-percent")!, "highest-wasted-percent", 100);
  if (get("highest-image-size") !== undefined) t.highestImageBytes = parseSize(get("highest-image-size")!);
  return t;
}

export const inspect: Command = {
  name: "inspect",
  summary: "show an image archive's images, platform, config, layers and their files",
  usage:
    "layerlab inspect ARCHIVE [--json] [--platform OS/ARCH[/VARIANT]] [--max-layer-size SIZE]\n" +
    "       [--lowest-efficiency 0..1] [--highest-wasted-bytes SIZE] [--highest-wasted-percent 0..100]\n" +
    "       [--highest-image-size SIZE]   (CI mode: exit 1 when a limit fails, like dive --ci)",
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, bools, positional } = parseArgs(args, {
      bools: ["json"],
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
    const limits = thresholdFlags(flags);
    const { store, result } = await importFile(positional[0]!, io, importFlags(flags));
    const images: ImageSummary[] = [];
    for (const im of result.images) {
      images.push(await describeImage(store, im.record, { files: true, analysis: true }));
    }
    const checks: ThresholdCheck[] = [];
    for (const im of images) {
      if (!im.efficiency) continue;
      checks.push(
        ...checkThresholds(
          { name: im.tags[0] ?? shortDigest(im.id), size: im.size, efficiency: im.efficiency },
          limits,
        ),
      );
    }
    if (bools.has("json")) {
      io.out(`${JSON.stringify(checks.length ? { images, checks } : { images }, null, 2)}\n`);
    } else {
      io.out(renderText(images));
      io.out(
        `read ${kb(result.bytesRead)}; stored ${result.blobsAdded} blobs (${kb(result.bytesAdded)}), ${kb(result.bytesShared)} deduplicated\n`,
      );
      for (const c of checks) io.out(`${c.message}\n`);
    }
    return checks.some((c) => !c.pass) ? 1 : 0;
  },
};
