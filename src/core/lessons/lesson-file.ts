/**
 * Lesson files: a teacher's lesson (or course of lessons) as JSON, checked field by field so a
 * mistake is reported where it is, plus the JSON Schema editors validate against, and the link
 * that carries a lesson in a URL fragment.
 */
import { deflateSync, inflateSync, strFromU8, strToU8 } from "fflate";
import { LayerLabError } from "../errors.ts";
import { fromBase64Url, toBase64Url } from "../view/share.ts";
import { CHECKS, type CheckParam, findCheck } from "./checks.ts";
import type { CheckSpec, CourseSpec, LessonSpec } from "./lessons.ts";

/** The format names a file declares. */
export const LESSON_FORMAT = "layerlab-lesson/1";
export const COURSE_FORMAT = "layerlab-course/1";

/** Largest lesson file accepted (a Dockerfile and a small context fit many times over). */
export const MAX_LESSON_FILE_BYTES = 1 << 20;

/** A lesson file that cannot be used; `field` says where (e.g. `lessons[2].check.step`). */
export class LessonFileError extends LayerLabError {
  readonly field: string;
  constructor(field: string, problem: string, source = "lesson file") {
    super("USAGE", `${source}: ${field ? `${field}: ` : ""}${problem}`);
    this.name = "LessonFileError";
    this.field = field;
  }
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const LESSON_KEYS = new Set([
  "$schema",
  "format",
  "id",
  "title",
  "text",
  "dockerfile",
  "context",
  "check",
  "explanation",
]);
const COURSE_KEYS = new Set(["$schema", "format", "id", "title", "lessons"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const join = (at: string, key: string) => (at ? `${at}.${key}` : key);

function text(
  o: Obj,
  key: string,
  at: string,
  src: string,
  max: number,
  required = true,
): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || v.trim() === "") {
    throw new LessonFileError(
      join(at, key),
      v === undefined ? "is required (a non-empty string)" : "must be a non-empty string",
      src,
    );
  }
  if (v.length > max) throw new LessonFileError(join(at, key), `is longer than ${max} characters`, src);
  return v;
}

function refuseUnknown(o: Obj, known: Set<string>, at: string, src: string, what: string): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k)) {
      throw new LessonFileError(
        join(at, k),
        `is not a field of a ${what} (fields: ${[...known].filter((x) => x !== "$schema").join(", ")})`,
        src,
      );
    }
  }
}

function param(v: unknown, spec: CheckParam, field: string, src: string): void {
  const bad = (msg: string) => new LessonFileError(field, msg, src);
  switch (spec.type) {
    case "string":
      if (typeof v !== "string" || v === "") throw bad("must be a non-empty string");
      if (spec.pattern) {
        try {
          new RegExp(v);
        } catch (err) {
          throw bad(`is not a regular expression (${(err as Error).message})`);
        }
      }
      return;
    case "boolean":
      if (typeof v !== "boolean") throw bad("must be true or false");
      return;
    case "number":
    case "integer":
      if (typeof v !== "number" || !Number.isFinite(v))
        throw bad(spec.type === "integer" ? "must be an integer" : "must be a number");
      if (spec.type === "integer" && !Number.isInteger(v)) throw bad("must be a whole number");
      if (spec.minimum !== undefined && v < spec.minimum) throw bad(`must be at least ${spec.minimum}`);
      return;
  }
}

function check(v: unknown, at: string, src: string): CheckSpec {
  if (!isObj(v))
    throw new LessonFileError(at, "is required: an object with a kind from the catalogue of checks", src);
  const kind = v.kind;
  if (typeof kind !== "string")
    throw new LessonFileError(join(at, "kind"), "is required (one of the catalogue's kinds)", src);
  const def = findCheck(kind);
  if (!def) {
    throw new LessonFileError(
      join(at, "kind"),
      `"${kind}" is not a check (kinds: ${CHECKS.map((c) => c.kind).join(", ")})`,
      src,
    );
  }
  for (const [k, value] of Object.entries(v)) {
    if (k === "kind") continue;
    const spec = def.params[k];
    if (!spec) {
      const known = Object.keys(def.params);
      throw new LessonFileError(
        join(at, k),
        `is not a parameter of ${kind} (${known.length ? `parameters: ${known.join(", ")}` : "it takes none"})`,
        src,
      );
    }
    param(value, spec, join(at, k), src);
  }
  for (const [k, spec] of Object.entries(def.params)) {
    if (spec.required && v[k] === undefined)
      throw new LessonFileError(join(at, k), `is required by ${kind}: ${spec.description}`, src);
  }
  return v as CheckSpec;
}

