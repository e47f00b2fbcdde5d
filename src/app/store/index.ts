import { create } from "zustand";
import { type BuildSlice, createBuildSlice } from "./build-slice.ts";
import { type ContainerSlice, createContainerSlice } from "./container-slice.ts";
import { type ContextSlice, createContextSlice } from "./context-slice.ts";
import { createDetailsSlice, type DetailsSlice } from "./details-slice.ts";
import { createEditorSlice, type EditorSlice } from "./editor-slice.ts";
import { createEmbeddedRegistrySlice, type EmbeddedRegistrySlice } from "./embedded-registry-slice.ts";
import { createExplorerSlice, type ExplorerSlice } from "./explorer-slice.ts";
import { createImagesSlice, type ImagesSlice } from "./images-slice.ts";
import { createLessonsSlice, type LessonsSlice } from "./lessons-slice.ts";
import { createRawSlice, type RawSlice } from "./raw-slice.ts";
import { createRegistrySlice, type RegistrySlice } from "./registry-slice.ts";
import { createStorageSlice, type StorageSlice } from "./storage-slice.ts";
import { createTreeSlice, type TreeSlice } from "./tree-slice.ts";
import { createUiSlice, type UiSlice } from "./ui-slice.ts";

/** The whole app state: one zustand store built from slices (see each slice for its part). */
export type AppState = StorageSlice &
  EditorSlice &
  UiSlice &
  TreeSlice &
  ExplorerSlice &
  ContextSlice &
  BuildSlice &
  LessonsSlice &
  DetailsSlice &
  ImagesSlice &
  RawSlice &
  ContainerSlice &
  EmbeddedRegistrySlice &
  RegistrySlice;

export const useAppStore = create<AppState>()((...a) => ({
  ...createStorageSlice(...a),
  ...createEditorSlice(...a),
  ...createUiSlice(...a),
  ...createTreeSlice(...a),
  ...createExplorerSlice(...a),
  ...createContextSlice(...a),
  ...createBuildSlice(...a),
  ...createLessonsSlice(...a),
  ...createDetailsSlice()(...a),
  ...createImagesSlice()(...a),
  ...createRawSlice(...a),
  ...createContainerSlice(...a),
  ...createEmbeddedRegistrySlice(...a),
  ...createRegistrySlice()(...a),
}));
