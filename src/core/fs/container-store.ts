/**
 * Containers kept in the store across reloads: the container layer is saved as a JSON blob (the
 * ContainerRecord's `changes`), and each file written in the container as its own content blob,
 * so the record stays small and identical contents are stored once.
 */
import type { Digest } from "../digest.ts";
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
import type { ContentRef, FileEntry } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Files of up to this many bytes stay inside the saved layer (base64 in its JSON): a shell loop
 * that writes 10,000 small files then saves one blob, not 10,000.
 */
const INLINE_MAX = 4096;

/** A saved entry whose small content is kept inline, as base64. */
type SavedEntry = Omit<FileEntry, "content"> & { content: { kind: "inline"; base64: string } };

/** Contents already stored as blobs by an earlier save (the same bytes are not hashed again). */
const savedBlobs = new WeakMap<Uint8Array, Digest>();

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

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
  // As saved: a small file's content is `{ kind: "inline", base64 }`, others blob references.
  const entries: (UpperEntry | (Omit<UpperEntry, "entry"> & { entry: SavedEntry }))[] = [];
  for (const up of data.entries) {
    const ref = up.entry.content;
    if (ref?.kind === "inline" && ref.bytes.length <= INLINE_MAX) {
      const { digest: _d, ...entry } = up.entry;
      entries.push({ ...up, entry: { ...entry, content: { kind: "inline", base64: toBase64(ref.bytes) } } });
    } else if (ref?.kind === "inline") {
      let digest = savedBlobs.get(ref.bytes);
      if (!digest || !(await store.blobs.has(digest))) {
        digest = (await store.blobs.put(ref.bytes)).digest;
        savedBlobs.set(ref.bytes, digest);
      }
      entries.push({ ...up, entry: { ...up.entry, digest, content: { kind: "blob", blob: digest } } });
    } else entries.push(up);
  }
  const previous = await store.meta.get("containers", record.id);
  const { changes: _stale, ...rest } = record as ContainerRecord;
  const saved: ContainerRecord = rest;
  if (!fs.isClean()) {
    const json = JSON.stringify({ ...data, entries });
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
    const c = up.entry.content as { kind?: string; base64?: unknown } | undefined;
    if (c?.kind === "inline" && typeof c.base64 === "string") {
      up.entry.content = { kind: "inline", bytes: fromBase64(c.base64) };
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
