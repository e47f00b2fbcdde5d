import type { TarHeader } from "../archive/tar-header.ts";
import type { TarHandler } from "../archive/tar-reader.ts";
import { createReusableSha256, type Digest, oneShotSha256, type ReusableSha256 } from "../digest.ts";
import { ArchiveError } from "../errors.ts";
import type { Changeset, FileEntry, Whiteout } from "../fs/types.ts";

/** Files up to this size are hashed whole by the one-shot digest; larger ones stream through wasm. */
export const ONE_SHOT_MAX_BYTES = 8 * 2 ** 20;
/** How many bytes of one-shot digests may be in flight before `drain` waits. */
const DRAIN_BYTES = 32 * 2 ** 20;

/** A problem a layer had that was contained rather than refused (data, not an exception). */
export interface LayerWarning {
  entry: string;
  message: string;
}

/** A layer's entries as stored in its index blob. */
export interface LayerIndex extends Changeset {
  warnings: LayerWarning[];
}

/** Limits that stop hostile layers early. */
export interface LayerLimits {
  /** Most entries one layer may have (default 2,000,000). */
  maxEntries?: number;
  /** A file declaring more bytes than this is refused before its data is read (default 64 GiB). */
  maxFileBytes?: number;
}

/**
 * Cleans a tar entry name into a clean relative path ("" for the root). Throws ArchiveError
 * (ARCHIVE_HOSTILE) for absolute paths and `..` segments: such entries would write outside the root.
 */
export function cleanEntryPath(name: string, entry = name): string {
  if (name.startsWith("/")) {
    throw new ArchiveError(
      "absolute path refused (it would write outside the image root)",
      { entry },
      "ARCHIVE_HOSTILE",
    );
  }
  if (name.includes("\0")) throw new ArchiveError("NUL byte in path", { entry }, "ARCHIVE_HOSTILE");
  const parts: string[] = [];
  for (const seg of name.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      throw new ArchiveError(
        "'..' in path refused (it could escape the image root)",
        { entry },
        "ARCHIVE_HOSTILE",
      );
    }
    parts.push(seg);
  }
  return parts.join("/");
}

/**
 * Builds a layer's entry index from its tar stream: FileEntry values pointing into the tar by
 * offset, whiteouts from `.wh.` names, per-file sha256. Refuses hostile layers: paths escaping the
 * root, writes through a symlink or a file, hardlinks to anything but an earlier file of this
 * layer, a bare `.wh.`, type-changing duplicate entries. Same-type duplicates are contained (the
 * later wins) and reported as warnings.
 */
export class LayerIndexer implements TarHandler {
  private readonly entries: FileEntry[] = [];
  private readonly whiteouts: Whiteout[] = [];
  private readonly warnings: LayerWarning[] = [];
  private readonly byPath = new Map<string, number>();
  private readonly whiteoutPaths = new Set<string>();
  /** The regular file whose data is streaming past, while files are hashed. */
  private current: FileEntry | undefined;
  /** How the current file is hashed: streamed through `hasher`, or gathered for `oneShot`. */
  private gather: { bytes: Uint8Array | undefined; filled: number; dispatched: boolean } | undefined;
  /** One-shot digests still being computed, in order, and the bytes they hold. */
  private pending: Promise<void>[] = [];
  private pendingBytes = 0;
  /** Where files that arrive in pieces are put together for the one-shot digest (reused). */
  private scratch = new Uint8Array(64 * 1024);
  private readonly maxEntries: number;
  private readonly maxFileBytes: number;

  private constructor(
    private readonly hasher: ReusableSha256 | undefined,
    private readonly oneShot: ((bytes: Uint8Array) => Promise<Digest>) | undefined,
    limits: LayerLimits,
  ) {
    this.maxEntries = limits.maxEntries ?? 2_000_000;
    this.maxFileBytes = limits.maxFileBytes ?? 64 * 2 ** 30;
  }

  /**
   * A new indexer; with `hashFiles` every regular file's sha256 is computed as it streams past
   * (files up to ONE_SHOT_MAX_BYTES by the provider's one-shot digest where it has one, which may
   * run off this thread: call `drain` as data is pushed, and await `finish`).
   */
  static async create(
    options: {
      hashFiles?: boolean;
      limits?: LayerLimits;
      /** The stream large files are hashed in (one of a group fed side by side: createParallelSha256). */
      hasher?: ReusableSha256;
    } = {},
  ): Promise<LayerIndexer> {
    if (options.hashFiles === false) return new LayerIndexer(undefined, undefined, options.limits ?? {});
    const hasher = options.hasher ?? (await createReusableSha256());
    return new LayerIndexer(hasher, oneShotSha256(), options.limits ?? {});
  }

