import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildImage } from "../builder/builder.ts";
import { contextFromFiles } from "../builder/context.ts";
import { fakeResolver } from "../builder/testing.ts";
import type { BuildEvent } from "../builder/types.ts";
import { Containers } from "../explore/containers.ts";
import { Explorer } from "../explore/explorer.ts";
import { storeContentReader } from "../image/changeset-tar.ts";
import {
  type BlobOutcome,
  type BlobTransfer,
  sumTransfers,
  type TransferRecord,
  transfersKey,
} from "../registry/transfer.ts";
import { openMemoryStore } from "../store/memory.ts";
import { CHECKS } from "./checks.ts";
import { buildFactFromEvents, gatherLessonFacts } from "./facts.ts";
import {
  decodeSharedLesson,
  encodeSharedLesson,
  LessonFileError,
  lessonSchema,
  parseLessonFile,
  validateCourse,
} from "./lesson-file.ts";
import {
  BUILTIN_COURSE,
  type BuildFact,
  compileLesson,
  LESSONS,
  type LessonFacts,
  lessonProbes,
} from "./lessons.ts";

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), "utf8");

/** Builds in a fresh store, as the worker does, and gathers the facts the lessons read. */
async function learner() {
  const store = openMemoryStore();
  const explorer = new Explorer(store);
  const containers = new Containers(store, explorer, storeContentReader(store));
  const builds: BuildFact[] = [];
  return {
    store,
    async build(dockerfile: string, files: Record<string, string> = {}, tag = "work:latest") {
      explorer.invalidate();
      const events: BuildEvent[] = [];
      const r = await buildImage({
        dockerfile,
        context: contextFromFiles(files),
        store,
        images: fakeResolver(store),
        tags: [tag],
        onEvent: (e) => events.push(e),
      });
      builds.push(buildFactFromEvents(events, r.id, 0, tag));
    },
    facts(probes: string[] = []) {
      return gatherLessonFacts(store, explorer, containers, builds, 6, probes);
    },
  };
}

