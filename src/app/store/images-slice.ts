import type { StateCreator } from "zustand";
import type { WorkerClient } from "../../worker/client.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** The archive formats an image exports to. */
export type ExportFormat = "docker" | "oci";

/** An exported archive, ready to be saved under its file name. */
export interface ExportedArchive {
  blob: Blob;
  fileName: string;
}

/** What the images area has asked the worker for: the export in progress and how it went. */
export interface ImagesSlice {
  exporting: {
    image?: string;
    running: boolean;
    /** Why the last export failed, in a sentence. */
    error?: string;
  };
  /** Exports image `id` (named `name`, if it has one) as an archive; undefined when it failed. */
  exportImage(
    id: string,
    name: string | undefined,
    format: ExportFormat,
  ): Promise<ExportedArchive | undefined>;
}

/** The file name an export is saved under: the image's name without docker.io/library/, made safe. */
export function exportFileName(name: string | undefined, id: string, format: ExportFormat): string {
  const base = (name ?? id.slice(7, 19))
    .replace(/^docker\.io\/library\//, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${base}${format === "oci" ? ".oci" : ""}.tar`;
}

/** The images slice; `client` is the worker's (tests pass a fake). */
export function createImagesSlice(
  client: () => WorkerClient = workerClient,
): StateCreator<AppState, [], [], ImagesSlice> {
  return (set) => ({
    exporting: { running: false },

    async exportImage(id, name, format) {
      set({ exporting: { image: id, running: true } });
      try {
        const blob = await client().call("image.export", { id, format });
        set({ exporting: { image: id, running: false } });
        return { blob, fileName: exportFileName(name, id, format) };
      } catch (err) {
        const error = `Export failed: ${err instanceof Error ? err.message : String(err)}`;
        set({ exporting: { image: id, running: false, error } });
        return undefined;
      }
    },
  });
}
