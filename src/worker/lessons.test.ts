import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinResolver } from "../core/builder/builtins.ts";
import { listLayerEntries } from "../core/image/raw-layer.ts";
import { BUILTIN_COURSE } from "../core/lessons/lessons.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { CallContext } from "./handlers.ts";
import { createHandlers } from "./handlers.ts";

const catalog = async (file: string) =>
  new Uint8Array(readFileSync(new URL(`../../public/catalog/${file}`, import.meta.url)));

const ctx: CallContext = { progress() {}, emit() {}, signal: new AbortController().signal };

/** A learner at work: the worker's own handlers over a fresh store, as the page calls them. */
function learner(lessonId: string) {
  const store = openMemoryStore();
  const h = createHandlers(store, { builtins: builtinResolver(catalog) });
  const lesson = BUILTIN_COURSE.lessons.find((l) => l.id === lessonId)!;
  const context: Record<string, string> = { ...lesson.context };
  return {
    store,
    lesson,
    context,
    build: (dockerfile = lesson.dockerfile!) =>
      h["image.build"]({ dockerfile, context, tag: "lesson:latest" }, ctx),
    async result() {
      const r = await h["lessons.check"](undefined, ctx);
      return r.results[`layerlab/${lessonId}`]!;
    },
  };
}

describe("the new lessons, walked on real builds: unticked until the task is done", () => {
  it("Order for the cache: a source edit re-runs npm ci after COPY . ., and leaves it cached once the manifest is copied first", async () => {
    const l = learner("cache-order");
    await l.build();
    expect((await l.result()).done).toBe(false);
    l.context["index.js"] += "// edited\n";
    await l.build();
    // COPY . . changed, so npm ci ran again: not done.
    expect((await l.result()).done).toBe(false);
    const ordered =
      'FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD ["node", "index.js"]\n';
    await l.build(ordered);
    expect((await l.result()).done).toBe(false);
    // Building again with nothing changed reuses everything: still not the lesson's point.
    await l.build(ordered);
    expect((await l.result()).done).toBe(false);
    l.context["index.js"] += "// edited again\n";
    await l.build(ordered);
    const r = await l.result();
    expect(r.done).toBe(true);
    expect(r.explanation).toMatch(
      /^"RUN npm ci" came from the cache, so its [\d.]+ MB were not made again; "COPY \. \." rebuilt because source files changed: index\.js\. 3 steps were reused and only [\d.]+ kB of layers were built\.$/,
    );
  }, 120_000);

  it("Multi-stage builds: the build stage's layers are not in the final image", async () => {
    const l = learner("multi-stage");
    await l.build();
    expect((await l.result()).done).toBe(false);
    await l.build(
      "FROM ubuntu:20.04 AS build\nRUN apt-get update && apt-get install -y python3\nCOPY . /src\nRUN mkdir /out && cp /src/app.py /out/app.py\nFROM busybox\nCOPY --from=build /out /app\n",
    );
    const r = await l.result();
    expect(r.done).toBe(true);
    expect(r.explanation).toMatch(
      /^lesson:latest is [\d.]+ [kM]B in 2 layers\. The build stage made 3 layers \([\d.]+ MB\) and none of them is in the final image: COPY --from brought over only [\d.]+ kB\.$/,
    );
  }, 120_000);

  it("What a layer is on disk: the rm's .wh. file and the opaque marker of the remade directory, listed in the raw view", async () => {
    const l = learner("layer-on-disk");
    await l.build();
    expect((await l.result()).done).toBe(false);
    // Half the task: a whiteout, but the directory was only emptied (per-file whiteouts, no marker).
    await l.build(`${l.lesson.dockerfile}RUN rm /srv/notes.txt && rm -rf /srv/cache/*\n`);
    expect((await l.result()).done).toBe(false);
    // The other half alone: the marker, but no file removed.
    await l.build(`${l.lesson.dockerfile}RUN rm -rf /srv/cache && mkdir /srv/cache\n`);
    expect((await l.result()).done).toBe(false);
    const r = await l.build(
      `${l.lesson.dockerfile}RUN rm /srv/notes.txt && rm -rf /srv/cache && mkdir /srv/cache\n`,
    );
    const result = await l.result();
    expect(result.done).toBe(true);
    expect(result.explanation).toContain("Layer 3 of lesson:latest holds srv/.wh.notes.txt");
    expect(result.explanation).toContain("and srv/cache/.wh..wh..opq");
    const image = (await l.store.meta.get("images", r.id))!;
    const top = (await l.store.meta.get("layers", image.layers.at(-1)!))!;
    const names = (await listLayerEntries(l.store, top)).map((e) => e.name);
    expect(names.filter((n) => n.startsWith("srv"))).toEqual([
      "srv/",
      "srv/.wh.notes.txt",
      "srv/cache/",
      "srv/cache/.wh..wh..opq",
    ]);
  }, 120_000);

  it(".dockerignore: excluding the log shrinks the COPY layer and changes its digest", async () => {
    const l = learner("dockerignore");
    await l.build();
    expect((await l.result()).done).toBe(false);
    await l.build();
    expect((await l.result()).done).toBe(false);
    l.context[".dockerignore"] = "logs/\n";
    await l.build();
    const r = await l.result();
    expect(r.done).toBe(true);
    expect(r.explanation).toMatch(
      /^"COPY \. \/app" made [\d.]+ kB instead of [\d.]+ kB: [\d.]+ kB less to store and move, and a new layer \([0-9a-f]{12} became [0-9a-f]{12}\)/,
    );
  }, 120_000);
});
