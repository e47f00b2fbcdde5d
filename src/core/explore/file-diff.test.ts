import { createReadStream } from "node:fs";
import { describe, expect, it } from "vitest";
import { importArchive } from "../image/import.ts";
import { openMemoryStore } from "../store/memory.ts";
import { Explorer } from "./explorer.ts";
import { diffFileVersions } from "./file-diff.ts";

const FIXTURE = new URL("../../testdata/archives/skopeo-docker-archive.tar", import.meta.url);

async function imported() {
  const store = openMemoryStore();
  const r = await importArchive(store, createReadStream(FIXTURE));
  return { id: r.images[0]!.record.id, explorer: new Explorer(store) };
}

describe("diffFileVersions", () => {
  it("diffs a file rewritten by layer 2 against layer 1's version", async () => {
    const { id, explorer } = await imported();
    expect(await diffFileVersions(explorer, id, "etc/os-release", 1, 0)).toEqual({
      kind: "lines",
      lines: [
        { op: "del", text: "base-os 1.0", a: 1 },
        { op: "add", text: "base-os 2.0", b: 1 },
      ],
    });
    // The other way round, the old and new sides swap.
    const back = await diffFileVersions(explorer, id, "etc/os-release", 0, 1);
    expect(back.kind === "lines" && back.lines.map((l) => `${l.op} ${l.text}`)).toEqual([
      "del base-os 2.0",
      "add base-os 1.0",
    ]);
  });

  it("says when the other layer has no such file, or has something else there", async () => {
    const { id, explorer } = await imported();
    expect(await diffFileVersions(explorer, id, "srv/app/main.py", 1, 0)).toEqual({
      kind: "missing",
      layer: 0,
    });
    expect(await diffFileVersions(explorer, id, "etc", 1, 0)).toEqual({
      kind: "not-a-file",
      layer: 1,
      type: "dir",
    });
  });

  it("fails with the explorer's error when the file is not in the layer shown", async () => {
    const { id, explorer } = await imported();
    await expect(diffFileVersions(explorer, id, "srv/app/main.py", 0, 1)).rejects.toThrow(
      /does not exist in layer 1/,
    );
  });
});
