import { formatBytes } from "../format.ts";
import builtinCourse from "./builtin-course.json" with { type: "json" };
import { type CheckParams, fillTemplate, findCheck } from "./checks.ts";
import { validateCourse } from "./lesson-file.ts";

/** One step of a recorded build, as the lessons read it. */
export interface BuildStepFact {
  instruction: string;
  cached: boolean;
  emptyLayer: boolean;
  layerSize?: number;
  reason?: string;
  /** The stage the step belongs to (absent in builds recorded before stages were). */
  stage?: string;
  /** The diffId of the layer the step made. */
  diffId?: string;
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
  /** Whiteouts in its layers (layer index, clean path; opaque for `.wh..wh..opq` in directory `path`). */
  whiteouts?: { layer: number; path: string; opaque: boolean }[];
  /** For the paths the lessons asked about (clean, relative): whether the merged tree has them. */
  present?: Record<string, boolean>;
}

/** Layers moved to or from a registry (recorded by a pull or push; absent until one happens). */
export interface TransferFact {
  direction: "push" | "pull";
  /** The image's name in the store (or its short id). */
  image: string;
  /** The reference pushed to or pulled from. */
  target: string;
  /** Layers whose bytes moved: sent by a push, received by a pull. */
  layersSent: number;
  layersTotal: number;
  /** Bytes of the layers that moved. */
  bytesSent: number;
  /** Layers the other side already had (skipped) or linked from another repository (mounted). */
  layersSkipped?: number;
  /** Whether the config's bytes moved. */
  configMoved?: boolean;
  /** The manifest digest pushed or pulled. */
  manifest?: string;
  /** When it finished (ms since the epoch): transfers are listed oldest first. */
  at?: number;
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
  transfers?: TransferFact[];
}

/** How a lesson stands: done or not, and what happened, with the real numbers. */
export interface LessonResult {
  done: boolean;
  /** Two or three sentences explaining the result on screen. */
  explanation?: string;
}

/** A lesson's check as a lesson file names it: a kind from the catalogue and its parameters. */
export type CheckSpec = { kind: string } & CheckParams;

/** A lesson as data (a lesson file, or one lesson of a course file). */
export interface LessonSpec {
  id: string;
  title: string;
  /** The task, in a sentence or two. */
  text: string;
  /** The Dockerfile the lesson starts from (absent: whatever is in the editor). */
  dockerfile?: string;
  /** The build context the lesson starts from, text files by path. */
  context?: Record<string, string>;
  check: CheckSpec;
  /** Explanation shown when done; `{name}` quotes the check's values. Default: the check's own. */
  explanation?: string;
}

/** An ordered list of lessons. */
export interface CourseSpec {
  id: string;
  title: string;
  lessons: LessonSpec[];
}

/** A lesson: one task, checked live against the learner's own images and builds. */
export interface Lesson {
  id: string;
  title: string;
  task: string;
  spec: LessonSpec;
  check(f: LessonFacts): LessonResult;
}

/** Turns a validated lesson into one the panel can check (its check taken from the catalogue). */
export function compileLesson(spec: LessonSpec): Lesson {
  const def = findCheck(spec.check.kind);
  if (!def) throw new Error(`no check of kind ${spec.check.kind}`);
  const template = spec.explanation ?? def.explanation;
  return {
    id: spec.id,
    title: spec.title,
    task: spec.text,
    spec,
    check(f) {
      const r = def.evaluate(f, spec.check);
      return r.done ? { done: true, explanation: fillTemplate(template, r.values) } : { done: false };
    },
  };
}

/** Paths whose presence in the latest build's merged tree these lessons read. */
export function lessonProbes(lessons: readonly LessonSpec[]): string[] {
  const out = new Set<string>();
  for (const l of lessons) for (const p of findCheck(l.check.kind)?.probes?.(l.check) ?? []) out.add(p);
  return [...out];
}

/** The course LayerLab ships, written in the same format a teacher uses (builtin-course.json). */
export const BUILTIN_COURSE: CourseSpec = validateCourse(builtinCourse, "builtin-course.json");

/** The built-in lessons, in the order the document LayerLab grew from makes its points. */
export const LESSONS: Lesson[] = BUILTIN_COURSE.lessons.map(compileLesson);

/** What the learner did, in numbers from their own builds, for a finished course's summary. */
export function summarizeWork(f: LessonFacts): string {
  const steps = f.builds.flatMap((b) => b.steps.filter((s) => !/^FROM\b/i.test(s.instruction)));
  const cached = steps.filter((s) => s.cached).length;
  const built = steps.filter((s) => !s.cached).reduce((n, s) => n + (s.layerSize ?? 0), 0);
  const builds = f.builds.length;
  return `Your last ${builds} build${builds === 1 ? "" : "s"} ran ${steps.length} steps: ${cached} came from the cache and ${formatBytes(built)} of layers were built. Your newest ${f.images.length} image${f.images.length === 1 ? "" : "s"} hold ${f.images.reduce((n, i) => n + i.layers.length, 0)} layers; layers shared between images save ${formatBytes(f.savedBytes)}.`;
}
