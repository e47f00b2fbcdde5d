import type { Digest } from "../digest.ts";

/** What the store knows of one blob. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** The result of a put: the blob, and whether identical content was already stored. */
export interface PutResult extends BlobInfo {
  /** True when the content was already there and nothing new was written. */
  deduplicated: boolean;
}

/** Options of a streaming put. */
export interface PutOptions {
  /** When given, the content must hash to it or the put fails with DigestMismatchError. */
  expected?: Digest;
  /** Aborting cancels the put; nothing of it stays stored. */
  signal?: AbortSignal;
}

/**
 * Content-addressed bytes: every blob is named by the sha256 of its content, so identical
 * content is stored once. A put becomes visible only after its digest has been verified.
 */
export interface BlobStore {
  has(digest: Digest): Promise<boolean>;
  /** The whole blob, or undefined when it is not stored. */
  get(digest: Digest): Promise<Uint8Array | undefined>;
  /** Bytes [offset, offset+length) of a blob, for paging large files; NOT_FOUND when absent. */
  read(digest: Digest, offset: number, length: number): Promise<Uint8Array>;
  /** The blob as a stream of chunks; NOT_FOUND when absent. */
  stream(digest: Digest): AsyncIterable<Uint8Array>;
  /**
   * The blob as a Blob whose bytes are read only when something reads it (a file's, on disk),
   * where the store keeps it so; undefined when it is not stored. A push sends slices of it as
   * request bodies, which the platform reads from the file itself: no copy through the script.
   */
  blob?(digest: Digest): Promise<Blob | undefined>;
  size(digest: Digest): Promise<number | undefined>;
  put(bytes: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Streams a blob in, hashing as it goes; the digest is checked at the end. */
  putStream(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /**
   * Stores the bytes of a Blob (a slice of a File the person picked) that the caller has already
   * read and hashed to `digest`. IndexedDB keeps such a Blob without its bytes passing through
   * the page again (the browser copies the file); a store that cannot, reads and verifies them.
   */
  adopt(blob: Blob, digest: Digest, options?: Pick<PutOptions, "signal">): Promise<PutResult>;
  /** Removes a blob; false when it was not there. */
  delete(digest: Digest): Promise<boolean>;
  list(): Promise<BlobInfo[]>;
  stats(): Promise<{ count: number; bytes: number }>;
}

/** Where an image came from. */
export type ImageSource = "build" | "import" | "commit" | "builtin" | "pull";

/** One top-level JSON file of the archive an image was imported from, stored as a blob. */
export interface ArchiveJsonRef {
  path: "index.json" | "manifest.json";
  digest: Digest;
}

/** A stored image: its config and the layers it stacks, bottom first. */
export interface ImageRecord {
  /** The config digest (the image ID, as `docker images --no-trunc` shows it). */
  id: Digest;
  /** name:tag references, e.g. `ubuntu:20.04`. */
  names: string[];
  source: ImageSource;
  /** Layer record ids (diffIds), bottom first. */
  layers: Digest[];
  /** Digest of the config JSON blob. */
  config: Digest;
  /** Digest of the manifest JSON blob, when one was stored. */
  manifest?: Digest;
  /**
   * The archive's own top-level JSON, kept byte for byte when the image was imported: an OCI
   * layout's `index.json` and a docker-archive's `manifest.json` (each at most 4 MiB).
   */
  archiveJson?: ArchiveJsonRef[];
  platform?: string;
  /** When it entered the store (ms since the epoch). */
  storedAt: number;
  /** Free-form facts later features attach (stand-in notes, build info). */
  notes?: Record<string, string>;
}

/** A stored layer, named by its diffId (sha256 of the uncompressed tar). */
export interface LayerRecord {
  id: Digest;
  /** The blob holding the layer as it came (compressed or not). */
  blob: Digest;
  mediaType: string;
  /** Bytes of the stored blob. */
  blobSize: number;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The blob holding this layer's entry index, when computed. */
  index?: Digest;
  /**
   * Set for a layer whose files are mostly synthesized (built-in teaching bases, simulated
   * package installs): no tar blob is stored; the tar is written again from the index when it is
   * exported, with every time stamp at `epoch`, byte for byte the tar the diffId was taken of.
   */
  synthesized?: { epoch: number };
}

/** A writable container layer on top of an image. */
export interface ContainerRecord {
  id: string;
  name: string;
  image: Digest;
  createdAt: number;
  /** The blob holding the container layer's changes, when it has any. */
  changes?: Digest;
  /** "exited" once stopped (`docker stop`); running otherwise. */
  state?: "running" | "exited";
  /** The terminal's command lines, oldest first: kept with the container across reloads. */
  history?: string[];
  /** `docker run --user`: the user the container runs as, in place of the image's User. */
  user?: string;
  /** `docker run --workdir`: the container's working directory, in place of the image's WorkingDir. */
  workingDir?: string;
}

/** Small settings and progress values (lessons done, last Dockerfile). */
export interface KvRecord {
  id: string;
  value: unknown;
}

/** The record type of each metadata collection. */
export interface MetaCollections {
  images: ImageRecord;
  layers: LayerRecord;
  containers: ContainerRecord;
  kv: KvRecord;
}

export type CollectionName = keyof MetaCollections;

/** Puts and deletes applied together: all of them or none. */
export interface MetaBatch {
  put?: { [K in CollectionName]?: MetaCollections[K][] };
  delete?: { [K in CollectionName]?: string[] };
}

/** Records of images, layers and containers, keyed by id. */
export interface MetaStore {
  get<K extends CollectionName>(collection: K, id: string): Promise<MetaCollections[K] | undefined>;
  list<K extends CollectionName>(collection: K): Promise<MetaCollections[K][]>;
  put<K extends CollectionName>(collection: K, record: MetaCollections[K]): Promise<void>;
  delete(collection: CollectionName, id: string): Promise<boolean>;
  /** Applies every put and delete of the batch atomically. */
  apply(batch: MetaBatch): Promise<void>;
}

/** The whole store: blobs and metadata, opened and cleared together. */
export interface Store {
  readonly kind: "memory" | "indexeddb";
  readonly blobs: BlobStore;
  readonly meta: MetaStore;
  /** Removes every blob and record. */
  clear(): Promise<void>;
  close(): void;
}

export const COLLECTIONS: readonly CollectionName[] = ["images", "layers", "containers", "kv"];
