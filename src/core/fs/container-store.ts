/**
 * Containers kept in the store across reloads: the container layer is saved as a JSON blob (the
 * ContainerRecord's `changes`), and each file written in the container as its own content blob,
 * so the record stays small and identical contents are stored once.
 */
import { LayerLabError } from "../errors.ts";
import type { ContainerRecord, Store } from "../store/types.ts";
import {
  type ContainerFs,
  type ContainerFsOptions,
  type ContainerLayerData,
  type ContentReader,
  createContainerFs,
  type UpperEntry,
} from "./container.ts";
import type { MergedTree } from "./overlay.ts";
import type { ContentRef } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads contents from the store: blob refs whole, tar refs as a range of the stored uncompressed
 * layer tar, inline bytes as they are; synthetic contents go to `fallback`.
 */
export function storeContentReader(store: Store, fallback?: ContentReader): ContentReader {
  return async (ref: ContentRef, size: number) => {
    switch (ref.kind) {
      case "inline":
        return ref.bytes.slice();
      case "blob": {
        const bytes = await store.blobs.get(ref.blob);
        if (!bytes) throw new LayerLabError("NOT_FOUND", `content blob ${ref.blob} is not in the store`);
        return bytes;
      }
      case "tar":
        return store.blobs.read(ref.blob, ref.offset, size);
      case "synthetic":
        if (!fallback) throw new LayerLabError("NOT_FOUND", "no reader for synthesized contents was given");
        return fallback(ref, size);
    }
  };
}

/**
 * Saves a container layer: written contents become blobs, the layer a JSON blob, and the record
 * points at it. The previous layer blob of the record is removed once the new one is saved.
 */
export async function saveContainer(
  store: Store,
  record: Omit<ContainerRecord, "changes">,
  fs: ContainerFs,
): Promise<ContainerRecord> {
  const data = fs.save();
  const entries: UpperEntry[] = [];
  for (const up of data.entries) {
    const ref = up.entry.content;
    if (ref?.kind === "inline") {
      const put = await store.blobs.put(ref.bytes);
      entries.push({
        ...up,
        entry: { ...up.entry, digest: put.digest, content: { kind: "blob", blob: put.digest } },
      });
    } else entries.push(up);
  }
  const previous = await store.meta.get("containers", record.id);
  const { changes: _stale, ...rest } = record as ContainerRecord;
  const saved: ContainerRecord = rest;
  if (!fs.isClean()) {
    const json = JSON.stringify({ ...data, entries } satisfies ContainerLayerData);
    saved.changes = (await store.blobs.put(encoder.encode(json))).digest;
  }
  await store.meta.put("containers", saved);
  if (previous?.changes && previous.changes !== saved.changes) await store.blobs.delete(previous.changes);
  return saved;
}

function parseLayer(text: string, id: string): ContainerLayerData {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new LayerLabError("STORE", `container ${id}: its saved layer is not valid JSON`, { cause: err });
  }
  const d = data as Partial<ContainerLayerData>;
  if (d?.version !== 1 || !Array.isArray(d.entries) || !Array.isArray(d.whiteouts)) {
    throw new LayerLabError("STORE", `container ${id}: its saved layer has an unknown format`);
  }
  for (const up of d.entries) {
    if (typeof up?.entry?.path !== "string" || typeof up.entry.type !== "string") {
      throw new LayerLabError("STORE", `container ${id}: a saved entry has no path or type`);
    }
  }
  return d as ContainerLayerData;
}

/** Opens a saved container over its image's merged tree. NOT_FOUND when no such record exists. */
export async function loadContainer(
  store: Store,
  id: string,
  image: MergedTree,
  read: ContentReader,
  options: Omit<ContainerFsOptions, "state"> = {},
): Promise<{ record: ContainerRecord; fs: ContainerFs }> {
  const record = await store.meta.get("containers", id);
  if (!record) throw new LayerLabError("NOT_FOUND", `no container ${id} in the store`);
  let state: ContainerLayerData | undefined;
  if (record.changes) {
    const bytes = await store.blobs.get(record.changes);
    if (!bytes)
      throw new LayerLabError("STORE", `container ${id}: its saved layer ${record.changes} is missing`);
    state = parseLayer(decoder.decode(bytes), id);
  }
  return { record, fs: createContainerFs(image, read, state ? { ...options, state } : options) };
}