  entry(h: TarHeader): void {
    const path = cleanEntryPath(h.name);
    if (path === "") {
      if (h.type !== "dir")
        throw new ArchiveError("the root must be a directory", { entry: h.name }, "ARCHIVE_HOSTILE");
      return;
    }
    if (this.entries.length + this.whiteouts.length >= this.maxEntries) {
      throw new ArchiveError(
        `more than ${this.maxEntries} entries in one layer`,
        { entry: h.name },
        "ARCHIVE_TOO_LARGE",
      );
    }
    if (h.size > this.maxFileBytes) {
      throw new ArchiveError(
        `declares ${h.size} bytes, over the limit of ${this.maxFileBytes}`,
        { entry: h.name, offset: h.headerOffset },
        "ARCHIVE_TOO_LARGE",
      );
    }
    const slash = path.lastIndexOf("/");
    const dir = slash >= 0 ? path.slice(0, slash) : "";
    const base = path.slice(slash + 1);
    this.checkParents(path, h.name);
    if (base.startsWith(".wh.")) {
      this.addWhiteout(dir, base, h.name);
      return;
    }
    const e: FileEntry = {
      path,
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      size: h.type === "file" ? h.size : 0,
      mtime: h.mtime,
    };
    if (h.uname) e.uname = h.uname;
    if (h.gname) e.gname = h.gname;
    if (h.type === "symlink") {
      if (h.linkname === "")
        throw new ArchiveError("symlink with an empty target", { entry: h.name }, "ARCHIVE_HOSTILE");
      e.linkname = h.linkname;
    }
    if (h.type === "hardlink") {
      const target = cleanEntryPath(h.linkname, h.name);
      const at = this.byPath.get(target);
      const t = at === undefined ? undefined : this.entries[at];
      if (!t || (t.type !== "file" && t.type !== "hardlink")) {
        throw new ArchiveError(
          `hardlink to '${h.linkname}', which is not a regular file earlier in this layer`,
          { entry: h.name },
          "ARCHIVE_HOSTILE",
        );
      }
      e.linkname = target;
    }
    if (h.type === "char" || h.type === "block") {
      e.devmajor = h.devmajor;
      e.devminor = h.devminor;
    }
    if (h.xattrs) e.xattrs = h.xattrs;
    if (h.type === "file") e.content = { kind: "tar", blob: "sha256:" as Digest, offset: h.dataOffset };
    const prev = this.byPath.get(path);
    if (prev !== undefined) {
      const old = this.entries[prev]!;
      if (old.type !== e.type) {
        throw new ArchiveError(
          `duplicate entry changes type from ${old.type} to ${e.type}`,
          { entry: h.name },
          "ARCHIVE_HOSTILE",
        );
      }
      this.warnings.push({ entry: h.name, message: "duplicate entry: the later one wins" });
      this.entries[prev] = e;
    } else {
      this.byPath.set(path, this.entries.length);
      this.entries.push(e);
    }
    if (h.type === "file" && this.hasher) {
      this.current = e;
      if (this.oneShot && h.size <= ONE_SHOT_MAX_BYTES) {
        this.gather = { bytes: undefined, filled: 0, dispatched: false };
      } else {
        this.gather = undefined;
        this.hasher.init();
      }
    }
  }

  data(chunk: Uint8Array): void {
    const e = this.current;
    if (!e) return;
    const g = this.gather;
    if (!g) {
      this.hasher!.update(chunk);
      return;
    }
    if (g.filled === 0 && chunk.byteLength === e.size) {
      // The whole file in one piece: the one-shot digest copies it now, nothing to gather.
      this.dispatch(e, chunk);
      g.dispatched = true;
      g.filled = chunk.byteLength;
      return;
    }
    // One scratch buffer for every gathered file: the one-shot digest copies what it is given.
    if (!g.bytes) {
      if (this.scratch.byteLength < e.size)
        this.scratch = new Uint8Array(Math.max(e.size, 2 * this.scratch.byteLength));
      g.bytes = this.scratch.subarray(0, e.size);
    }
    g.bytes.set(chunk, g.filled);
    g.filled += chunk.byteLength;
  }

