import { createReadStream } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { storeContentReader } from "../fs/container-store.ts";
import { importArchive } from "../image/import.ts";
import { summarizeLibrary } from "../library/library.ts";
import { openMemoryStore } from "../store/memory.ts";
import { KIND_BY_CODE, nodePath, type TreeSnapshot } from "../view/tree.ts";
import { Containers, NAME_WORDS, pickContainerName } from "./containers.ts";
import { Explorer } from "./explorer.ts";

// The same image twice: as skopeo's docker-archive (plain tar layers, stored as they are) and as
// an OCI layout with gzip layers (stored as they came; their tars decoded on first read).
const FIXTURES = ["skopeo-docker-archive.tar", "oci.tar"] as const;
let FIXTURE: URL;

async function setup(store = openMemoryStore()) {
  const r = await importArchive(store, createReadStream(FIXTURE));
  const explorer = new Explorer(store);
  let t = 1_700_000_000_000;
  const containers = new Containers(store, explorer, storeContentReader(store), () => (t += 1000));
  return { store, image: r.images[0]!.record.id, imported: r.images.length, explorer, containers };
}

function kinds(snap: TreeSnapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i < snap.names.length; i++)
    if (snap.real[i]) out[nodePath(snap, i)] = KIND_BY_CODE[snap.kind[i]!]!;
  return out;
}

describe.each(FIXTURES)("container layers (%s)", (fixture) => {
  beforeAll(() => {
    FIXTURE = new URL(`../../testdata/archives/${fixture}`, import.meta.url);
  });

  it("a write copies the file up, a delete is a whiteout; the image layers never change", async () => {
    const { image, containers, explorer } = await setup();
    const c = await containers.create(image, "demo");
    await containers.apply(c.id, { kind: "write", path: "/etc/os-release", text: "edited\n" });
    const s = await containers.apply(c.id, { kind: "rm", path: "/opt/keep" });
    expect(s).toMatchObject({ modified: 1, removed: 1, added: 0, canUndo: true });
    const f = await containers.file(c.id, "/etc/os-release");
    expect(new TextDecoder().decode(f.bytes)).toBe("edited\n");
    expect(f.copiedUpFrom).toBe(1);
    expect(f.shadows).toEqual([1, 0]);
    const k = kinds(await containers.tree(c.id));
    expect(k["etc/os-release"]).toBe("modified");
    expect(k["opt/keep"]).toBe("removed");
    expect(k["etc/passwd"]).toBe("unchanged");
    const lower = await explorer.file(image, 1, "etc/os-release");
    expect(new TextDecoder().decode(lower.bytes)).toBe("base-os 2.0\n");
  });

  it("undo takes back the last edit; reset discards all; errors are POSIX-like", async () => {
    const { image, containers } = await setup();
    const c = await containers.create(image);
    await containers.apply(c.id, { kind: "mkdir", path: "/work" });
    await containers.apply(c.id, { kind: "write", path: "/work/a.txt", text: "a" });
    let s = await containers.undoLast(c.id);
    expect(s.added).toBe(1);
    await expect(containers.apply(c.id, { kind: "rm", path: "/nope" })).rejects.toThrow(/ENOENT/);
    await expect(containers.apply(c.id, { kind: "write", path: "/etc", text: "x" })).rejects.toThrow(
      /EISDIR/,
    );
    s = await containers.reset(c.id);
    expect(s).toMatchObject({ added: 0, modified: 0, removed: 0 });
  });

  it("survives a reopen of the store", async () => {
    const store = openMemoryStore();
    const first = await setup(store);
    const c = await first.containers.create(first.image, "keep");
    await first.containers.apply(c.id, { kind: "write", path: "/srv/app/new.py", text: "print(1)\n" });
    const again = new Containers(store, new Explorer(store), storeContentReader(store));
    const [listed] = await again.list(first.image);
    expect(listed).toMatchObject({ name: "keep", added: 1 });
    const f = await again.file(c.id, "srv/app/new.py");
    expect(new TextDecoder().decode(f.bytes)).toBe("print(1)\n");
  });

  it("commit makes a new image with one more layer that shares the others", async () => {
    const { store, image, imported, containers, explorer } = await setup();
    const c = await containers.create(image);
    await containers.apply(c.id, { kind: "write", path: "/etc/os-release", text: "edited\n" });
    await containers.apply(c.id, { kind: "rm", path: "/opt/keep" });
    const { image: committed, container } = await containers.commit(c.id, "demo:edited");
    expect(container).toMatchObject({ image: committed, added: 0, modified: 0, removed: 0 });
    const view = await explorer.image(committed);
    expect(view.image.names).toEqual(["demo:edited"]);
    expect(view.image.source).toBe("commit");
    expect(view.layers).toHaveLength(3);
    expect(view.history.at(-1)!.createdBy).toContain("layerlab commit");
    const k = kinds(await explorer.tree(committed, 2, "changes"));
    expect(k).toMatchObject({ "etc/os-release": "modified", "opt/keep": "removed" });
    const lib = summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers"));
    expect(lib.images.find((i) => i.id === committed)!.layers.map((l) => l.sharedWith)).toEqual([
      imported,
      imported,
      0,
    ]);
    await expect(containers.commit(c.id, "again")).rejects.toThrow(/no changes/);
  });
});

describe("container names (docker run's adjective_surname)", () => {
  it("are chosen at random, so two page loads do not name their first container alike", () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) names.add(pickContainerName(new Set()));
    for (const n of names) expect(n).toMatch(/^[a-z]+_[a-z]+$/);
    // 20 draws from over 25,000 pairs: all the same would mean the choice is not random.
    expect(names.size).toBeGreaterThan(1);
  });

  it("never repeat a name already taken, and never say boring_wozniak", () => {
    // A generator stuck on the first pair: every try collides, so a digit is added.
    const first = pickContainerName(new Set(), () => 0);
    expect(first).toBe("admiring_agnesi");
    const taken = new Set([first]);
    const next = pickContainerName(taken, () => 0);
    expect(taken.has(next)).toBe(false);
    expect(next).toMatch(/^admiring_agnesi\d+$/);
    // The one pair Docker skips: a generator that would draw it draws again.
    const draws = ["boring", "wozniak", "brave", "turing"];
    let k = 0;
    const name = pickContainerName(new Set(), (n) => {
      const word = draws[k++]!;
      const list = n === NAME_WORDS.adjectives.length ? NAME_WORDS.adjectives : NAME_WORDS.surnames;
      return list.indexOf(word);
    });
    expect(name).toBe("brave_turing");
  });
});
