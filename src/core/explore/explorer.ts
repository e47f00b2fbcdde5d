import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { diffLayer } from "../fs/diff.ts";
import { computeEfficiency, type EfficiencyReport } from "../fs/efficiency.ts";
import { type LayerStack, type MergedNode, stackLayers } from "../fs/overlay.ts";
import type { ContentRef, FileEntry } from "../fs/types.ts";
import { decodeLayerIndex } from "../image/layer-index.ts";
import type { ImageConfig } from "../image/oci.ts";
import type { ImageRecord, LayerRecord, Store } from "../store/types.ts";
import { buildTreeSnapshot, type TreeInput, type TreeSnapshot } from "../view/tree.ts";

/** One row of `docker history`, bottom first: a layer, or a metadata-only entry with no layer. */
export interface HistoryRow {
  createdBy: string;
  created?: string;
  comment?: string;
  emptyLayer: boolean;
  /** Index of the layer this entry made (absent for empty-layer entries). */
  layer?: number;
  diffId?: Digest;
  /** Digest of the layer blob as stored or transferred. */
  digest?: Digest;
  mediaType?: string;
  /** Uncompressed bytes of the layer. */
  size?: number;
  blobSize?: number;
}

/** An image with its config and history, as the explorer shows it. */
export interface ImageView {
  image: ImageRecord;
  config: ImageConfig;
  layers: LayerRecord[];
  history: HistoryRow[];
}

/** A file as the details panel shows it. */
export interface FileView {
  path: string;
  entry: Omit<FileEntry, "content">;
  /** Layer that supplied the entry in the tree viewed. */
  layer: number;
  /** Lower layers that had an entry at this path which this one hides, nearest first. */
  shadows: number[];
  /** For a hardlink, the path of the file it links to. */
  hardlinkTo?: string;
  /** Total bytes of content (0 for non-files). */
  size: number;
  /** The bytes [offset, offset+length) requested. */
  bytes: Uint8Array;
  offset: number;
}

/** Produces synthesized contents (built-in teaching bases); absent where none are used. */
export type SyntheticContent = (seed: number, size: number, offset: number, length: number) => Uint8Array;

/** Reads `length` bytes at `offset` of an entry's content, wherever it lives. */
export async function readContent(
  store: Store,
  ref: ContentRef | undefined,
  size: number,
  offset: number,
  length: number,
  synthetic?: SyntheticContent,
): Promise<Uint8Array> {
  const len = Math.max(0, Math.min(length, size - offset));
  if (!ref || len === 0) return new Uint8Array(0);
  switch (ref.kind) {
    case "tar":
      return store.blobs.read(ref.blob, ref.offset + offset, len);
    case "blob":
      return store.blobs.read(ref.blob, offset, len);
    case "inline":
      return ref.bytes.slice(offset, offset + len);
    case "synthetic":
      if (!synthetic) throw new LayerLabError("NOT_FOUND", "synthesized content has no generator here");
      return synthetic(ref.seed, size, offset, len);
  }
}

/**
 * Reads images from the store and answers what the explorer asks: history, per-layer trees,
 * file contents. Merged stacks are kept for the few images most recently looked at.
 */
export class Explorer {
  private readonly stacks = new Map<string, Promise<{ view: ImageView; stack: LayerStack }>>();

  constructor(
    private readonly store: Store,
    private readonly synthetic?: SyntheticContent,
    private readonly keep = 4,
  ) {}

  /** Forgets cached stacks (after the store changed underneath). */
  invalidate(id?: string): void {
    if (id) this.stacks.delete(id);
    else this.stacks.clear();
  }

  async image(id: string): Promise<ImageView> {
    return (await this.load(id)).view;
  }

  async stack(id: string): Promise<LayerStack> {
    return (await this.load(id)).stack;
  }

  private load(id: string) {
    let p = this.stacks.get(id);
    if (p) {
      this.stacks.delete(id);
      this.stacks.set(id, p);
      return p;
    }
    p = this.open(id);
    p.catch(() => this.stacks.delete(id));
    this.stacks.set(id, p);
    while (this.stacks.size > this.keep) this.stacks.delete(this.stacks.keys().next().value!);
    return p;
  }

