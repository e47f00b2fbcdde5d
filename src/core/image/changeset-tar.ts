/**
 * A changeset written as a layer tar, deterministically: whiteouts as `.wh.` files and entries in
 * path order (an opaque marker right after its directory), every time stamp at `epoch`. The
 * builder takes a layer's diffId from these bytes, and the exporter writes the same bytes again for
 * layers whose files are synthesized.
 */
import { type TarWriteEntry, writeTar } from "../archive/tar-writer.ts";
import { synthesizeContent } from "../catalog/synthesize.ts";
import { createSha256, type Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import type { Changeset, ContentReader, ContentRef } from "../fs/types.ts";
import type { Store } from "../store/types.ts";

export type { ContentReader } from "../fs/types.ts";

/** Reads contents from the store (layer tars, blobs), inline bytes and synthetic seeds. */
export function storeContentReader(store: Store): ContentReader {
  return async (ref: ContentRef, size: number) => {
    switch (ref.kind) {
      case "inline":
        return ref.bytes;
      case "synthetic":
        return synthesizeContent(ref.seed, size);
      case "blob": {
        const b = await store.blobs.get(ref.blob);
        if (!b) throw new LayerLabError("NOT_FOUND", `blob ${ref.blob} is not in the store`);
        return b;
      }
      case "tar":
        return size === 0 ? new Uint8Array(0) : store.blobs.read(ref.blob, ref.offset, size);
    }
  };
}

/** The tar entries of a changeset, in the order they are written. */
export async function* changesetTarEntries(
  cs: Changeset,
  read: ContentReader,
  epoch: number,
): AsyncGenerator<TarWriteEntry> {
  type Item = { path: string; entry: () => Promise<TarWriteEntry> };
  const items: Item[] = [];
  for (const w of cs.whiteouts) {
    const slash = w.path.lastIndexOf("/");
    const dir = slash < 0 ? "" : `${w.path.slice(0, slash)}/`;
    const name = w.opaque ? `${w.path}/.wh..wh..opq` : `${dir}.wh.${w.path.slice(slash + 1)}`;
    items.push({
      // An opaque marker follows its directory at once, as overlay drivers write it, so a reader
      // that applies entries in order never drops the directory's new contents.
      path: w.opaque ? `${w.path}\u0000` : name,
      entry: async () => ({ name, type: "file", mode: 0o644, mtime: epoch, body: new Uint8Array(0) }),
    });
  }
  for (const e of cs.entries) {
    items.push({
      path: e.path,
      entry: async () => {
        const t: TarWriteEntry = {
          name: e.type === "dir" ? `${e.path}/` : e.path,
          type: e.type,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: epoch,
        };
        if (e.linkname !== undefined) t.linkname = e.linkname;
        if (e.devmajor !== undefined) t.devmajor = e.devmajor;
        if (e.devminor !== undefined) t.devminor = e.devminor;
        if (e.xattrs) t.xattrs = e.xattrs;
        if (e.type === "file") t.body = e.content ? await read(e.content, e.size) : new Uint8Array(0);
        return t;
      },
    });
  }
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const it of items) yield await it.entry();
}

/** The layer tar of a changeset as a stream. */
export function changesetTar(cs: Changeset, read: ContentReader, epoch: number): AsyncIterable<Uint8Array> {
  return writeTar(changesetTarEntries(cs, read, epoch));
}

/** The diffId and size of a changeset's layer tar, streamed through sha256 and never held whole. */
export async function measureChangesetTar(
  cs: Changeset,
  read: ContentReader,
  epoch: number,
): Promise<{ diffId: Digest; size: number }> {
  const h = await createSha256();
  let size = 0;
  for await (const chunk of changesetTar(cs, read, epoch)) {
    h.update(chunk);
    size += chunk.byteLength;
  }
  return { diffId: h.finish(), size };
}

/** True when a changeset holds synthesized contents (so its tar is best written on demand). */
export function hasSynthesizedContent(cs: Changeset): boolean {
  return cs.entries.some((e) => e.type === "file" && e.content?.kind === "synthetic");
}
