/**
 * The builder's public shapes: options, the streamed log events, the result, and the narrow ports
 * through which it reaches images (the Store, built-in bases) and the package catalog.
 */
import type { NpmCatalog } from "../catalog/npm.ts";
import type { Digest } from "../digest.ts";
import type { Changeset, FileEntry } from "../fs/types.ts";
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../image/oci.ts";
import type { Store } from "../store/types.ts";
import type { BuildCache } from "./cache.ts";
import type { BuildContext } from "./context.ts";
import type { ContentReader } from "./layer-fs.ts";

/** A health check as Docker stores it in the image config (durations in nanoseconds). */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The container config a build writes: the OCI fields plus the Docker ones BuildKit sets. */
export interface BuildContainerConfig extends ContainerConfig {
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
}

/** The image config a build writes. */
export interface BuildImageConfig extends ImageConfig {
  config: BuildContainerConfig;
  author?: string;
}

/** An image the builder can start FROM or COPY --from: its config and layer changesets. */
export interface BaseImage {
  /** The reference it was found by. */
  ref: string;
  /** Config digest (image ID) when it is a stored image. */
  id?: Digest;
  config: BuildImageConfig;
  /** Layer changesets, bottom first, with their diffIds. */
  layers: { diffId: Digest; changeset: Changeset }[];
  /** Set for teaching stand-ins: the honest label to show ("stand-in for ubuntu:20.04; ..."). */
  standIn?: string;
  /** Package manager simulated for it. */
  packages?: PackageCatalog;
}

/** Finds images by reference (name:tag, digest, ID prefix); the Store and the built-in bases. */
export interface ImageResolver {
  resolve(ref: string, platform?: string): Promise<BaseImage | undefined>;
  /** Reads bytes of contents the resolved layers point at. */
  readContent: ContentReader;
}

/** What installing one package does. */
export interface PackagePlan {
  name: string;
  version: string;
  /** Size of the downloaded archive (.deb), kept in the cache dir unless the image's apt config cleans it. */
  archiveSize: number;
  archiveFile: string;
  /** The files it installs (real paths, modes and sizes; contents inline or synthetic). */
  files: FileEntry[];
  /** The name dpkg knows it by: "libgpm2:amd64" for Multi-Arch: same packages (its info/<dpkgName>.list). */
  dpkgName?: string;
  /** The mirror, suite, component and architecture apt's "Get:" line names ("http://deb.debian.org/debian bookworm/main amd64"). */
  origin?: string;
  /** Its architecture ("amd64", "all"), as the "Get:" line shows it. */
  architecture?: string;
}

/** What `apt-get install` would do: the packages, or why it cannot. */
export interface PackageInstallPlan {
  packages: PackagePlan[];
  /** Requested names the catalog does not have (with lists present: not in LayerLab's offline catalog). */
  unknown: string[];
  /** apt's error lines when it would fail. */
  errors?: string[];
  /** Requested names dpkg already has. */
  already?: string[];
  /** Sum of the .deb sizes in bytes ("Need to get"); the sum of archiveSize when absent. */
  downloadBytes?: number;
  /** Sum of Installed-Size in KiB ("After this operation": apt prints KiB × 1024 bytes). */
  installedKiB?: number;
  /** /var/lib/dpkg/status after dpkg records the packages (the given status with their stanzas merged in). */
  dpkgStatus?: string;
}

/** The package catalog a simulated apt-get reads (real file lists and sizes). */
export interface PackageCatalog {
  /** What `apt-get update` writes under /var/lib/apt/lists, and apt's output. */
  update(): { files: FileEntry[]; output: string };
  /**
   * The binary caches apt writes under /var/cache/apt (pkgcache.bin, srcpkgcache.bin) when the
   * image's apt config does not turn them off (the Debian and Ubuntu images' docker-clean does).
   */
  cacheFiles(): FileEntry[];
  /**
   * The packages `apt-get install` of these names installs, in order (what the image's dpkg status
   * already has is left out); unknown names listed apart; apt's error lines when it would fail.
   */
  plan(names: string[], options: { recommends: boolean; dpkgStatus?: string }): PackageInstallPlan;
  /**
   * Files every apt/dpkg transaction rewrites (logs under /var/log, the debconf cache,
   * /etc/ld.so.cache, ...) as a recorded real run of `command` left them, or of the catalog's
   * reference run when that command was not recorded.
   */
  transactionFiles?(command: string): FileEntry[];
  /** apt's own output of `command` when the catalog recorded a real run of it (after `apt-get update`). */
  recordedOutput?(command: string): { stdout: string; stderr: string } | undefined;
  /** What the catalog holds, named when a package is not in it. */
  describe?(): { packages: number; suggested: string[]; distribution: string };
  /** The npm catalog, loaded on first use, for images that ship npm (the node stand-in). */
  npm?(): Promise<NpmCatalog | undefined>;
}

/** A line of the build log, streamed as the build runs (the UI and the CLI render the same events). */
export type BuildEvent =
  | { kind: "start"; steps: number; stages: number }
  | { kind: "stage"; index: number; name: string; base: string; standIn?: string }
  | {
      kind: "step";
      step: number;
      steps: number;
      stage: string;
      instruction: string;
      line: number;
    }
  | { kind: "output"; step: number; stream: "stdout" | "stderr"; text: string }
  | {
      kind: "step-done";
      step: number;
      cached: boolean;
      /** Why it was not taken from the cache (when it was not). */
      reason?: string;
      ms: number;
      /** Bytes of the layer tar it made; undefined for config-only steps. */
      layerSize?: number;
      diffId?: Digest;
      emptyLayer: boolean;
    }
  | { kind: "warning"; step?: number; message: string; line?: number }
  | { kind: "done"; image: Digest; ms: number; layers: number; cachedSteps: number };

/** Options of one build. */
export interface BuildOptions {
  dockerfile: string;
  context: BuildContext;
  store: Store;
  /** Where FROM and COPY --from find images; default: the Store (plus built-in bases when given). */
  images?: ImageResolver;
  /** Built-in teaching bases (stand-ins), consulted after the Store. */
  builtins?: ImageResolver;
  /** Names to give the image (`-t`). */
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** Layer cache kept between builds (Docker's build cache). */
  cache?: BuildCache;
  /** Seconds since the epoch used for every time stamp (SOURCE_DATE_EPOCH); default 0. */
  epoch?: number;
  platform?: string;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
}

/** One layer the build produced (or reused). */
export interface BuiltLayer {
  diffId: Digest;
  size: number;
  createdBy: string;
  cached: boolean;
}

/** What a build made. */
export interface BuildResult {
  /** The image ID (config digest). */
  id: Digest;
  manifest: Digest;
  config: BuildImageConfig;
  /** Layer diffIds, bottom first (the config's rootfs.diff_ids). */
  layers: Digest[];
  /** The chainIds of those layers, as the OCI image spec defines them. */
  chainIds: Digest[];
  history: HistoryEntry[];
  events: BuildEvent[];
  cachedSteps: number;
  totalSteps: number;
}
