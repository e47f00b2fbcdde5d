/**
 * The typed protocol between the page and the worker that owns the store and does heavy work.
 * Each method names its params and result; progress events carry their call's id.
 */

import type { BuildEvent } from "../core/builder/types.ts";
import type { StorageFullFacts } from "../core/errors.ts";
/** Bytes and blobs in the store, and the browser's quota for this origin. */
import type { ContainerOp, ContainerSummary } from "../core/explore/containers.ts";
import type { Diagnostic } from "../core/explore/diagnostics.ts";
import type { FileView, HistoryRow, ImageView } from "../core/explore/explorer.ts";
import type { FileVersionDiff } from "../core/explore/file-diff.ts";
import type { ShellInfo } from "../core/explore/shells.ts";
import type { DockerChange, DockerDiffPage } from "../core/fs/docker-diff.ts";
import type { EfficiencyReport } from "../core/fs/efficiency.ts";
import type { RawImageDocuments, RawLayerInfo, RawTarEntry } from "../core/image/raw-layer.ts";
import type { CourseSpec } from "../core/lessons/lessons.ts";
import type { LibrarySummary } from "../core/library/library.ts";
import type { TransferProgress } from "../core/registry/pull.ts";
import type { BlobOutcome, BlobTransfer, TransferRecord } from "../core/registry/transfer.ts";
import type { BlobCheckReport, LostImage } from "../core/store/check.ts";
import type { GarbageReport } from "../core/store/gc.ts";
import type { TreeSnapshot } from "../core/view/tree.ts";

export type {
  BlobOutcome,
  BlobTransfer,
  BuildEvent,
  ContainerOp,
  ContainerSummary,
  Diagnostic,
  DockerChange,
  DockerDiffPage,
  EfficiencyReport,
  FileVersionDiff,
  FileView,
  HistoryRow,
  ImageView,
  LibrarySummary,
  RawImageDocuments,
  RawLayerInfo,
  RawTarEntry,
  ShellInfo,
  TransferProgress,
  TransferRecord,
  TreeSnapshot,
};

/**
 * Credentials given for one registry transfer: kept in the worker's memory for the session, and
 * in the store's settings only when `remember` is ticked.
 */
export interface RegistryLogin {
  username: string;
  /** A password or an access token. */
  password: string;
  remember: boolean;
}

/** What a pull or push call is told besides its reference. */
export interface RegistryCallOptions {
  login?: RegistryLogin;
  /** Reach a non-loopback host over plain HTTP (the person allowed it for this host). */
  allowHttp?: boolean;
}

/** A registry whose credentials the worker holds, without the secret. */
export interface RegistryLoginSummary {
  registry: string;
  username: string;
  /** Kept in the store's settings (survives a reload), not only in memory. */
  remembered: boolean;
}

/** One event of a registry pull or push: how one blob is going. */
export type RegistryEvent = { kind: "blob" } & TransferProgress;

/** A page of a layer's raw tar entries, with the layer's facts and how many entries it has. */
export interface RawLayerPage {
  info: RawLayerInfo;
  total: number;
  start: number;
  entries: RawTarEntry[];
}

/** An image's JSON as stored, and which layer each digest in it names (for links). */
export interface RawImageView extends RawImageDocuments {
  /** Per layer, bottom first: the blob digest and the diffId, either of which the JSON may name. */
  layers: { digest: string; diffId: string }[];
}

/** One piece of a command's output, streamed as events of a `shell.exec` call (at most 64 KiB). */
export interface ShellOutput {
  kind: "output";
  stream: "stdout" | "stderr";
  text: string;
}

/** Bytes and blobs in the store, and the browser's quota for this origin. */
export interface StorageStats {
  blobs: number;
  bytes: number;
  images: number;
  layers: number;
  containers: number;
  /** From navigator.storage.estimate(); undefined where the browser gives none. */
  usage?: number;
  quota?: number;
  persisted?: boolean;
}

/** What a build made, as the page shows it. */
export interface BuildSummary {
  id: string;
  names: string[];
  /** Sum of the image's layer sizes. */
  size: number;
  layers: number;
  cachedSteps: number;
  totalSteps: number;
  ms: number;
}

/** What an archive import did, as the page shows it. */
export interface ImportSummary {
  images: { id: string; names: string[]; layers: number; warnings: string[] }[];
  blobsAdded: number;
  bytesAdded: number;
  bytesShared: number;
  bytesRead: number;
}