  private async open(id: string): Promise<{ view: ImageView; stack: LayerStack }> {
    const image = await this.store.meta.get("images", id);
    if (!image) throw new LayerLabError("NOT_FOUND", `no image ${id} in the store`);
    const config = JSON.parse(new TextDecoder().decode(await this.requireBlob(image.config))) as ImageConfig;
    const layers: LayerRecord[] = [];
    const changesets = [];
    for (const lid of image.layers) {
      const rec = await this.store.meta.get("layers", lid);
      if (!rec)
        throw new LayerLabError("NOT_FOUND", `layer ${lid} of image ${image.names[0] ?? id} is missing`);
      layers.push(rec);
      changesets.push(
        rec.index
          ? decodeLayerIndex(await this.requireBlob(rec.index), rec.id)
          : { entries: [], whiteouts: [] },
      );
    }
    const history: HistoryRow[] = [];
    let li = 0;
    for (const h of config.history ?? []) {
      const row: HistoryRow = {
        createdBy: h.created_by ?? "",
        created: h.created,
        comment: h.comment,
        emptyLayer: h.empty_layer === true,
      };
      if (!row.emptyLayer && li < layers.length) {
        Object.assign(row, layerFacts(layers[li]!, li));
        li++;
      }
      history.push(row);
    }
    // Layers the history does not account for still appear, with no created_by.
    for (; li < layers.length; li++) {
      history.push({ createdBy: "", emptyLayer: false, ...layerFacts(layers[li]!, li) });
    }
    return { view: { image, config, layers, history }, stack: stackLayers(changesets) };
  }

  /** Wasted bytes and score (see computeEfficiency), with the `limit` largest wasted paths. */
  async efficiency(id: string, limit = 200): Promise<EfficiencyReport> {
    return computeEfficiency(await this.stack(id), { limit });
  }

  /** The tree of one layer's changes, or of the merged filesystem up to that layer. */
  async tree(id: string, layer: number, mode: "changes" | "merged"): Promise<TreeSnapshot> {
    const stack = await this.stack(id);
    checkLayer(stack, layer);
    const inputs: TreeInput[] = [];
    if (mode === "changes") {
      for (const r of diffLayer(stack, layer).rows) {
        if (r.implicit) continue;
        inputs.push({
          path: r.path,
          type: r.type,
          size: r.kind === "removed" ? r.hiddenSize || r.size : r.size,
          kind: r.kind,
          layer: r.kind === "removed" ? (r.previousLayer ?? layer) : layer,
        });
      }
    } else {
      for (const n of stack.treeAt(layer).walk()) {
        inputs.push({
          path: n.path,
          type: n.entry.type,
          size: n.entry.type === "file" ? n.entry.size : 0,
          kind: n.layer === layer ? (n.lower ? "modified" : "added") : "unchanged",
          layer: n.layer,
          linkname: n.entry.linkname,
        });
      }
    }
    return buildTreeSnapshot(inputs);
  }

  /** A file of the merged tree at `layer`, with `length` bytes of its content from `offset`. */
  async file(id: string, layer: number, path: string, offset = 0, length = 64 * 1024): Promise<FileView> {
    const stack = await this.stack(id);
    checkLayer(stack, layer);
    const node = stack.treeAt(layer).get(path);
    if (!node) throw new LayerLabError("NOT_FOUND", `/${path} does not exist in layer ${layer + 1}`);
    const shadows: number[] = [];
    for (let l: MergedNode | undefined = node.lower; l; l = l.lower) if (l.layer >= 0) shadows.push(l.layer);
    const data = node.hardlinkTarget ?? node;
    const { content, ...entry } = node.entry;
    const size = data.entry.type === "file" ? data.entry.size : 0;
    const bytes = await readContent(this.store, data.entry.content, size, offset, length, this.synthetic);
    return {
      path,
      entry,
      layer: node.layer,
      shadows,
      hardlinkTo: node.hardlinkTarget?.path,
      size,
      bytes,
      offset,
    };
  }

  private async requireBlob(d: Digest): Promise<Uint8Array> {
    const b = await this.store.blobs.get(d);
    if (!b) throw new LayerLabError("NOT_FOUND", `blob ${d} is missing from the store`);
    return b;
  }
}

/** What a history row says of the layer it made. */
function layerFacts(l: LayerRecord, layer: number): Partial<HistoryRow> {
  return { layer, diffId: l.id, digest: l.blob, mediaType: l.mediaType, size: l.size, blobSize: l.blobSize };
}

function checkLayer(stack: LayerStack, layer: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= stack.layers.length) {
    throw new LayerLabError(
      "NOT_FOUND",
      `the image has no layer ${layer + 1} (it has ${stack.layers.length})`,
    );
  }
}
