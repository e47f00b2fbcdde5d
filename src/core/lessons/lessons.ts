import { formatBytes } from "../format.ts";

/** One step of a recorded build, as the lessons read it. */
export interface BuildStepFact {
  instruction: string;
  cached: boolean;
  emptyLayer: boolean;
  layerSize?: number;
  reason?: string;
}

/** A build LayerLab ran: its steps and the image it made. */
export interface BuildFact {
  image: string;
  name?: string;
  steps: BuildStepFact[];
  size: number;
}

/** An image in the store, with its layers bottom first. */
export interface ImageFact {
  id: string;
  name: string;
  source: string;
  layers: { id: string; size: number; createdBy: string; sharedWith: number }[];
  emptyHistory: number;
  /** Bytes a later layer deletes or overwrites (see computeEfficiency), and the largest such path. */
  wastedBytes?: number;
  topWaste?: { path: string; bytes: number; writtenIn: number; removedIn?: number };
}

/** A container: its counts, and (when gathered) the commands its terminal ran and its docker diff. */
export interface ContainerFact {
  name: string;
  image: string;
  added: number;
  modified: number;
  removed: number;
  /** Command lines run in its terminal. */
  commands?: number;
  /**
   * `docker diff` lines; for a file the container wrote, its size; for a deleted path, the image
   * layer (0-based) that still holds it.
   */
  changes?: { kind: "A" | "C" | "D"; path: string; type?: string; size?: number; layer?: number }[];
}

/** What the lessons can see of the learner's work. */
export interface LessonFacts {
  images: ImageFact[];
  builds: BuildFact[];
  containers: ContainerFact[];
  savedBytes: number;
}

/** How a lesson stands: done or not, and what happened, with the real numbers. */
export interface LessonResult {
  done: boolean;
  /** Two or three sentences explaining the result on screen. */
  explanation?: string;
}

/** A lesson: one task, checked live against the learner's own images and builds. */
export interface Lesson {
  id: string;
  title: string;
  task: string;
  check(f: LessonFacts): LessonResult;
}

const mb = formatBytes;
const isRun = (s: BuildStepFact) => /^RUN\b/i.test(s.instruction);
const isFrom = (s: BuildStepFact) => /^FROM\b/i.test(s.instruction);

function layerWord(n: number): string {
  return `${n} layer${n === 1 ? "" : "s"}`;
}

