import { describe, expect, it } from "vitest";
import { openMemoryStore } from "../store/memory.ts";
import { buildImage } from "./builder.ts";
import { BuildCache } from "./cache.ts";
import { type ContextFileInit, contextFromFiles } from "./context.ts";
import { fakeResolver, mergedFs, readText } from "./testing.ts";
import type { BuildEvent, BuildOptions } from "./types.ts";

const DOCKERFILE = `FROM base
RUN echo 1 > /one
COPY a.txt /a.txt
RUN echo 2 > /two
COPY b.txt /b.txt
RUN cat /b.txt > /three
`;

function setup() {
  const store = openMemoryStore();
  const cache = new BuildCache();
  const run = async (files: Record<string, ContextFileInit>, extra: Partial<BuildOptions> = {}) => {
    const events: BuildEvent[] = [];
    const result = await buildImage({
      dockerfile: DOCKERFILE,
      context: contextFromFiles(files),
      store,
      cache,
      images: fakeResolver(store),
      onEvent: (e) => events.push(e),
      ...extra,
    });
    const done = events.filter((e) => e.kind === "step-done") as Extract<BuildEvent, { kind: "step-done" }>[];
    return { result, done, cached: done.map((d) => d.cached), reasons: done.map((d) => d.reason) };
  };
  return { store, cache, run };
}

describe("build cache", () => {
  it("reuses every step when nothing changed, and gives the same image", async () => {
    const { run } = setup();
    const cold = await run({ "a.txt": "A", "b.txt": "B" });
    expect(cold.cached).toEqual([false, false, false, false, false, false]);
    const warm = await run({ "a.txt": "A", "b.txt": "B" });
    expect(warm.cached).toEqual([false, true, true, true, true, true]);
    expect(warm.result.id).toBe(cold.result.id);
    expect(warm.result.cachedSteps).toBe(5);
  });

  it("changing one file rebuilds only from its COPY on, and says why", async () => {
    const { run, store } = setup();
    const cold = await run({ "a.txt": "A", "b.txt": "B" });
    const warm = await run({ "a.txt": "A", "b.txt": "B changed" });
    expect(warm.cached).toEqual([false, true, true, true, false, false]);
    expect(warm.reasons[4]).toBe("source files changed: b.txt");
    expect(warm.reasons[5]).toBe("a previous step was rebuilt");
    expect(warm.result.layers.slice(0, 4)).toEqual(cold.result.layers.slice(0, 4));
    expect(warm.result.layers[4]).not.toBe(cold.result.layers[4]);
    expect(await readText(await mergedFs(store, warm.result.id), "three")).toBe("B changed");
  });

  it("a file the sources do not name does not invalidate anything", async () => {
    const { run } = setup();
    await run({ "a.txt": "A", "b.txt": "B" });
    const warm = await run({ "a.txt": "A", "b.txt": "B", "other.txt": "new" });
    expect(warm.cached).toEqual([false, true, true, true, true, true]);
  });

  it("a changed instruction rebuilds from there", async () => {
    const { run } = setup();
    await run({ "a.txt": "A", "b.txt": "B" });
    const changed = await run(
      { "a.txt": "A", "b.txt": "B" },
      { dockerfile: DOCKERFILE.replace("echo 2 > /two", "echo 22 > /two") },
    );
    expect(changed.cached).toEqual([false, true, true, false, false, false]);
    expect(changed.reasons[3]).toBe("the instruction changed (or is new) since the last build");
  });

  it("--no-cache rebuilds everything and still gives the same image (deterministic)", async () => {
    const { run } = setup();
    const cold = await run({ "a.txt": "A", "b.txt": "B" });
    const again = await run({ "a.txt": "A", "b.txt": "B" }, { noCache: true });
    expect(again.cached.every((c) => !c)).toBe(true);
    expect(again.reasons[1]).toBe("--no-cache");
    expect(again.result.id).toBe(cold.result.id);
  });

  it("a different --build-arg value rebuilds from the ARG on", async () => {
    const { run } = setup();
    const df = "FROM base\nRUN echo base > /b\nARG V=1\nRUN echo $V > /v\n";
    await run({}, { dockerfile: df });
    const same = await run({}, { dockerfile: df });
    expect(same.cached).toEqual([false, true, true, true]);
    const other = await run({}, { dockerfile: df, buildArgs: { V: "2" } });
    expect(other.cached).toEqual([false, true, false, false]);
  });

  it("a COPY --link layer is reused even when a step below it changed", async () => {
    const { run, store } = setup();
    const df = (n: number) =>
      `FROM base\nRUN echo ${n} > /below\nCOPY --link a.txt /app/a.txt\nRUN cat /below /app/a.txt > /both\n`;
    const first = await run({ "a.txt": "A" }, { dockerfile: df(1) });
    const second = await run({ "a.txt": "A" }, { dockerfile: df(2) });
    expect(second.cached).toEqual([false, false, true, false]);
    expect(second.result.layers[2]).toBe(first.result.layers[2]);
    const fs = await mergedFs(store, second.result.id);
    expect(await readText(fs, "both")).toBe("2\nA");
  });

  it("a COPY of a symlink is invalidated when the file it points at changes", async () => {
    const { run } = setup();
    const df = "FROM base\nCOPY link /got\n";
    await run({ target: "v1", link: { symlink: "target" } }, { dockerfile: df });
    const again = await run({ target: "v2", link: { symlink: "target" } }, { dockerfile: df });
    expect(again.cached).toEqual([false, false]);
    expect(again.reasons[1]).toBe("source files changed: target");
  });

  it("a source read through a symlinked directory is part of the key: a change behind the link rebuilds", async () => {
    const { run } = setup();
    const dockerfile = "FROM base\nCOPY via/f.txt /f.txt\n";
    const files = (text: string): Record<string, ContextFileInit> => ({
      "real/f.txt": text,
      via: { symlink: "real" },
    });
    const cold = await run(files("one"), { dockerfile });
    expect(cold.cached).toEqual([false, false]);
    expect((await run(files("one"), { dockerfile })).cached).toEqual([false, true]);
    const changed = await run(files("two"), { dockerfile });
    expect(changed.cached).toEqual([false, false]);
  });
});
