import type { Digest } from "../digest.ts";

/** Media types LayerLab reads and writes. */
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An OCI platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An OCI image index (or Docker manifest list). */
export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI image manifest (or Docker schema 2 manifest). */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** One history record of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  author?: string;
  empty_layer?: boolean;
}

/** The container settings an image config carries. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

/** An OCI / Docker image config. */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

/** One record of a docker-archive manifest.json. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

/** "os/arch[/variant]", as Docker prints platforms. */
export function formatPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? "unknown", p.architecture ?? "unknown", ...(p.variant ? [p.variant] : [])].join("/");
}

/** True for an index or manifest-list media type. */
export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

/**
 * Matches history entries to layers: entries with `empty_layer` made no layer, every other one
 * made the next layer. Returns one history entry (or undefined) per layer.
 */
export function historyPerLayer(config: ImageConfig): (HistoryEntry | undefined)[] {
  const layers = config.rootfs?.diff_ids?.length ?? 0;
  const out: (HistoryEntry | undefined)[] = new Array(layers).fill(undefined);
  let i = 0;
  for (const h of config.history ?? []) {
    if (h.empty_layer) continue;
    if (i < layers) out[i] = h;
    i++;
  }
  return out;
}