/** The lessons, in the order the document LayerLab grew from makes its points. */
export const LESSONS: Lesson[] = [
  {
    id: "layers",
    title: "An image is a stack of layers",
    task: "Build the example Dockerfile (it is built for you on your first visit).",
    check(f) {
      const b = f.builds.at(-1);
      const img = b && f.images.find((i) => i.id === b.image);
      if (!b || !img) return { done: false };
      const made = b.steps.filter((s) => !s.emptyLayer && !isFrom(s));
      const parts = made.map((s) => `${s.instruction.split(/\s+/)[0]} ${mb(s.layerSize ?? 0)}`).join(", ");
      return {
        done: made.length > 0,
        explanation: `${img.name} has ${layerWord(img.layers.length)}: ${layerWord(img.layers.length - made.length)} from its base image, then one per filesystem-changing instruction (${parts}). Each is read-only and named by the sha256 of its content.`,
      };
    },
  },
  {
    id: "metadata",
    title: "Some instructions make no layer",
    task: 'Add a line such as ENV GREETING=hello or CMD ["python3", "/app/app.py"] and build again.',
    check(f) {
      const b = f.builds.at(-1);
      const meta = b?.steps.filter((s) => s.emptyLayer && !isFrom(s)) ?? [];
      if (!b || meta.length === 0) return { done: false };
      const img = f.images.find((i) => i.id === b.image);
      return {
        done: true,
        explanation: `${meta.map((s) => s.instruction.split(/\s+/)[0]).join(" and ")} changed only the image config: the history got an entry marked empty_layer, but no files and no layer${img ? ` (the image still has ${layerWord(img.layers.length)})` : ""}.`,
      };
    },
  },
  {
    id: "cache",
    title: "The build cache reuses unchanged steps",
    task: "Edit a file in the Build context tab (say app.py) and build again.",
    check(f) {
      const b = f.builds.at(-1);
      if (!b) return { done: false };
      const steps = b.steps.filter((s) => !isFrom(s));
      const firstMiss = steps.findIndex((s) => !s.cached);
      if (firstMiss <= 0 || !steps.slice(0, firstMiss).every((s) => s.cached)) return { done: false };
      const miss = steps[firstMiss]!;
      return {
        done: true,
        explanation: `${firstMiss} step${firstMiss === 1 ? "" : "s"} came from the cache; "${miss.instruction}" rebuilt because ${miss.reason ?? "its input changed"}, and so did every step after it. Only the layers from the first changed step up are new.`,
      };
    },
  },
  {
    id: "waste",
    title: "Deleting in a later layer does not shrink the image",
    task: "Add a new line RUN rm -rf /var/cache/apt /var/lib/apt/lists and build again.",
    check(f) {
      const img = [...f.images]
        .reverse()
        .find((i) => (i.wastedBytes ?? 0) > 0 && i.topWaste?.removedIn !== undefined);
      if (!img?.topWaste) return { done: false };
      const w = img.topWaste;
      return {
        done: true,
        explanation: `Layer ${w.removedIn! + 1} hides /${w.path} with a whiteout, but layer ${w.writtenIn + 1} still holds its ${mb(w.bytes)}: ${img.name} wastes ${mb(img.wastedBytes!)} in all. The Efficiency tab lists every such path.`,
      };
    },
  },
  {
    id: "same-run",
    title: "Clean up in the same RUN",
    task: "Instead, end the apt-get RUN with && rm -rf /var/lib/apt/lists/* and build again.",
    check(f) {
      for (let i = f.builds.length - 1; i > 0; i--) {
        const now = f.builds[i]!.steps.find((s) => isRun(s) && /apt-get install/.test(s.instruction));
        if (!now || !/rm -rf \/var\/lib\/apt\/lists/.test(now.instruction)) continue;
        for (let j = i - 1; j >= 0; j--) {
          const before = f.builds[j]!.steps.find(
            (s) =>
              isRun(s) &&
              /apt-get install/.test(s.instruction) &&
              !/rm -rf \/var\/lib\/apt\/lists/.test(s.instruction),
          );
          if (before && (now.layerSize ?? 0) < (before.layerSize ?? 0)) {
            return {
              done: true,
              explanation: `The RUN layer shrank from ${mb(before.layerSize ?? 0)} to ${mb(now.layerSize ?? 0)}: files created and deleted within one RUN never reach a layer, so they cost nothing to store or transfer.`,
            };
          }
        }
      }
      return { done: false };
    },
  },
  {
    id: "container-layer",
    title: "The container layer is the only writable one",
    task: "Press Run (docker run -it) and, in the terminal, create a file (echo hello > /app/new.txt) and delete one the image has (rm /app/README). Then press Run again for a second container of the same image and look (ls /app).",
    check(f) {
      const used = f.containers.filter((x) => (x.commands ?? 0) > 0);
      for (const c of used) {
        const made = c.changes?.find((x) => x.kind === "A" && x.type === "file");
        const gone = c.changes?.find((x) => x.kind === "D" && x.layer !== undefined);
        if (!made || !gone) continue;
        const second = f.containers.find(
          (x) =>
            x !== c && x.image === c.image && (x.changes?.length ?? x.added + x.modified + x.removed) === 0,
        );
        if (!second) continue;
        const base = gone.path.slice(gone.path.lastIndexOf("/") + 1);
        const dir = gone.path.slice(0, gone.path.lastIndexOf("/") + 1);
        return {
          done: true,
          explanation: `In ${c.name} you created ${made.path} (${mb(made.size ?? 0)}): it is only in the container layer, none of the image's read-only layers has it. Deleting ${gone.path} wrote a whiteout (${dir}.wh.${base}) in the container layer; the file itself is still in layer ${(gone.layer ?? 0) + 1} of the image. ${second.name}, a second container of the same image, has its own empty writable layer and still sees ${gone.path}.`,
        };
      }
      return { done: false };
    },
  },
  {
    id: "sharing",
    title: "Images share layers, stored once",
    task: "Commit the container layer as a new image (for example demo:edited).",
    check(f) {
      const img = f.images.find((i) => i.source === "commit" && i.layers.some((l) => l.sharedWith > 0));
      if (!img) return { done: false };
      const shared = img.layers.filter((l) => l.sharedWith > 0);
      return {
        done: true,
        explanation: `${img.name} shares ${layerWord(shared.length)} (${mb(shared.reduce((n, l) => n + l.size, 0))}) with the image it was committed from; they are stored once. Sharing saves ${mb(f.savedBytes)} across the library.`,
      };
    },
  },
  {
    id: "transfers",
    title: "Only missing layers move",
    task: "With two images that share a base, compare what a push of the second one would send.",
    check(f) {
      const img = f.images.find(
        (i) =>
          i.layers.length > 1 &&
          i.layers.some((l) => l.sharedWith > 0) &&
          i.layers.some((l) => l.sharedWith === 0),
      );
      if (!img) return { done: false };
      const fresh = img.layers.filter((l) => l.sharedWith === 0);
      const total = img.layers.reduce((n, l) => n + l.size, 0);
      const send = fresh.reduce((n, l) => n + l.size, 0);
      return {
        done: true,
        explanation: `Pushing ${img.name} where the other image already is would send ${layerWord(fresh.length)} of ${img.layers.length}: ${mb(send)} of ${mb(total)}. Registries and daemons ask for layers by digest and skip the ones they have.`,
      };
    },
  },
];
