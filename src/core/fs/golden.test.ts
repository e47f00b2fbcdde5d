/**
 * Golden test against real tools: the `whiteouts` image of src/testdata/archives/oci.tar (layers
 * written by buildah and umoci) imported with LayerLab's archive reader, stacked by the overlay,
 * and compared with what the reference tools folder's image-changes.py (an independent Python implementation)
 * makes of the same image: every layer's file-level changes and the final tree. The golden is
 * testdata/oci-whiteouts.changes.json, written by testdata/make-golden.sh.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { fixtureStream } from "../../testdata/archives/fixtures.ts";
import { readLayerIndex } from "../image/describe.ts";
import { importArchive } from "../image/import.ts";
import { openMemoryStore } from "../store/memory.ts";
import { diffLayer } from "./diff.ts";
import { type LayerStack, stackLayers } from "./overlay.ts";

interface Golden {
  changesets: Record<string, string>[];
  tree: Record<
    string,
    { type: string; mode: string; uid: number; gid: number; sha256?: string; size?: number; target?: string }
  >;
}
const golden = JSON.parse(
  readFileSync(new URL("testdata/oci-whiteouts.changes.json", import.meta.url), "utf8"),
) as Golden;

/** Paths a builder's run-time mounts leave behind; image-changes.py skips them too. */
const RUNTIME = new Set(["dev", "proc", "sys", "run", "etc/hosts", "etc/hostname", "etc/resolv.conf"]);
const skipped = (path: string) => RUNTIME.has(path) || RUNTIME.has(path.split("/")[0]!);

async function importWhiteouts() {
  const store = openMemoryStore();
  const result = await importArchive(store, fixtureStream("oci.tar"));
  const image = result.images.find((i) => i.record.names.includes("whiteouts"))!;
  const changesets = [];
  for (const layer of image.layers) changesets.push(await readLayerIndex(store, layer));
  return stackLayers(changesets);
}

describe("overlay against image-changes.py on a real image", () => {
  let stack: LayerStack;
  beforeAll(async () => {
    stack = await importWhiteouts();
  });

  it("gives the same final tree: types, modes, owners, sizes, content digests, link targets", () => {
    const tree: Golden["tree"] = {};
    for (const n of stack.top.walk()) {
      if (skipped(n.path)) continue;
      const e = n.entry;
      const row: Golden["tree"][string] = {
        type: e.type,
        mode: `0o${(e.mode & 0o7777).toString(8)}`,
        uid: e.uid,
        gid: e.gid,
      };
      if (e.type === "file") {
        row.sha256 = e.digest?.slice("sha256:".length);
        row.size = e.size;
      }
      if (e.type === "symlink" || e.type === "hardlink") row.target = e.linkname;
      tree[n.path] = row;
    }
    expect(tree).toEqual(golden.tree);
  });

  it("gives the same changes per layer", () => {
    // image-changes.py calls every rewrite of an existing file "modified" (LayerLab says
    // "unchanged" when nothing differs) and a whiteout "deleted"; directories carried along
    // unchanged are not changes in either.
    const kinds = stack.layers.map((_, n) => {
      const out: Record<string, string> = {};
      for (const r of diffLayer(stack, n).rows) {
        if (skipped(r.path)) continue;
        if (r.kind === "unchanged" && r.type === "dir") continue;
        out[r.path] = r.kind === "removed" ? "deleted" : r.kind === "unchanged" ? "modified" : r.kind;
      }
      return out;
    });
    expect(kinds).toEqual(golden.changesets);
  });
});
