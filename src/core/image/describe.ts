import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { type ChangedAttribute, type ChangeKind, type DiffAggregate, diffLayer } from "../fs/diff.ts";
import { computeEfficiency, type EfficiencyReport } from "../fs/efficiency.ts";
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
  /** Bytes duplicated across layers or deleted later (only when analysis was asked for). */
  efficiency?: Omit<EfficiencyReport, "inefficiencies"> & {
    inefficiencies: { path: string; wastedBytes: number; layers: number[] }[];
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

/**
 * Describes a stored image: tags, platform, config, and each layer with its blob digest, diffId,
 * sizes, media type and the history command that made it; with `files`, each layer's entries.
 */
export async function describeImage(
  store: Store,
  image: ImageRecord,
  options: { files?: boolean; analysis?: boolean } = {},
): Promise<ImageSummary> {
  const config = await json<ImageConfig>(store, image.config, "config");
  const manifest = image.manifest ? await json<ImageManifest>(store, image.manifest, "manifest") : undefined;
  const history = historyPerLayer(config);
  const layers: LayerSummary[] = [];
  const changesets: Changeset[] = [];
  for (let i = 0; i < image.layers.length; i++) {
    const rec = await store.meta.get("layers", image.layers[i]!);
    if (!rec) throw new LayerLabError("NOT_FOUND", `layer ${image.layers[i]} is not in the store`);
    const desc = manifest?.layers[i];
    const layer: LayerSummary = {
      digest: desc?.digest ?? rec.blob,
      diffId: rec.id,
      size: desc?.size ?? rec.blobSize,
      uncompressedSize: rec.size,
      mediaType: desc?.mediaType ?? rec.mediaType,
      createdBy: history[i]?.created_by,
    };
    if (options.files || options.analysis) {
      const index = await readLayerIndex(store, rec);
      changesets.push(index);
    }
    if (options.files) {
      const index = changesets.at(-1)!;
      layer.files = index.entries.map((e) => ({
        path: e.path,
        type: e.type,
        mode: e.mode.toString(8).padStart(4, "0"),
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.digest !== undefined ? { digest: e.digest } : {}),
      }));
      layer.whiteouts = index.whiteouts;
      const warnings = (index as { warnings?: LayerWarning[] }).warnings ?? [];
      if (warnings.length) layer.warnings = warnings;
    }
    layers.push(layer);
  }
  let efficiency: ImageSummary["efficiency"];
  if (options.analysis) {
    const stack = stackLayers(changesets);
    layers.forEach((layer, n) => {
      const diff = diffLayer(stack, n);
      layer.changeSummary = diff.tree.aggregate;
      layer.changes = diff.changes.map((r) => ({
        path: r.path,
        kind: r.kind as LayerChange["kind"],
        type: r.type,
        size: r.size,
        ...(r.changed ? { changed: r.changed } : {}),
      }));
    });
    const e = computeEfficiency(stack);
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
    };
  }
  return {
    id: image.id,
    tags: image.names,
    platform: image.platform,
    created: config.created,
    config: pick(config.config),
    layers,
    size: layers.reduce((n, l) => n + l.size, 0),
    ...(efficiency ? { efficiency } : {}),
  };
}
