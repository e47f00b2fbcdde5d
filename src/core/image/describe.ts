import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { type ChangedAttribute, type ChangeKind, type DiffAggregate, diffLayer } from "../fs/diff.ts";
import { computeEfficiency, type DiveEfficiency, type EfficiencyReport } from "../fs/efficiency.ts";
import { stackLayers } from "../fs/overlay.ts";
import type { Changeset, FileEntry, Whiteout } from "../fs/types.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { decodeLayerIndex, type LayerWarning } from "./layer-index.ts";
import { type ContainerConfig, historyPerLayer, type ImageConfig, type ImageManifest } from "./oci.ts";

/** One layer as `layerlab inspect` shows it. */
export interface LayerSummary {
  /** Digest of the blob as stored and transferred (compressed when it came compressed). */
  digest: Digest;
  diffId: Digest;
  /** Bytes of the blob as it came. */
  size: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  mediaType: string;
  /** The history command that made the layer (empty_layer history entries skipped). */
  createdBy: string | undefined;
  /** Entries of the layer, in tar order (only when files were asked for). */
  files?: FileSummary[];
  whiteouts?: Whiteout[];
  warnings?: LayerWarning[];
  /** Every path the layer adds, modifies or removes against the layers below it (with analysis). */
  changes?: LayerChange[];
  /** Counts and bytes of those changes, directories aggregated (with analysis). */
  changeSummary?: DiffAggregate;
}

/** One path a layer really changes (a parent directory carried along unchanged is not one). */
export interface LayerChange {
  /** Clean relative path, no leading slash. */
  path: string;
  kind: Exclude<ChangeKind, "unchanged">;
  type: FileEntry["type"];
  /** Bytes of the entry now; for a removal, the bytes it hides. */
  size: number;
  changed?: ChangedAttribute[];
}

/** One file of a layer, flattened for printing. */
export interface FileSummary {
  path: string;
  type: FileEntry["type"];
  mode: string;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  /** sha256 of a regular file's content, when computed at import. */
  digest?: Digest;
}

/** The config fields people look at. */
export type ConfigSummary = Pick<
  ContainerConfig,
  "Env" | "Cmd" | "Entrypoint" | "WorkingDir" | "User" | "Labels" | "ExposedPorts" | "Volumes"
>;

/** One image as `layerlab inspect --json` prints it. */
export interface ImageSummary {
  id: Digest;
  tags: string[];
  platform: string | undefined;
  created: string | undefined;
  config: ConfigSummary;
  layers: LayerSummary[];
  /** Bytes of all layer blobs. */
  size: number;
  /**
   * Bytes duplicated across layers or deleted later (only when analysis was asked for): LayerLab's
   * figures, and under `dive` what dive reports for the same image (its CI thresholds use those).
   */
  efficiency?: Omit<EfficiencyReport, "inefficiencies" | "dive"> & {
    inefficiencies: { path: string; wastedBytes: number; layers: number[] }[];
    dive: DiveEfficiency;
  };
}

