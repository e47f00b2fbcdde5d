/**
 * The build log as text: one rendering of the streamed BuildEvents, used by the CLI and available to
 * the UI (which may also draw the events itself).
 */
import { shortDigest } from "../digest.ts";
import { formatBytes } from "../format.ts";
import type { BuildEvent } from "./types.ts";

/** Renders one build event as log lines (with a trailing newline), or "" when it shows nothing. */
export function renderEvent(e: BuildEvent): string {
  switch (e.kind) {
    case "start":
      return `[+] Building ${e.steps} steps in ${e.stages} stage${e.stages === 1 ? "" : "s"}\n`;
    case "stage":
      return "";
    case "step":
      return `Step ${e.step}/${e.steps} [${e.stage}] : ${e.instruction}\n`;
    case "output":
      return `${e.text
        .replace(/\n$/, "")
        .split("\n")
        .map((l) => `  | ${l}`)
        .join("\n")}\n`;
    case "step-done": {
      const time = `${(e.ms / 1000).toFixed(2)}s`;
      const layer = e.emptyLayer
        ? "no layer"
        : `layer ${formatBytes(e.layerSize ?? 0)}${e.diffId ? ` (${shortDigest(e.diffId)})` : ""}`;
      if (e.cached) return ` ---> CACHED, ${layer}\n`;
      return ` ---> ${time}, ${layer}${e.reason ? `; rebuilt: ${e.reason}` : ""}\n`;
    }
    case "warning":
      return `WARNING${e.line ? ` (line ${e.line})` : ""}: ${e.message}\n`;
    case "done":
      return `Successfully built ${shortDigest(e.image)}: ${e.layers} layers, ${e.cachedSteps} cached steps, ${(e.ms / 1000).toFixed(2)}s\n`;
  }
}
