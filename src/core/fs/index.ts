/**
 * The overlay filesystem: layer changesets stacked into merged trees (OCI image-spec rules),
 * per-layer diffs, image efficiency, and canonical tree dumps.
 */
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
export type { Changeset, ContentRef, EntryType, FileEntry, Whiteout } from "./types.ts";