  entryEnd(): void {
    const e = this.current;
    if (!e) return;
    const g = this.gather;
    if (!g) e.digest = `sha256:${this.hasher!.hex()}`;
    else if (!g.dispatched) this.dispatch(e, g.bytes ?? new Uint8Array(0));
    this.current = undefined;
    this.gather = undefined;
  }

  /** Waits until the one-shot digests in flight hold at most `maxBytes` (memory stays bounded). */
  async drain(maxBytes = DRAIN_BYTES): Promise<void> {
    while (this.pendingBytes > maxBytes && this.pending.length > 0) await this.pending.shift();
  }

  /** The finished index; `diffId` names the uncompressed tar blob the entries point into. */
  async finish(diffId: Digest): Promise<LayerIndex> {
    await Promise.all(this.pending.splice(0));
    for (const e of this.entries) if (e.content?.kind === "tar") e.content.blob = diffId;
    return { entries: this.entries, whiteouts: this.whiteouts, warnings: this.warnings };
  }

  private dispatch(e: FileEntry, bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.pendingBytes += n;
    this.pending.push(
      this.oneShot!(bytes).then((d) => {
        e.digest = d;
        this.pendingBytes -= n;
      }),
    );
  }

  private addWhiteout(dir: string, base: string, entry: string): void {
    if (base === ".wh..wh..opq") {
      this.whiteouts.push({ path: dir, opaque: true });
      return;
    }
    if (base.startsWith(".wh..wh.")) {
      // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless outside aufs, as Docker ignores it.
      this.warnings.push({ entry, message: "aufs metadata entry ignored" });
      return;
    }
    const target = base.slice(4);
    if (target === "" || target === "." || target === "..") {
      throw new ArchiveError(`whiteout '${base}' names no file`, { entry }, "ARCHIVE_HOSTILE");
    }
    const path = dir ? `${dir}/${target}` : target;
    if (this.whiteoutPaths.has(path)) {
      this.warnings.push({ entry, message: "duplicate whiteout" });
      return;
    }
    this.whiteoutPaths.add(path);
    this.whiteouts.push({ path, opaque: false });
  }

  /** Refuses an entry below a symlink or a non-directory of this layer (a write through a link). */
  private checkParents(path: string, entry: string): void {
    let at = path.indexOf("/");
    while (at >= 0) {
      const parent = path.slice(0, at);
      const i = this.byPath.get(parent);
      if (i !== undefined) {
        const p = this.entries[i]!;
        if (p.type === "symlink") {
          throw new ArchiveError(
            `written through the symlink '${parent}' (-> ${p.linkname}), which could point outside the root`,
            { entry },
            "ARCHIVE_HOSTILE",
          );
        }
        if (p.type !== "dir") {
          throw new ArchiveError(
            `parent '${parent}' is a ${p.type}, not a directory`,
            { entry },
            "ARCHIVE_HOSTILE",
          );
        }
      }
      at = path.indexOf("/", at + 1);
    }
  }
}

/** Encodes a layer index as the JSON stored in its index blob (the tar blob is implied). */
export function encodeLayerIndex(index: LayerIndex): Uint8Array {
  const entries = index.entries.map((e) => {
    if (e.content?.kind === "tar") return { ...e, content: { kind: "tar", offset: e.content.offset } };
    // Inline bytes (small real files of synthesized layers) travel as base64 text.
    if (e.content?.kind === "inline")
      return { ...e, content: { kind: "inline", base64: toBase64(e.content.bytes) } };
    return e;
  });
  return new TextEncoder().encode(
    JSON.stringify({ v: 1, entries, whiteouts: index.whiteouts, warnings: index.warnings }),
  );
}

/** Decodes an index blob; `diffId` is the layer's uncompressed tar the entries point into. */
export function decodeLayerIndex(bytes: Uint8Array, diffId: Digest): LayerIndex {
  const json = JSON.parse(new TextDecoder().decode(bytes)) as {
    v: number;
    entries: FileEntry[];
    whiteouts: Whiteout[];
    warnings?: LayerWarning[];
  };
  for (const e of json.entries) {
    const c = e.content as (FileEntry["content"] & { base64?: string }) | undefined;
    if (c?.kind === "tar") c.blob = diffId;
    else if (c?.kind === "inline" && c.base64 !== undefined)
      e.content = { kind: "inline", bytes: fromBase64(c.base64) };
  }
  return { entries: json.entries, whiteouts: json.whiteouts, warnings: json.warnings ?? [] };
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
