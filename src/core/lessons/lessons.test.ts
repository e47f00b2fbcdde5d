import { describe, expect, it } from "vitest";
import { LESSONS, type LessonFacts } from "./lessons.ts";

const lesson = (id: string) => LESSONS.find((l) => l.id === id)!;
const empty: LessonFacts = { images: [], builds: [], containers: [], savedBytes: 0 };

const base = { id: "l0", size: 77_900_000, createdBy: "base", sharedWith: 0 };
const run = { id: "l1", size: 66_200_000, createdBy: "RUN apt-get", sharedWith: 0 };
const copy = { id: "l2", size: 3_580, createdBy: "COPY . /app", sharedWith: 0 };
const example = {
  id: "img1",
  name: "layerlab/example:latest",
  source: "build",
  layers: [base, run, copy],
  emptyHistory: 0,
};
const firstBuild = {
  image: "img1",
  size: 144_103_580,
  steps: [
    { instruction: "FROM ubuntu:20.04", cached: false, emptyLayer: true },
    {
      instruction: "RUN apt-get update && apt-get install -y python3",
      cached: false,
      emptyLayer: false,
      layerSize: 66_200_000,
    },
    { instruction: "COPY . /app", cached: false, emptyLayer: false, layerSize: 3_580 },
  ],
};

describe("lessons", () => {
  it("nothing is done before anything happened", () => {
    for (const l of LESSONS) expect(l.check(empty).done).toBe(false);
  });

  it("the first build explains the layers with their sizes", () => {
    const r = lesson("layers").check({ ...empty, images: [example], builds: [firstBuild] });
    expect(r.done).toBe(true);
    expect(r.explanation).toContain("3 layers");
    expect(r.explanation).toContain("RUN 66.2 MB");
    expect(r.explanation).toContain("1 layer from its base image");
  });

  it("a rebuild after a context change explains the cache", () => {
    const rebuild = {
      ...firstBuild,
      steps: [
        firstBuild.steps[0]!,
        { ...firstBuild.steps[1]!, cached: true },
        { ...firstBuild.steps[2]!, cached: false, reason: "app.py changed" },
      ],
    };
    const r = lesson("cache").check({ ...empty, images: [example], builds: [firstBuild, rebuild] });
    expect(r).toMatchObject({ done: true });
    expect(r.explanation).toContain("1 step came from the cache");
    expect(r.explanation).toContain("app.py changed");
    expect(lesson("cache").check({ ...empty, builds: [firstBuild] }).done).toBe(false);
  });

  it("a later rm names the wasted bytes and the layers involved", () => {
    const img = {
      ...example,
      wastedBytes: 40_000_000,
      topWaste: { path: "var/cache/apt", bytes: 30_000_000, writtenIn: 1, removedIn: 3 },
    };
    const r = lesson("waste").check({ ...empty, images: [img] });
    expect(r.explanation).toContain("Layer 4 hides /var/cache/apt");
    expect(r.explanation).toContain("layer 2 still holds its 30.0 MB");
  });

  it("cleaning in the same RUN compares the RUN layer before and after", () => {
    const cleaned = {
      ...firstBuild,
      steps: [
        firstBuild.steps[0]!,
        {
          instruction: "RUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*",
          cached: false,
          emptyLayer: false,
          layerSize: 21_000_000,
        },
      ],
    };
    const r = lesson("same-run").check({ ...empty, builds: [firstBuild, cleaned] });
    expect(r.explanation).toContain("from 66.2 MB to 21.0 MB");
  });

  it("container edits, commits, sharing and transfers", () => {
    const committed = {
      id: "img2",
      name: "demo:edited",
      source: "commit",
      layers: [
        { ...base, sharedWith: 1 },
        { ...run, sharedWith: 1 },
        { ...copy, sharedWith: 1 },
        { id: "l3", size: 2048, createdBy: "commit", sharedWith: 0 },
      ],
      emptyHistory: 0,
    };
    const f: LessonFacts = {
      images: [example, committed],
      builds: [firstBuild],
      containers: [{ name: "c1", image: "img1", added: 0, modified: 1, removed: 1 }],
      savedBytes: 144_103_580,
    };
    expect(lesson("container-layer").check(f).done).toBe(false);
    expect(lesson("sharing").check(f).explanation).toContain("shares 3 layers (144 MB)");
    expect(lesson("transfers").check(f).explanation).toContain("send 1 layer of 4: 2.05 kB of 144 MB");
  });
});
