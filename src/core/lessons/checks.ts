/**
 * The catalogue of checks a lesson can choose from. Each is a pure function of the facts LayerLab
 * gathers (builds, images, containers, transfers) and some parameters from the lesson file, and
 * says what it found as named values that the lesson's explanation template quotes.
 */
import { formatBytes } from "../format.ts";
import type { BuildFact, BuildStepFact, ImageFact, LessonFacts } from "./lessons.ts";

/** A parameter a check takes from the lesson file. */
export interface CheckParam {
  type: "string" | "number" | "integer" | "boolean";
  required?: boolean;
  description: string;
  /** Strings only: the value is a regular expression. */
  pattern?: boolean;
  /** Numbers: the smallest value allowed. */
  minimum?: number;
}

/** What a check found: not done, or done with the values its explanation quotes. */
export type CheckOutcome = { done: false } | { done: true; values: Record<string, string | number> };

/** Parameters as a lesson file gives them (validated against the check's `params` first). */
export type CheckParams = Record<string, string | number | boolean | undefined>;

/** One entry of the catalogue. */
export interface CheckDefinition {
  kind: string;
  /** One line for the documentation and the schema. */
  summary: string;
  params: Record<string, CheckParam>;
  /** The values `evaluate` returns when done (the placeholders an explanation may use). */
  provides: readonly string[];
  /** The explanation used when the lesson file gives none: `{name}` quotes a value. */
  explanation: string;
  /** Paths whose presence in the latest build's merged tree the check reads (see gatherLessonFacts). */
  probes?(p: CheckParams): string[];
  evaluate(f: LessonFacts, p: CheckParams): CheckOutcome;
}

const mb = formatBytes;
const isRun = (s: BuildStepFact) => /^RUN\b/i.test(s.instruction);
const isFrom = (s: BuildStepFact) => /^FROM\b/i.test(s.instruction);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const layerWord = (n: number) => plural(n, "layer");
const sum = (ls: { size: number }[]) => ls.reduce((n, l) => n + l.size, 0);

/** The latest build and the image it made, when both are known. */
function latest(f: LessonFacts): { build: BuildFact; image: ImageFact } | undefined {
  const build = f.builds.at(-1);
  const image = build && f.images.find((i) => i.id === build.image);
  return build && image ? { build, image } : undefined;
}

const str = (p: CheckParams, k: string) => String(p[k] ?? "");
const num = (p: CheckParams, k: string) => Number(p[k] ?? 0);
const clean = (path: string) => path.replace(/^\/+|\/+$/g, "");