/** Checks one lesson object; `at` is where it sits in the file (for the messages). */
export function validateLesson(v: unknown, at = "", src = "lesson file"): LessonSpec {
  if (!isObj(v)) throw new LessonFileError(at, "must be an object (a lesson)", src);
  refuseUnknown(v, LESSON_KEYS, at, src, "lesson");
  if (v.format !== undefined && v.format !== LESSON_FORMAT) {
    throw new LessonFileError(join(at, "format"), `must be "${LESSON_FORMAT}"`, src);
  }
  const id = text(v, "id", at, src, 64)!;
  if (!ID.test(id))
    throw new LessonFileError(
      join(at, "id"),
      "must be lower-case letters, digits and dashes (up to 64)",
      src,
    );
  const spec: LessonSpec = {
    id,
    title: text(v, "title", at, src, 120)!,
    text: text(v, "text", at, src, 2000)!,
    check: check(v.check, join(at, "check"), src),
  };
  const dockerfile = text(v, "dockerfile", at, src, 64 * 1024, false);
  if (dockerfile !== undefined) spec.dockerfile = dockerfile;
  if (v.context !== undefined) {
    if (!isObj(v.context))
      throw new LessonFileError(join(at, "context"), "must be an object of file paths to their text", src);
    const context: Record<string, string> = {};
    for (const [path, body] of Object.entries(v.context)) {
      const field = `${join(at, "context")}["${path}"]`;
      if (
        path === "" ||
        path.startsWith("/") ||
        path.split("/").some((s) => s === ".." || s === "." || s === "")
      ) {
        throw new LessonFileError(field, "must be a relative path without empty, '.' or '..' segments", src);
      }
      if (typeof body !== "string")
        throw new LessonFileError(field, "must be the file's text (a string)", src);
      context[path] = body;
    }
    spec.context = context;
  }
  const explanation = text(v, "explanation", at, src, 2000, false);
  if (explanation !== undefined) {
    const provides = findCheck(spec.check.kind)!.provides;
    for (const [, name] of explanation.matchAll(/\{(\w+)\}/g)) {
      if (!provides.includes(name!)) {
        throw new LessonFileError(
          join(at, "explanation"),
          `{${name}} is not a value of ${spec.check.kind} (values: ${provides.map((p) => `{${p}}`).join(", ") || "none"})`,
          src,
        );
      }
    }
    spec.explanation = explanation;
  }
  return spec;
}

/** Checks a course (or a lone lesson, which becomes a course of one). */
export function validateCourse(v: unknown, src = "lesson file"): CourseSpec {
  if (!isObj(v)) throw new LessonFileError("", "must be a JSON object: a lesson or a course", src);
  if (v.lessons === undefined) {
    const lesson = validateLesson(v, "", src);
    return { id: lesson.id, title: lesson.title, lessons: [lesson] };
  }
  refuseUnknown(v, COURSE_KEYS, "", src, "course");
  if (v.format !== undefined && v.format !== COURSE_FORMAT)
    throw new LessonFileError("format", `must be "${COURSE_FORMAT}"`, src);
  const id = text(v, "id", "", src, 64)!;
  if (!ID.test(id))
    throw new LessonFileError("id", "must be lower-case letters, digits and dashes (up to 64)", src);
  const title = text(v, "title", "", src, 120)!;
  if (!Array.isArray(v.lessons) || v.lessons.length === 0) {
    throw new LessonFileError("lessons", "must be a non-empty list of lessons", src);
  }
  const seen = new Set<string>();
  const lessons = v.lessons.map((l, i) => {
    const lesson = validateLesson(l, `lessons[${i}]`, src);
    if (seen.has(lesson.id))
      throw new LessonFileError(`lessons[${i}].id`, `"${lesson.id}" is used by an earlier lesson`, src);
    seen.add(lesson.id);
    return lesson;
  });
  return { id, title, lessons };
}

