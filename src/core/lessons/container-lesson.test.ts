import { describe, expect, it } from "vitest";
import { Containers } from "../explore/containers.ts";
import { Explorer } from "../explore/explorer.ts";
import { storeTestImage } from "../explore/shell-testing.ts";
import { Shells } from "../explore/shells.ts";
import { storeContentReader } from "../fs/container-store.ts";
import { openMemoryStore } from "../store/memory.ts";
import { gatherLessonFacts } from "./facts.ts";
import { LESSONS } from "./lessons.ts";

const lesson = LESSONS.find((l) => l.id === "container-layer")!;

describe("lesson: the container layer is the only writable one (done in the terminal)", () => {
  it("is checked from the real containers: a file made, a whiteout, an untouched second container", async () => {
    const store = openMemoryStore();
    const image = await storeTestImage(store);
    const explorer = new Explorer(store);
    const read = storeContentReader(store);
    const containers = new Containers(store, explorer, read);
    const shells = new Shells(containers, explorer, read);
    const facts = () => gatherLessonFacts(store, explorer, containers, []);

    const a = await containers.create(image);
    await shells.exec(a.id, "echo hello > /app/new.txt");
    expect(lesson.check(await facts()).done).toBe(false);
    await shells.exec(a.id, "rm /app/README");
    // Not yet: no second container.
    expect(lesson.check(await facts()).done).toBe(false);
    const b = await containers.create(image);
    await shells.exec(b.id, "ls /app");
    const r = lesson.check(await facts());
    expect(r.done).toBe(true);
    expect(r.explanation).toBe(
      `In ${a.name} you created /app/new.txt (6 B): it is only in the container layer, none of the image's read-only layers has it. Deleting /app/README wrote a whiteout (/app/.wh.README) in the container layer; the file itself is still in layer 1 of the image. ${b.name}, a second container of the same image, has its own empty writable layer and still sees /app/README.`,
    );
  });

  it("edits through the file buttons alone do not count: the lesson is done in a terminal", async () => {
    const store = openMemoryStore();
    const image = await storeTestImage(store);
    const explorer = new Explorer(store);
    const containers = new Containers(store, explorer, storeContentReader(store));
    const a = await containers.create(image);
    await containers.apply(a.id, { kind: "write", path: "/app/new.txt", text: "x" });
    await containers.apply(a.id, { kind: "rm", path: "/app/README" });
    await containers.create(image);
    expect(lesson.check(await gatherLessonFacts(store, explorer, containers, [])).done).toBe(false);
  });
});