/** Every check a lesson may name, by kind. */
export const CHECKS: readonly CheckDefinition[] = [
  {
    kind: "layers-made",
    summary: "The latest build made at least one layer of its own.",
    params: {},
    provides: ["image", "layers", "baseLayers", "parts"],
    explanation:
      "{image} has {layers}: {baseLayers} from its base image, then one per filesystem-changing instruction ({parts}). Each is read-only and named by the sha256 of its content.",
    evaluate(f) {
      const l = latest(f);
      if (!l) return { done: false };
      const made = l.build.steps.filter((s) => !s.emptyLayer && !isFrom(s));
      if (made.length === 0) return { done: false };
      return {
        done: true,
        values: {
          image: l.image.name,
          layers: layerWord(l.image.layers.length),
          baseLayers: layerWord(l.image.layers.length - made.length),
          parts: made.map((s) => `${s.instruction.split(/\s+/)[0]} ${mb(s.layerSize ?? 0)}`).join(", "),
        },
      };
    },
  },
  {
    kind: "metadata-only-step",
    summary: "The latest build has an instruction (ENV, CMD, LABEL…) that made no layer.",
    params: {},
    provides: ["instructions", "imageNote"],
    explanation:
      "{instructions} changed only the image config: the history got an entry marked empty_layer, but no files and no layer{imageNote}.",
    evaluate(f) {
      const b = f.builds.at(-1);
      const meta = b?.steps.filter((s) => s.emptyLayer && !isFrom(s)) ?? [];
      if (!b || meta.length === 0) return { done: false };
      const img = f.images.find((i) => i.id === b.image);
      return {
        done: true,
        values: {
          instructions: meta.map((s) => s.instruction.split(/\s+/)[0]).join(" and "),
          imageNote: img ? ` (the image still has ${layerWord(img.layers.length)})` : "",
        },
      };
    },
  },
  {
    kind: "cache-reused-then-rebuilt",
    summary: "The latest build took its first steps from the cache and rebuilt from a changed one on.",
    params: {},
    provides: ["cachedSteps", "instruction", "reason"],
    explanation:
      '{cachedSteps} came from the cache; "{instruction}" rebuilt because {reason}, and so did every step after it. Only the layers from the first changed step up are new.',
    evaluate(f) {
      const b = f.builds.at(-1);
      if (!b) return { done: false };
      const steps = b.steps.filter((s) => !isFrom(s));
      const firstMiss = steps.findIndex((s) => !s.cached);
      if (firstMiss <= 0 || !steps.slice(0, firstMiss).every((s) => s.cached)) return { done: false };
      const miss = steps[firstMiss]!;
      return {
        done: true,
        values: {
          cachedSteps: plural(firstMiss, "step"),
          instruction: miss.instruction,
          reason: miss.reason ?? "its input changed",
        },
      };
    },
  },
  {
    kind: "step-cached",
    summary: "Step K of the latest build (counted as the build log counts, FROM is 1) was CACHED.",
    params: {
      step: { type: "integer", required: true, minimum: 1, description: "The step's number, FROM being 1." },
    },
    provides: ["step", "instruction", "cachedSteps", "rebuiltBytes"],
    explanation:
      'Step {step}, "{instruction}", came from the cache: {cachedSteps} of the build were reused and only {rebuiltBytes} of layers were made again.',
    evaluate(f, p) {
      const b = f.builds.at(-1);
      const k = num(p, "step");
      const s = b?.steps[k - 1];
      if (!b || !s?.cached || isFrom(s)) return { done: false };
      const rebuilt = b.steps
        .filter((x) => !x.cached && !isFrom(x))
        .reduce((n, x) => n + (x.layerSize ?? 0), 0);
      return {
        done: true,
        values: {
          step: k,
          instruction: s.instruction,
          cachedSteps: plural(b.steps.filter((x) => x.cached).length, "step"),
          rebuiltBytes: mb(rebuilt),
        },
      };
    },
  },
  {
    kind: "image-smaller-than",
    summary: "The latest build's image is at least N MB smaller than the image named X.",
    params: {
      than: {
        type: "string",
        required: true,
        description: "The name of the image to compare with, e.g. app:fat.",
      },
      byAtLeastMB: {
        type: "number",
        required: true,
        minimum: 0,
        description: "Megabytes (10^6 bytes) smaller, at least.",
      },
    },
    provides: ["image", "size", "than", "thanSize", "difference"],
    explanation: "{image} is {size}, {difference} smaller than {than} ({thanSize}).",
    evaluate(f, p) {
      const l = latest(f);
      const than = str(p, "than");
      const other = f.images.find((i) => i.name === than || i.name === `${than}:latest`);
      if (!l || !other || other.id === l.image.id) return { done: false };
      const size = sum(l.image.layers);
      const otherSize = sum(other.layers);
      if (otherSize - size < num(p, "byAtLeastMB") * 1e6) return { done: false };
      return {
        done: true,
        values: {
          image: l.image.name,
          size: mb(size),
          than: other.name,
          thanSize: mb(otherSize),
          difference: mb(otherSize - size),
        },
      };
    },
  },
  {
    kind: "path-absent",
    summary: "Path P is absent from the merged tree of the latest build's image.",
    params: {
      path: { type: "string", required: true, description: "An absolute path, e.g. /usr/share/doc." },
    },
    provides: ["image", "path"],
    explanation: "{path} is not in {image}'s merged tree: no layer supplies it, or a whiteout hides it.",
    probes: (p) => [clean(str(p, "path"))],
    evaluate(f, p) {
      const l = latest(f);
      const path = clean(str(p, "path"));
      if (l?.image.present?.[path] !== false) return { done: false };
      return { done: true, values: { image: l.image.name, path: `/${path}` } };
    },
  },
  {
    kind: "whiteout-for",
    summary:
      "A layer of the latest build's image holds a whiteout for P (or, with opaque, an opaque marker in directory P).",
    params: {
      path: { type: "string", required: true, description: "The absolute path the whiteout hides." },
      opaque: {
        type: "boolean",
        description: "Require an opaque marker (.wh..wh..opq) in directory P instead.",
      },
    },
    provides: ["image", "layer", "path", "entry"],
    explanation:
      "Layer {layer} of {image} holds {entry}: the tar file that hides {path} from the layers below it.",
    evaluate(f, p) {
      const l = latest(f);
      const path = clean(str(p, "path"));
      const opaque = p.opaque === true;
      const w = l?.image.whiteouts?.find((x) => x.path === path && x.opaque === opaque);
      if (!l || !w) return { done: false };
      const slash = path.lastIndexOf("/");
      const entry = opaque
        ? `${path}/.wh..wh..opq`
        : `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
      return { done: true, values: { image: l.image.name, layer: w.layer + 1, path: `/${path}`, entry } };
    },
  },
  {
    kind: "whiteout-and-opaque",
    summary:
      "A layer of the latest build's image holds a whiteout for P (what `rm P` writes) and one holds an opaque marker in directory D (what `rm -rf D && mkdir D` writes).",
    params: {
      path: {
        type: "string",
        required: true,
        description: "The absolute path a whiteout hides, e.g. /srv/notes.txt.",
      },
      dir: {
        type: "string",
        required: true,
        description: "The absolute path of the directory made again, e.g. /srv/cache.",
      },
    },
    provides: ["image", "layer", "path", "entry", "dir", "opaqueLayer", "opaqueEntry"],
    explanation:
      "Layer {layer} of {image} holds {entry}, which hides {path}; layer {opaqueLayer} holds {opaqueEntry}, which hides everything the layers below had in {dir}.",
    evaluate(f, p) {
      const l = latest(f);
      const path = clean(str(p, "path"));
      const dir = clean(str(p, "dir"));
      const w = l?.image.whiteouts?.find((x) => x.path === path && !x.opaque);
      const o = l?.image.whiteouts?.find((x) => x.path === dir && x.opaque);
      if (!l || !w || !o) return { done: false };
      const slash = path.lastIndexOf("/");
      return {
        done: true,
        values: {
          image: l.image.name,
          layer: w.layer + 1,
          path: `/${path}`,
          entry: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`,
          dir: `/${dir}`,
          opaqueLayer: o.layer + 1,
          opaqueEntry: `${dir}/.wh..wh..opq`,
        },
      };
    },
  },
  {
    kind: "run-cached-while-later-rebuilt",
    summary:
      "In the latest build a RUN matching `run` came from the cache while a later step rebuilt (a source edit that left the install alone).",
    params: {
      run: {
        type: "string",
        required: true,
        pattern: true,
        description: "Regular expression for the RUN, e.g. npm ci.",
      },
    },
    provides: ["instruction", "installBytes", "rebuilt", "reason", "rebuiltBytes", "cachedSteps"],
    explanation:
      '"{instruction}" came from the cache, so its {installBytes} were not made again; "{rebuilt}" rebuilt because {reason}. {cachedSteps} were reused and only {rebuiltBytes} of layers were built.',
    evaluate(f, p) {
      const b = f.builds.at(-1);
      const run = new RegExp(str(p, "run"));
      const at = b ? b.steps.findIndex((s) => isRun(s) && run.test(s.instruction)) : -1;
      const s = b?.steps[at];
      if (!b || !s?.cached) return { done: false };
      const later = b.steps.slice(at + 1).find((x) => !x.cached && !isFrom(x));
      if (!later) return { done: false };
      const rebuilt = b.steps
        .filter((x) => !x.cached && !isFrom(x))
        .reduce((n, x) => n + (x.layerSize ?? 0), 0);
      return {
        done: true,
        values: {
          instruction: s.instruction,
          installBytes: mb(s.layerSize ?? 0),
          rebuilt: later.instruction,
          reason: later.reason ?? "its input changed",
          rebuiltBytes: mb(rebuilt),
          cachedSteps: plural(b.steps.filter((x) => x.cached).length, "step"),
        },
      };
    },
  },
  {
    kind: "build-stage-left-out",
    summary:
      "The latest build is multi-stage: an earlier stage made layers and none of them is in the final image.",
    params: {},
    provides: ["image", "finalSize", "finalLayers", "buildLayers", "buildBytes", "copied"],
    explanation:
      "{image} is {finalSize} in {finalLayers}. The build stage made {buildLayers} ({buildBytes}) and none of them is in the final image: COPY --from brought over only {copied}.",
    evaluate(f) {
      const l = latest(f);
      const final = l?.build.steps.at(-1)?.stage;
      if (!l || final === undefined) return { done: false };
      const earlier = l.build.steps.filter((s) => s.stage !== final && !s.emptyLayer && !isFrom(s));
      if (earlier.length === 0) return { done: false };
      const inFinal = new Set(l.image.layers.map((x) => x.id));
      if (earlier.some((s) => s.diffId === undefined || inFinal.has(s.diffId))) return { done: false };
      const copied = l.build.steps
        .filter((s) => s.stage === final && /^COPY\s.*--from/i.test(s.instruction))
        .reduce((n, s) => n + (s.layerSize ?? 0), 0);
      return {
        done: true,
        values: {
          image: l.image.name,
          finalSize: mb(sum(l.image.layers)),
          finalLayers: layerWord(l.image.layers.length),
          buildLayers: layerWord(earlier.length),
          buildBytes: mb(earlier.reduce((n, s) => n + (s.layerSize ?? 0), 0)),
          copied: mb(copied),
        },
      };
    },
  },
  {
    kind: "step-layer-shrank",
    summary:
      "The latest build's step matching `instruction` made a layer at least N MB smaller, with a new digest, than the same step in an earlier build.",
    params: {
      instruction: {
        type: "string",
        required: true,
        pattern: true,
        description: "Regular expression for the step, e.g. ^COPY \\. .",
      },
      byAtLeastMB: {
        type: "number",
        minimum: 0,
        description: "Megabytes (10^6 bytes) smaller, at least (default: any).",
      },
    },
    provides: ["instruction", "before", "after", "saved", "beforeDigest", "afterDigest"],
    explanation:
      '"{instruction}" made {after} instead of {before}: {saved} less to store and move, and a new layer ({beforeDigest} became {afterDigest}), because a layer is named by its content.',
    evaluate(f, p) {
      const match = new RegExp(str(p, "instruction"));
      const find = (b: BuildFact) => b.steps.find((s) => !s.emptyLayer && match.test(s.instruction));
      const now = f.builds.at(-1) && find(f.builds.at(-1)!);
      if (!now?.diffId) return { done: false };
      const least = num(p, "byAtLeastMB") * 1e6;
      for (let j = f.builds.length - 2; j >= 0; j--) {
        const before = find(f.builds[j]!);
        if (!before?.diffId || before.diffId === now.diffId) continue;
        const saved = (before.layerSize ?? 0) - (now.layerSize ?? 0);
        if (saved <= 0 || saved < least) continue;
        return {
          done: true,
          values: {
            instruction: now.instruction,
            before: mb(before.layerSize ?? 0),
            after: mb(now.layerSize ?? 0),
            saved: mb(saved),
            beforeDigest: before.diffId.slice(7, 19),
            afterDigest: now.diffId.slice(7, 19),
          },
        };
      }
      return { done: false };
    },
  },
  {
    kind: "wasted-by-later-delete",
    summary: "An image holds bytes a later layer deletes (computeEfficiency's waste).",
    params: {},
    provides: ["removedIn", "writtenIn", "path", "bytes", "image", "wasted"],
    explanation:
      "Layer {removedIn} hides /{path} with a whiteout, but layer {writtenIn} still holds its {bytes}: {image} wastes {wasted} in all. The Efficiency tab lists every such path.",
    evaluate(f) {
      const img = [...f.images]
        .reverse()
        .find((i) => (i.wastedBytes ?? 0) > 0 && i.topWaste?.removedIn !== undefined);
      if (!img?.topWaste || img.topWaste.removedIn === undefined) return { done: false };
      const w = img.topWaste;
      return {
        done: true,
        values: {
          removedIn: (w.removedIn ?? 0) + 1,
          writtenIn: w.writtenIn + 1,
          path: w.path,
          bytes: mb(w.bytes),
          image: img.name,
          wasted: mb(img.wastedBytes ?? 0),
        },
      };
    },
  },
  {
    kind: "run-layer-shrank",
    summary:
      "A RUN matching `run` that also matches `cleanup` made a smaller layer than an earlier build's RUN without it.",
    params: {
      run: {
        type: "string",
        pattern: true,
        description: "Regular expression for the RUN (default apt-get install).",
      },
      cleanup: {
        type: "string",
        pattern: true,
        description: "Regular expression for the clean-up (default rm -rf /var/lib/apt/lists).",
      },
    },
    provides: ["before", "after"],
    explanation:
      "The RUN layer shrank from {before} to {after}: files created and deleted within one RUN never reach a layer, so they cost nothing to store or transfer.",
    evaluate(f, p) {
      const run = new RegExp(str(p, "run") || "apt-get install");
      const cleanup = new RegExp(str(p, "cleanup") || "rm -rf /var/lib/apt/lists");
      for (let i = f.builds.length - 1; i > 0; i--) {
        const now = f.builds[i]!.steps.find((s) => isRun(s) && run.test(s.instruction));
        if (!now || !cleanup.test(now.instruction)) continue;
        for (let j = i - 1; j >= 0; j--) {
          const before = f.builds[j]!.steps.find(
            (s) => isRun(s) && run.test(s.instruction) && !cleanup.test(s.instruction),
          );
          if (before && (now.layerSize ?? 0) < (before.layerSize ?? 0)) {
            return {
              done: true,
              values: { before: mb(before.layerSize ?? 0), after: mb(now.layerSize ?? 0) },
            };
          }
        }
      }
      return { done: false };
    },
  },
  {
    kind: "container-changed",
    summary: "A container layer has modified or removed files of its image.",
    params: {},
    provides: ["name", "modified", "them", "removed"],
    explanation:
      "Container {name} changed {modified} by copying {them} up into its own layer and hid {removed} with whiteouts. The image's read-only layers did not change: every other container of the image still sees the originals.",
    evaluate(f) {
      const c = f.containers.find((x) => x.modified + x.removed > 0);
      if (!c) return { done: false };
      return {
        done: true,
        values: {
          name: c.name,
          modified: plural(c.modified, "file"),
          them: c.modified === 1 ? "it" : "them",
          removed: c.removed,
        },
      };
    },
  },
  {
    kind: "terminal-writes-only-its-layer",
    summary:
      "In a container's terminal the learner created a file and deleted one of the image's, and a second container of the same image is untouched.",
    params: {},
    provides: ["name", "made", "madeSize", "gone", "whiteout", "layer", "second"],
    explanation:
      "In {name} you created {made} ({madeSize}): it is only in the container layer, none of the image's read-only layers has it. Deleting {gone} wrote a whiteout ({whiteout}) in the container layer; the file itself is still in layer {layer} of the image. {second}, a second container of the same image, has its own empty writable layer and still sees {gone}.",
    evaluate(f) {
      for (const c of f.containers.filter((x) => (x.commands ?? 0) > 0)) {
        const made = c.changes?.find((x) => x.kind === "A" && x.type === "file");
        const gone = c.changes?.find((x) => x.kind === "D" && x.layer !== undefined);
        if (!made || !gone) continue;
        const second = f.containers.find(
          (x) =>
            x !== c && x.image === c.image && (x.changes?.length ?? x.added + x.modified + x.removed) === 0,
        );
        if (!second) continue;
        const cut = gone.path.lastIndexOf("/") + 1;
        return {
          done: true,
          values: {
            name: c.name,
            made: made.path,
            madeSize: mb(made.size ?? 0),
            gone: gone.path,
            whiteout: `${gone.path.slice(0, cut)}.wh.${gone.path.slice(cut)}`,
            layer: (gone.layer ?? 0) + 1,
            second: second.name,
          },
        };
      }
      return { done: false };
    },
  },
  {
    kind: "committed-image-shares",
    summary: "An image made by a commit shares layers with another image.",
    params: {},
    provides: ["image", "shared", "sharedBytes", "saved"],
    explanation:
      "{image} shares {shared} ({sharedBytes}) with the image it was committed from; they are stored once. Sharing saves {saved} across the library.",
    evaluate(f) {
      const img = f.images.find((i) => i.source === "commit" && i.layers.some((l) => l.sharedWith > 0));
      if (!img) return { done: false };
      const shared = img.layers.filter((l) => l.sharedWith > 0);
      return {
        done: true,
        values: {
          image: img.name,
          shared: layerWord(shared.length),
          sharedBytes: mb(sum(shared)),
          saved: mb(f.savedBytes),
        },
      };
    },
  },
  {
    kind: "layers-to-send",
    summary: "An image shares some layers with another and has some of its own (what a push would skip).",
    params: {},
    provides: ["image", "send", "of", "sendBytes", "totalBytes"],
    explanation:
      "Pushing {image} where the other image already is would send {send} of {of}: {sendBytes} of {totalBytes}. Registries and daemons ask for layers by digest and skip the ones they have.",
    evaluate(f) {
      const img = f.images.find(
        (i) =>
          i.layers.length > 1 &&
          i.layers.some((l) => l.sharedWith > 0) &&
          i.layers.some((l) => l.sharedWith === 0),
      );
      if (!img) return { done: false };
      const fresh = img.layers.filter((l) => l.sharedWith === 0);
      return {
        done: true,
        values: {
          image: img.name,
          send: layerWord(fresh.length),
          of: img.layers.length,
          sendBytes: mb(sum(fresh)),
          totalBytes: mb(sum(img.layers)),
        },
      };
    },
  },
  {
    kind: "push-sent-at-most",
    summary:
      "A real push sent at most N layers (read from the transfers LayerLab recorded; none yet without a registry).",
    params: {
      layers: {
        type: "integer",
        required: true,
        minimum: 0,
        description: "The most layers the push may send.",
      },
    },
    provides: ["image", "sent", "total", "bytes", "target"],
    explanation:
      "The push of {image} to {target} sent {sent} of {total} ({bytes}): the registry had the rest.",
    evaluate(f, p) {
      const t = [...(f.transfers ?? [])]
        .reverse()
        .find((x) => x.direction === "push" && x.layersSent <= num(p, "layers"));
      if (!t) return { done: false };
      return {
        done: true,
        values: {
          image: t.image,
          sent: layerWord(t.layersSent),
          total: t.layersTotal,
          bytes: mb(t.bytesSent),
          target: t.target,
        },
      };
    },
  },
  {
    kind: "push-sent-only-new",
    summary:
      "A push sent only the layers the registry lacked: at least one layer moved, at most N, and the rest were already there (read from the recorded transfers).",
    params: {
      layers: {
        type: "integer",
        minimum: 1,
        description: "The most layers the push may send (default 1).",
      },
    },
    provides: ["image", "target", "sent", "total", "bytes", "skipped", "firstSent"],
    explanation:
      "The push of {image} to {target} sent {sent} of {total} ({bytes}) plus its config and manifest; {skipped} were already in the registry, so nothing of them moved. The first push had sent {firstSent}.",
    evaluate(f, p) {
      const most = p.layers === undefined ? 1 : num(p, "layers");
      const all = f.transfers ?? [];
      for (let i = all.length - 1; i >= 0; i--) {
        const t = all[i]!;
        if (t.direction !== "push" || t.layersSent < 1 || t.layersSent > most) continue;
        if ((t.layersSkipped ?? t.layersTotal - t.layersSent) < 1) continue;
        const registry = t.target.split("/")[0];
        const first = all
          .slice(0, i)
          .reverse()
          .find(
            (x) =>
              x.direction === "push" && x.target.split("/")[0] === registry && x.layersSent > t.layersSent,
          );
        if (!first) continue;
        return {
          done: true,
          values: {
            image: t.image,
            target: t.target,
            sent: layerWord(t.layersSent),
            total: t.layersTotal,
            bytes: mb(t.bytesSent),
            skipped: layerWord(t.layersSkipped ?? t.layersTotal - t.layersSent),
            firstSent: `${layerWord(first.layersSent)} (${mb(first.bytesSent)})`,
          },
        };
      }
      return { done: false };
    },
  },
  {
    kind: "pull-received-then-none",
    summary:
      "A pull into a store that lacked the image received every layer, and a later pull of the same image received none (read from the recorded transfers).",
    params: {},
    provides: ["target", "total", "bytes"],
    explanation:
      "The first pull of {target} received all {total} ({bytes}): the store had none of them. The second pull asked for the same digests, found every one stored, and received nothing but the manifest.",
    evaluate(f) {
      const all = f.transfers ?? [];
      for (let i = all.length - 1; i >= 0; i--) {
        const again = all[i]!;
        if (again.direction !== "pull" || again.layersSent !== 0 || again.layersTotal === 0) continue;
        const first = all
          .slice(0, i)
          .reverse()
          .find(
            (x) =>
              x.direction === "pull" &&
              x.manifest === again.manifest &&
              x.layersSent === x.layersTotal &&
              x.layersTotal > 0,
          );
        if (!first) continue;
        return {
          done: true,
          values: { target: first.target, total: layerWord(first.layersTotal), bytes: mb(first.bytesSent) },
        };
      }
      return { done: false };
    },
  },
];

/** The catalogue entry for a kind. */
export function findCheck(kind: string): CheckDefinition | undefined {
  return CHECKS.find((c) => c.kind === kind);
}

/** Fills `{name}` placeholders with a check's values (a placeholder with no value is left as written). */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}
