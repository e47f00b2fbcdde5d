import { createReadStream } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { importArchive } from "../image/import.ts";
import { openMemoryStore } from "../store/memory.ts";
import { KIND_BY_CODE, nodePath } from "../view/tree.ts";
import { Explorer } from "./explorer.ts";

// The same image twice: as skopeo's docker-archive (plain tar layers, stored as they are) and as
// an OCI layout with gzip layers (stored as they came; their tars decoded on first read).
const FIXTURES = ["skopeo-docker-archive.tar", "oci.tar"] as const;
let FIXTURE: URL;

async function imported() {
  const store = openMemoryStore();
  const r = await importArchive(store, createReadStream(FIXTURE));
  return { store, id: r.images[0]!.record.id, explorer: new Explorer(store) };
}

function rows(snap: Awaited<ReturnType<Explorer["tree"]>>) {
  const out: string[] = [];
  for (let i = 1; i < snap.names.length; i++) {
    if (snap.real[i]) out.push(`${KIND_BY_CODE[snap.kind[i]!]} ${nodePath(snap, i)}`);
  }
  return out.sort();
}

describe.each(FIXTURES)("explorer over an imported image (%s)", (fixture) => {
  beforeAll(() => {
    FIXTURE = new URL(`../../testdata/archives/${fixture}`, import.meta.url);
  });

  it("lists history with the layer each entry made", async () => {
    const { id, explorer } = await imported();
    const view = await explorer.image(id);
    const layered = view.history.filter((h) => !h.emptyLayer);
    expect(layered.map((h) => h.layer)).toEqual([0, 1]);
    expect(layered[0]!.createdBy).toContain("r1.tar");
    expect(layered[1]!.diffId).toBe(view.layers[1]!.id);
    expect(view.config.config?.WorkingDir).toBe("/srv/app");
  });

  it("shows what layer 2 changed, and the merged tree marks what it supplied", async () => {
    const { id, explorer } = await imported();
    const changes = rows(await explorer.tree(id, 1, "changes"));
    expect(changes).toContain("modified etc/os-release");
    expect(changes).toContain("added srv/app/main.py");
    expect(changes).not.toContain("unchanged opt/keep");
    const merged = rows(await explorer.tree(id, 1, "merged"));
    expect(merged).toContain("unchanged opt/keep");
    expect(merged).toContain("modified etc/os-release");
  });

  it("reads a file with the layer that supplied it and the layers it hides", async () => {
    const { id, explorer } = await imported();
    const f = await explorer.file(id, 1, "etc/os-release");
    expect(new TextDecoder().decode(f.bytes)).toBe("base-os 2.0\n");
    expect(f.layer).toBe(1);
    expect(f.shadows).toEqual([0]);
    const lower = await explorer.file(id, 0, "etc/os-release");
    expect(new TextDecoder().decode(lower.bytes)).toBe("base-os 1.0\n");
    const part = await explorer.file(id, 1, "etc/os-release", 5, 2);
    expect(new TextDecoder().decode(part.bytes)).toBe("os");
    await expect(explorer.file(id, 0, "srv/app/main.py")).rejects.toThrow(/does not exist in layer 1/);
    await expect(explorer.tree(id, 5, "changes")).rejects.toThrow(/no layer 6/);
  });

  it("reports the bytes layer 2 wasted by rewriting /etc/os-release", async () => {
    const { id, explorer } = await imported();
    const e = await explorer.efficiency(id);
    expect(e.wastedBytes).toBe(12);
    expect(e.inefficiencies.map((w) => w.path)).toEqual(["etc/os-release"]);
    expect(e.inefficiencies[0]!.occurrences.map((o) => o.layer)).toEqual([0, 1]);
    expect(e.score).toBeCloseTo(1 - 12 / e.totalBytes, 6);
  });
});
