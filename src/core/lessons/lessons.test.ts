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
    // Sharing alone is not a transfer: the lesson waits for real pushes.
    expect(lesson("transfers").check(f).done).toBe(false);
  });

  it("only missing layers move: two real pushes, then a pull into an empty store and a pull again", () => {
    const push = (layersSent: number, target: string, bytesSent: number, at: number) => ({
      direction: "push" as const,
      image: "example:latest",
      target,
      layersSent,
      layersTotal: 4,
      layersSkipped: 4 - layersSent,
      bytesSent,
      configMoved: true,
      manifest: `sha256:${at}`,
      at,
    });
    const f: LessonFacts = { images: [], builds: [], containers: [], savedBytes: 0 };
    const first = push(4, "embedded.layerlab/example:v1", 144_000_000, 1);
    const again = push(0, "embedded.layerlab/example:v1", 0, 2);
    const second = push(1, "embedded.layerlab/example:v2", 2_048, 3);
    // One push, or the same image pushed twice (nothing sent), is not the lesson.
    expect(lesson("transfers").check({ ...f, transfers: [first] }).done).toBe(false);
    expect(lesson("transfers").check({ ...f, transfers: [first, again] }).done).toBe(false);
    // The changed image's push, with no earlier push to compare, is not either.
    expect(lesson("transfers").check({ ...f, transfers: [second] }).done).toBe(false);
    expect(lesson("transfers").check({ ...f, transfers: [first, again, second] }).explanation).toBe(
      "The push of example:latest to embedded.layerlab/example:v2 sent 1 layer of 4 (2.05 kB) plus its config and manifest; 3 layers were already in the registry, so nothing of them moved. The first push had sent 4 layers (144 MB).",
    );

    const pull = (layersSent: number, at: number, manifest = "sha256:m2") => ({
      direction: "pull" as const,
      image: "example:v2",
      target: "embedded.layerlab/example:v2",
      layersSent,
      layersTotal: 4,
      layersSkipped: 4 - layersSent,
      bytesSent: layersSent * 1000,
      manifest,
      at,
    });
    const pm = lesson("pull-missing");
    expect(pm.check({ ...f, transfers: [pull(4, 4)] }).done).toBe(false);
    // A pull that found everything, with no full pull of that image before it, is not enough.
    expect(pm.check({ ...f, transfers: [pull(4, 4, "sha256:other"), pull(0, 5)] }).done).toBe(false);
    expect(pm.check({ ...f, transfers: [pull(2, 4), pull(0, 5)] }).done).toBe(false);
    expect(pm.check({ ...f, transfers: [pull(4, 4), pull(0, 5)] }).explanation).toBe(
      "The first pull of embedded.layerlab/example:v2 received all 4 layers (4.00 kB): the store had none of them. The second pull asked for the same digests, found every one stored, and received nothing but the manifest.",
    );
  });
});