/** Parses a lesson file's text (JSON) into a course; LessonFileError names the field at fault. */
export function parseLessonFile(textIn: string, src = "lesson file"): CourseSpec {
  if (textIn.length > MAX_LESSON_FILE_BYTES) {
    throw new LessonFileError("", `is larger than ${MAX_LESSON_FILE_BYTES} bytes`, src);
  }
  let value: unknown;
  try {
    value = JSON.parse(textIn);
  } catch (err) {
    throw new LessonFileError("", `is not JSON (${(err as Error).message}); lesson files are JSON`, src);
  }
  return validateCourse(value, src);
}

const PREFIX = "lesson=";

/** A URL fragment (without `#`) that carries a course or lesson, deflated and base64url-encoded. */
export function encodeSharedLesson(course: CourseSpec): string {
  const body =
    course.lessons.length === 1 && course.id === course.lessons[0]!.id ? course.lessons[0]! : course;
  return PREFIX + toBase64Url(deflateSync(strToU8(JSON.stringify(body)), { level: 9 }));
}

/** The course in a fragment made by encodeSharedLesson; undefined when it holds none. Throws LessonFileError when it is damaged or invalid. */
export function decodeSharedLesson(fragment: string): CourseSpec | undefined {
  const f = fragment.startsWith("#") ? fragment.slice(1) : fragment;
  if (!f.startsWith(PREFIX)) return undefined;
  let textIn: string;
  try {
    textIn = strFromU8(inflateSync(fromBase64Url(f.slice(PREFIX.length))));
  } catch {
    throw new LessonFileError("", "the link is damaged (its lesson could not be unpacked)", "lesson link");
  }
  return parseLessonFile(textIn, "lesson link");
}

/** The JSON Schema of lesson and course files, made from the catalogue (public/lesson.schema.json). */
export function lessonSchema(): object {
  const checkVariants = CHECKS.map((c) => ({
    type: "object",
    description: c.summary,
    properties: {
      kind: { const: c.kind },
      ...Object.fromEntries(
        Object.entries(c.params).map(([k, p]) => [
          k,
          {
            type: p.type,
            description: p.description,
            ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
            ...(p.pattern ? { format: "regex" } : {}),
          },
        ]),
      ),
    },
    required: [
      "kind",
      ...Object.entries(c.params)
        .filter(([, p]) => p.required)
        .map(([k]) => k),
    ],
    additionalProperties: false,
  }));
  const lesson = {
    type: "object",
    properties: {
      $schema: { type: "string" },
      format: { const: LESSON_FORMAT },
      id: {
        type: "string",
        pattern: ID.source,
        description: "Names the lesson's progress; unique in its course.",
      },
      title: { type: "string", minLength: 1, maxLength: 120 },
      text: { type: "string", minLength: 1, maxLength: 2000, description: "The task, in a sentence or two." },
      dockerfile: { type: "string", maxLength: 65536, description: "The Dockerfile the lesson starts from." },
      context: {
        type: "object",
        description: "The build context the lesson starts from: relative paths to the files' text.",
        additionalProperties: { type: "string" },
      },
      check: { oneOf: checkVariants },
      explanation: {
        type: "string",
        maxLength: 2000,
        description: "Shown when done; {name} quotes a value of the check (see the catalogue).",
      },
    },
    required: ["id", "title", "text", "check"],
    additionalProperties: false,
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://layerlab.local/lesson.schema.json",
    title: "LayerLab lesson or course",
    oneOf: [
      { $ref: "#/$defs/lesson" },
      {
        type: "object",
        properties: {
          $schema: { type: "string" },
          format: { const: COURSE_FORMAT },
          id: { type: "string", pattern: ID.source },
          title: { type: "string", minLength: 1, maxLength: 120 },
          lessons: { type: "array", minItems: 1, items: { $ref: "#/$defs/lesson" } },
        },
        required: ["id", "title", "lessons"],
        additionalProperties: false,
      },
    ],
    $defs: { lesson },
  };
}