function pick(c: ContainerConfig | undefined): ConfigSummary {
  const out: ConfigSummary = {};
  if (!c) return out;
  for (const k of [
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
    "Volumes",
  ] as const) {
    const v = c[k];
    if (v !== undefined && v !== null && v !== "") (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

async function json<T>(store: Store, digest: Digest, what: string): Promise<T> {
  const bytes = await store.blobs.get(digest);
  if (!bytes) throw new LayerLabError("NOT_FOUND", `${what} ${digest} is not in the store`);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/** Reads a layer's entries and whiteouts from its index blob. */
export async function readLayerIndex(store: Store, layer: LayerRecord) {
  if (!layer.index) throw new LayerLabError("NOT_FOUND", `layer ${layer.id} has no entry index`);
  const bytes = await store.blobs.get(layer.index);
  if (!bytes) throw new LayerLabError("NOT_FOUND", `entry index ${layer.index} is not in the store`);
  return decodeLayerIndex(bytes, layer.id);
}

/** The parts of an image's description that are not per layer. */
export type ImageHead = Omit<ImageSummary, "layers">;

/**
 * An image being described one layer at a time: `head` is known up front (with analysis, the
 * efficiency over all layers), and `layer(n)` describes layer n on demand. A caller that writes
 * each layer out and drops it (`layerlab inspect --json`) never holds every layer's file list and
 * diff at once; the changesets the overlay needs are the only per-layer data kept.
 */
export interface ImageDescription {
  head: ImageHead;
  layerCount: number;
  layer(n: number): Promise<LayerSummary>;
}

/**
 * Opens a stored image for description: tags, platform, config, and each layer with its blob
 * digest, diffId, sizes, media type and the history command that made it; with `files`, each
 * layer's entries; with `analysis`, each layer's changes against the layers below and the image's
 * efficiency (LayerLab's, with dive's figures beside it).
 */
export async function openImageDescription(
  store: Store,
  image: ImageRecord,
  options: { files?: boolean; analysis?: boolean } = {},
): Promise<ImageDescription> {
  const config = await json<ImageConfig>(store, image.config, "config");
  const manifest = image.manifest ? await json<ImageManifest>(store, image.manifest, "manifest") : undefined;
  const history = historyPerLayer(config);
  const records: LayerRecord[] = [];
  for (const id of image.layers) {
    const rec = await store.meta.get("layers", id);
    if (!rec) throw new LayerLabError("NOT_FOUND", `layer ${id} is not in the store`);
    records.push(rec);
  }
  const changesets: Changeset[] = [];
  if (options.files || options.analysis) {
    for (const rec of records) changesets.push(await readLayerIndex(store, rec));
  }
  const stack = options.analysis ? stackLayers(changesets) : undefined;
  let efficiency: ImageSummary["efficiency"];
  if (stack) {
    const e = computeEfficiency(stack, { dive: true });
    efficiency = {
      score: e.score,
      wastedBytes: e.wastedBytes,
      totalBytes: e.totalBytes,
      finalBytes: e.finalBytes,
      inefficiencies: e.inefficiencies.map((i) => ({
        path: i.path,
        wastedBytes: i.wastedBytes,
        layers: i.occurrences.map((o) => o.layer),
      })),
      dive: e.dive!,
    };
  }
  const size = records.reduce((n, rec, i) => n + (manifest?.layers[i]?.size ?? rec.blobSize), 0);
  const layer = async (i: number): Promise<LayerSummary> => {
    const rec = records[i];
    if (!rec) throw new RangeError(`no layer ${i}: the image has ${records.length}`);
    const desc = manifest?.layers[i];
    const out: LayerSummary = {
      digest: desc?.digest ?? rec.blob,
      diffId: rec.id,
      size: desc?.size ?? rec.blobSize,
      uncompressedSize: rec.size,
      mediaType: desc?.mediaType ?? rec.mediaType,
      createdBy: history[i]?.created_by,
    };
    if (options.files) {
      const index = changesets[i]!;
      out.files = index.entries.map((e) => ({
        path: e.path,
        type: e.type,
        mode: e.mode.toString(8).padStart(4, "0"),
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.digest !== undefined ? { digest: e.digest } : {}),
      }));
      out.whiteouts = index.whiteouts;
      const warnings = (index as { warnings?: LayerWarning[] }).warnings ?? [];
      if (warnings.length) out.warnings = warnings;
    }
    if (stack) {
      const diff = diffLayer(stack, i);
      out.changeSummary = diff.tree.aggregate;
      out.changes = diff.changes.map((r) => ({
        path: r.path,
        kind: r.kind as LayerChange["kind"],
        type: r.type,
        size: r.size,
        ...(r.changed ? { changed: r.changed } : {}),
      }));
    }
    return out;
  };
  return {
    head: {
      id: image.id,
      tags: image.names,
      platform: image.platform,
      created: config.created,
      config: pick(config.config),
      size,
      ...(efficiency ? { efficiency } : {}),
    },
    layerCount: records.length,
    layer,
  };
}

/** Describes a stored image whole (see openImageDescription): every layer at once. */
export async function describeImage(
  store: Store,
  image: ImageRecord,
  options: { files?: boolean; analysis?: boolean } = {},
): Promise<ImageSummary> {
  const d = await openImageDescription(store, image, options);
  const layers: LayerSummary[] = [];
  for (let i = 0; i < d.layerCount; i++) layers.push(await d.layer(i));
  const { size, efficiency, ...rest } = d.head;
  return { ...rest, layers, size, ...(efficiency ? { efficiency } : {}) };
}