describe("lesson files", () => {
  it("a lesson written from the README alone loads and is checked against a real build", async () => {
    const course = parseLessonFile(read("./testdata/no-docs.lesson.json"));
    expect(course.lessons).toHaveLength(1);
    const lesson = compileLesson(course.lessons[0]!);
    const probes = lessonProbes(course.lessons);
    expect(probes).toEqual(["opt/data"]);
    const l = await learner();
    await l.build("FROM base\nRUN echo hi > /greeting\n");
    expect(lesson.check(await l.facts(probes)).done).toBe(false);
    await l.build(course.lessons[0]!.dockerfile!);
    expect(lesson.check(await l.facts(probes))).toEqual({
      done: true,
      explanation: "/opt/data is gone from work:latest.",
    });
  });

  it("refuses a malformed file with a message naming the field", () => {
    const good = JSON.parse(read("./testdata/no-docs.lesson.json"));
    const cases: [unknown, string, RegExp][] = [
      [{ ...good, id: "No Docs" }, "id", /lower-case/],
      [{ ...good, title: "" }, "title", /non-empty/],
      [{ ...good, text: undefined }, "text", /required/],
      [{ ...good, titel: "x" }, "titel", /not a field of a lesson/],
      [{ ...good, check: { kind: "cached" } }, "check.kind", /"cached" is not a check \(kinds: layers-made/],
      [{ ...good, check: { kind: "step-cached" } }, "check.step", /required by step-cached/],
      [{ ...good, check: { kind: "step-cached", step: 1.5 } }, "check.step", /whole number/],
      [{ ...good, check: { kind: "step-cached", step: 0 } }, "check.step", /at least 1/],
      [
        { ...good, check: { kind: "path-absent", path: "/x", depth: 2 } },
        "check.depth",
        /not a parameter of path-absent/,
      ],
      [{ ...good, check: { kind: "run-layer-shrank", run: "(" } }, "check.run", /not a regular expression/],
      [{ ...good, explanation: "{size} left" }, "explanation", /\{size\} is not a value of path-absent/],
      [{ ...good, context: { "../etc/passwd": "x" } }, 'context["../etc/passwd"]', /relative path/],
      [{ ...good, format: "layerlab-lesson/2" }, "format", /layerlab-lesson\/1/],
      [
        { id: "c", title: "C", lessons: [good, { ...good, check: { kind: "step-cached", step: "2" } }] },
        "lessons[1].check.step",
        /integer/,
      ],
      [{ id: "c", title: "C", lessons: [good, good] }, "lessons[1].id", /used by an earlier lesson/],
      [{ id: "c", title: "C", lessons: [] }, "lessons", /non-empty list/],
    ];
    for (const [value, field, message] of cases) {
      let err: unknown;
      try {
        parseLessonFile(JSON.stringify(value));
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(LessonFileError);
      expect((err as LessonFileError).field).toBe(field);
      expect((err as LessonFileError).message).toContain(`${field}: `);
      expect((err as LessonFileError).message).toMatch(message);
    }
    expect(() => parseLessonFile("{ not json")).toThrow(/lesson file: is not JSON/);
  });

  it("travels in a link fragment and comes back the same; a damaged link is refused", () => {
    const course = parseLessonFile(read("./testdata/no-docs.lesson.json"));
    const fragment = encodeSharedLesson(course);
    expect(fragment).toMatch(/^lesson=[\w-]+$/);
    expect(decodeSharedLesson(`#${fragment}`)).toEqual(course);
    const two = validateCourse({
      id: "two",
      title: "Two",
      lessons: course.lessons.concat({ ...course.lessons[0]!, id: "b" }),
    });
    expect(decodeSharedLesson(encodeSharedLesson(two))).toEqual(two);
    expect(decodeSharedLesson("df=abc")).toBeUndefined();
    expect(() => decodeSharedLesson("lesson=!!!!")).toThrow(LessonFileError);
  });

  it("the built-in course is written in the same format, and the schema and README follow the catalogue", () => {
    expect(BUILTIN_COURSE.lessons.map((l) => l.id)).toEqual(LESSONS.map((l) => l.id));
    expect(validateCourse(JSON.parse(read("./builtin-course.json")))).toEqual(BUILTIN_COURSE);
    // public/lesson.schema.json is lessonSchema() written out: regenerate it with
    // `npx tsx -e 'import("./src/core/lessons/lesson-file.ts").then(m => console.log(JSON.stringify(m.lessonSchema(), null, 2)))' > public/lesson.schema.json`
    // then `npx biome check --write public/lesson.schema.json`.
    expect(JSON.parse(read("../../../public/lesson.schema.json"))).toEqual(lessonSchema());
    const readme = read("./README.md");
    for (const c of CHECKS) expect(readme).toContain(`| \`${c.kind}\` | ${c.summary} |`);
  });
});

const img = (id: string, name: string, sizes: number[]) => ({
  id,
  name,
  source: "build",
  layers: sizes.map((size, i) => ({ id: `${id}-l${i}`, size, createdBy: "", sharedWith: 0 })),
  emptyHistory: 0,
});
const empty: LessonFacts = { images: [], builds: [], containers: [], savedBytes: 0 };
const check = (kind: string, params: Record<string, unknown> = {}) =>
  compileLesson(validateCourse({ id: "t", title: "T", text: "T", check: { kind, ...params } }).lessons[0]!);

describe("the catalogue's new checks stay unticked until the task is done", () => {
  it("step-cached reads the latest build's step K", () => {
    const c = check("step-cached", { step: 2 });
    const build = (cached: boolean) => ({
      image: "a",
      size: 0,
      steps: [
        { instruction: "FROM node:20", cached: false, emptyLayer: true },
        { instruction: "COPY package.json package-lock.json ./", cached, emptyLayer: false, layerSize: 900 },
        { instruction: "RUN npm ci", cached, emptyLayer: false, layerSize: 5_000_000 },
        {
          instruction: "COPY . .",
          cached: false,
          emptyLayer: false,
          layerSize: 4_000,
          reason: "index.js changed",
        },
      ],
    });
    expect(c.check(empty).done).toBe(false);
    expect(c.check({ ...empty, builds: [build(false)] }).done).toBe(false);
    // Cached in an earlier build but not in the latest: not done.
    expect(c.check({ ...empty, builds: [build(true), build(false)] }).done).toBe(false);
    expect(c.check({ ...empty, builds: [build(true)] }).explanation).toBe(
      'Step 2, "COPY package.json package-lock.json ./", came from the cache: 2 steps of the build were reused and only 4.00 kB of layers were made again.',
    );
    expect(check("step-cached", { step: 1 }).check({ ...empty, builds: [build(true)] }).done).toBe(false);
  });

  it("image-smaller-than compares the latest build's image with the named one", () => {
    const c = check("image-smaller-than", { than: "app:fat", byAtLeastMB: 100 });
    const fat = img("f", "app:fat", [80e6, 150e6]);
    const slim = img("s", "app:slim", [80e6, 20e6]);
    const almost = img("m", "app:mid", [80e6, 60e6]);
    const built = (id: string) => ({ image: id, size: 0, steps: [] });
    expect(c.check({ ...empty, images: [fat, almost], builds: [built("m")] }).done).toBe(false);
    expect(c.check({ ...empty, images: [slim], builds: [built("s")] }).done).toBe(false);
    expect(c.check({ ...empty, images: [fat, slim], builds: [built("f")] }).done).toBe(false);
    expect(c.check({ ...empty, images: [fat, slim], builds: [built("s")] }).explanation).toBe(
      "app:slim is 100 MB, 130 MB smaller than app:fat (230 MB).",
    );
  });

  it("whiteout-for and path-absent read the latest build's image from a real build", async () => {
    const rm = check("whiteout-for", { path: "/opt/keep" });
    const opaque = check("whiteout-for", { path: "/opt/data", opaque: true });
    const absent = check("path-absent", { path: "/opt/keep" });
    const l = await learner();
    await l.build("FROM base\nRUN echo hi > /greeting\n");
    let f = await l.facts(["opt/keep"]);
    for (const c of [rm, opaque, absent]) expect(c.check(f).done).toBe(false);
    await l.build("FROM base\nRUN rm /opt/keep\n");
    f = await l.facts(["opt/keep"]);
    expect(rm.check(f).explanation).toBe(
      "Layer 2 of work:latest holds opt/.wh.keep: the tar file that hides /opt/keep from the layers below it.",
    );
    expect(absent.check(f).done).toBe(true);
    expect(opaque.check(f).done).toBe(false);
  });

  it("whiteout-and-opaque needs both the rm's whiteout and the remade directory's opaque marker", async () => {
    const c = check("whiteout-and-opaque", { path: "/opt/keep", dir: "/opt/data" });
    const l = await learner();
    await l.build("FROM base\nRUN rm /opt/keep && rm -rf /opt/data/*\n");
    expect(c.check(await l.facts([])).done).toBe(false);
    await l.build("FROM base\nRUN rm -rf /opt/data && mkdir /opt/data\n");
    expect(c.check(await l.facts([])).done).toBe(false);
    await l.build("FROM base\nRUN rm /opt/keep\nRUN rm -rf /opt/data && mkdir /opt/data\n");
    expect(c.check(await l.facts([])).explanation).toBe(
      "Layer 2 of work:latest holds opt/.wh.keep, which hides /opt/keep; layer 3 holds opt/data/.wh..wh..opq, which hides everything the layers below had in /opt/data.",
    );
  });

  it("push-sent-at-most is not done without a recorded push, nor when the push sent more", () => {
    const c = check("push-sent-at-most", { layers: 1 });
    expect(c.check(empty).done).toBe(false);
    const t = {
      direction: "push" as const,
      image: "app:2",
      target: "localhost:5000/app:2",
      layersTotal: 3,
      bytesSent: 4_000,
    };
    expect(c.check({ ...empty, transfers: [{ ...t, layersSent: 3 }] }).done).toBe(false);
    expect(c.check({ ...empty, transfers: [{ ...t, direction: "pull", layersSent: 1 }] }).done).toBe(false);
    expect(c.check({ ...empty, transfers: [{ ...t, layersSent: 1 }] }).explanation).toBe(
      "The push of app:2 to localhost:5000/app:2 sent 1 layer of 3 (4.00 kB): the registry had the rest.",
    );
  });

  it("reads the transfers the registry client recorded, oldest first, with what moved and what was there", async () => {
    const l = await learner();
    await l.build("FROM base\nRUN echo hi > /greeting\n", {}, "example:latest");
    const facts0 = await l.facts();
    const image = facts0.images[0]!.id as `sha256:${string}`;
    expect(facts0.transfers).toEqual([]);
    const blob = (role: "layer" | "config" | "manifest", outcome: BlobOutcome, size: number) => ({
      role,
      digest: `sha256:${role}${size}` as `sha256:${string}`,
      mediaType: "x",
      size,
      outcome,
      bytesMoved: outcome === "sent" ? size : 0,
    });
    const record = (at: number, blobs: BlobTransfer[]): TransferRecord => ({
      kind: "push",
      reference: "embedded.layerlab/example:v1",
      registry: "embedded.layerlab",
      repository: "example",
      manifestDigest: "sha256:m",
      image,
      startedAt: at - 1,
      finishedAt: at,
      blobs,
      totals: sumTransfers(blobs),
      requests: {},
    });
    const later = record(20, [
      blob("layer", "skipped", 100),
      blob("layer", "sent", 5),
      blob("config", "sent", 1),
    ]);
    const earlier = record(10, [
      blob("layer", "sent", 100),
      blob("layer", "mounted", 7),
      blob("config", "sent", 1),
    ]);
    await l.store.meta.apply({ put: { kv: [{ id: transfersKey(image), value: [later, earlier] }] } });
    const facts = await l.facts();
    expect(facts.transfers?.map((t) => [t.at, t.layersSent, t.layersSkipped, t.bytesSent, t.image])).toEqual([
      [10, 1, 1, 100, "example:latest"],
      [20, 1, 1, 5, "example:latest"],
    ]);
  });
});