/** Every method the worker answers: its params and its result. */
export interface WorkerMethods {
  "dockerfile.check": { params: { text: string }; result: Diagnostic[] };
  "library.list": { params: undefined; result: LibrarySummary };
  "image.view": { params: { id: string }; result: ImageView };
  "image.tree": { params: { id: string; layer: number; mode: "changes" | "merged" }; result: TreeSnapshot };
  /** Entries [start, start+count) of a layer's tar in archive order (the listing is kept for the next pages). */
  "layer.raw": { params: { id: string; layer: number; start: number; count: number }; result: RawLayerPage };
  "image.raw": { params: { id: string }; result: RawImageView };
  "image.file": {
    params: { id: string; layer: number; path: string; offset?: number; length?: number };
    result: FileView;
  };
  /** `path` at layer `other` (the old side) against `path` at `layer` (the new side), diffed by line. */
  "image.diff": {
    params: { id: string; path: string; layer: number; other: number };
    result: FileVersionDiff;
  };
  "image.build": {
    params: {
      dockerfile: string;
      context: Record<string, string | Uint8Array>;
      tag?: string;
      buildArgs?: Record<string, string>;
      target?: string;
      noCache?: boolean;
    };
    result: BuildSummary;
  };
  "image.efficiency": { params: { id: string }; result: EfficiencyReport };
  "image.export": { params: { id: string; format: "docker" | "oci" }; result: Blob };
  "image.delete": { params: { id: string }; result: { removedBlobs: number; freedBytes: number } };
  "archive.import": { params: { file: Blob; name: string; platform?: string }; result: ImportSummary };
  "storage.stats": { params: undefined; result: StorageStats };
  "storage.clear": { params: undefined; result: StorageStats };
  /** At load: removes images whose bytes are gone and collects what no record uses. */
  "storage.repair": { params: undefined; result: RepairReport };
  /** Reads every blob back and checks its digest (progress in bytes; cancellable). */
  "storage.check": { params: undefined; result: BlobCheckReport };
  "container.list": { params: { image?: string }; result: ContainerSummary[] };
  "container.ensure": { params: { image: string }; result: ContainerSummary };
  "container.create": { params: { image: string; name?: string }; result: ContainerSummary };
  "container.apply": { params: { id: string; op: ContainerOp }; result: ContainerSummary };
  "container.undo": { params: { id: string }; result: ContainerSummary };
  "container.reset": { params: { id: string }; result: ContainerSummary };
  "container.remove": { params: { id: string }; result: undefined };
  "container.commit": {
    params: { id: string; tag: string };
    result: { image: string; container: ContainerSummary };
  };
  "container.tree": { params: { id: string }; result: TreeSnapshot };
  "container.file": {
    params: { id: string; path: string; offset?: number; length?: number };
    result: FileView & { copiedUpFrom?: number };
  };
  "container.stop": { params: { id: string }; result: ContainerSummary };
  "container.start": { params: { id: string }; result: ContainerSummary };
  /** `docker diff`: the first `limit` lines (every line without one) and how many there are. */
  "container.diff": { params: { id: string; limit?: number }; result: DockerDiffPage };
  "shell.open": { params: { id: string }; result: ShellInfo };
  /** Runs a command line; its output comes as ShellOutput events; cancel is Ctrl+C. */
  "shell.exec": {
    params: { id: string; line: string };
    result: { exitCode: number; cwd: string; container: ContainerSummary };
  };
  "shell.complete": {
    params: { id: string; before: string };
    result: { word: string; candidates: string[]; common: string };
  };
  /**
   * Checks the built-in course and the given teachers' courses against the learner's work; results
   * keyed `course/lesson` (`layerlab/cache` for a built-in lesson).
   */
  "lessons.check": {
    params: { courses?: CourseSpec[] } | undefined;
    result: {
      results: Record<string, { done: boolean; explanation?: string }>;
      /** What the learner did, with the numbers from their builds (for a finished course). */
      summary: string;
    };
  };
  /** Pulls an image from a registry into the store; RegistryEvents stream per blob; cancellable. */
  "registry.pull": {
    params: { reference: string; platform?: string } & RegistryCallOptions;
    result: { image: string; names: string[]; transfer: TransferRecord };
  };
  /** Pushes a stored image to a registry reference; RegistryEvents stream per blob; cancellable. */
  "registry.push": {
    params: { image: string; reference: string } & RegistryCallOptions;
    result: { manifestDigest: string; transfer: TransferRecord };
  };
  /** The pulls and pushes kept with an image, oldest first. */
  "registry.transfers": { params: { image: string }; result: TransferRecord[] };
  /** Registries the worker holds credentials for (this session's, and remembered ones). */
  "registry.logins": { params: undefined; result: RegistryLoginSummary[] };
  /** Forgets a registry's credentials, in memory and in the store's settings. */
  "registry.forget": { params: { registry: string }; result: undefined };
  "kv.get": { params: { key: string }; result: unknown };
  "kv.set": { params: { key: string; value: unknown }; result: undefined };
}

export type MethodName = keyof WorkerMethods;

/** Progress of a long call: what is done out of what there is, in the call's own units. */
export interface Progress {
  phase: string;
  done: number;
  total?: number;
  detail?: string;
}

export type RequestMessage = {
  [M in MethodName]: { type: "call"; id: number; method: M; params: WorkerMethods[M]["params"] };
}[MethodName];

export type ControlMessage = { type: "cancel"; id: number };

/** The page's port for the fetches the worker hands it (see fetch-relay.ts); sent once, first. */
export type FetchRelayPort = { type: "fetch-relay"; port: MessagePort };

export type ResponseMessage =
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; error: WireError }
  | { type: "progress"; id: number; progress: Progress }
  | { type: "event"; id: number; event: unknown }
  | { type: "notice"; notice: WorkerNotice };

/** What the worker tells the page unasked: its store closed (another tab upgraded it). */
export type WorkerNotice = { kind: "store-closed"; why: "versionchange" | "terminated" };

/** What a failed call carries: its code and message, and for a full store, the numbers. */
export interface WireError {
  code: string;
  message: string;
  /** For STORAGE_FULL: what was needed and written, what the browser allows, what uses it. */
  storage?: StorageFullFacts;
}

/** What the load-time repair found: images whose bytes were gone (now removed) and what it collected. */
export interface RepairReport {
  /** False when another tab was writing: the repair is left for a later load. */
  ran: boolean;
  lost: LostImage[];
  collected: GarbageReport;
}

/** The BroadcastChannel on which a tab's worker tells the other tabs' pages what it changed. */
export const STORE_CHANNEL = "layerlab-store";

/** A change of the store one tab tells the others (BroadcastChannel `layerlab-store`). */
export type StoreChanged =
  | { kind: "image"; id: string }
  | { kind: "deleted"; id: string }
  | { kind: "cleared" };

export type { BlobCheckReport, GarbageReport, LostImage };
