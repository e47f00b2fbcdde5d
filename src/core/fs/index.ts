/**
 * The overlay filesystem: layer changesets stacked into merged trees (OCI image-spec rules),
 * per-layer diffs, image efficiency, canonical tree dumps, and the writable container layer.
 */

export {
  type ContainerCommit,
  type ContainerFs,
  type ContainerFsOptions,
  type ContainerLayerData,
  type ContentReader,
  createContainerFs,
  type FileStat,
  type HistoryData,
  type MkdirOptions,
  type RmOptions,
  type UpperEntry,
  type WriteOptions,
} from "./container.ts";
export { loadContainer, saveContainer, storeContentReader } from "./container-store.ts";
export {
  buildDiffTree,
  type ChangedAttribute,
  type ChangeKind,
  compareEntries,
  type DiffAggregate,
  type DiffNode,
  type DiffRow,
  diffApplied,
  diffLayer,
  type LayerDiff,
  sameContent,
} from "./diff.ts";
export { type DumpRow, dumpLine, dumpRows, dumpTree } from "./dump.ts";
export {
  computeEfficiency,
  type EfficiencyReport,
  type Inefficiency,
  type PathOccurrence,
} from "./efficiency.ts";
export {
  type AppliedLayer,
  applyChangeset,
  emptyTree,
  type HiddenRecord,
  type LayerProblem,
  type LayerStack,
  type MergedNode,
  type MergedTree,
  mergedTreeAt,
  mergeLayers,
  stackLayers,
} from "./overlay.ts";
export { baseName, cleanPath, isCleanPath, joinPath, parentPath, splitPath } from "./paths.ts";
export { type ChangeJson, type EfficiencyJson, summarizeOverlay } from "./report.ts";
export type { Changeset, ContentRef, EntryType, FileEntry, Whiteout } from "./types.ts";
