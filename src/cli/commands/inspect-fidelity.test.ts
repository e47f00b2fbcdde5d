import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type TarWriteEntry, writeTar } from "../../core/archive/tar-writer.ts";
import { sha256 } from "../../core/digest.ts";
import { memoryBlob, minimalConfig, writeDockerArchive } from "../../core/image/layout-writer.ts";
import { concatBytes } from "../../core/store/chunks.ts";
import { cli } from "../testing.ts";

const fixture = (name: string) => `src/testdata/archives/${name}`;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return concatBytes(
    parts,
    parts.reduce((n, p) => n + p.byteLength, 0),
  );
}

/**
 * A docker-archive of two layers as a builder that keeps real times (BuildKit, buildah without
 * --timestamp) writes `FROM base` + `RUN touch /etc/os-release`: the second layer carries
 * etc/os-release again with the same bytes and a new mtime, its parent etc/ with a new mtime, and
 * etc/hostname rewritten identically (same mtime: a rewrite that changes nothing).
 */
async function touchedImage(): Promise<string> {
  const text = (s: string) => new TextEncoder().encode(s);
  const base: TarWriteEntry[] = [
    { name: "etc/", type: "dir", mtime: 1_700_000_000 },
    { name: "etc/hostname", body: text("box\n"), mtime: 1_700_000_000 },
    { name: "etc/os-release", body: text("ID=debian\n"), mtime: 1_700_000_000 },
  ];
  const touch: TarWriteEntry[] = [
    { name: "etc/", type: "dir", mtime: 1_700_000_500 },
    { name: "etc/hostname", body: text("box\n"), mtime: 1_700_000_000 },
    { name: "etc/os-release", body: text("ID=debian\n"), mtime: 1_700_000_500 },
  ];
  const layers = [await collect(writeTar(base)), await collect(writeTar(touch))];
  const diffIds = await Promise.all(layers.map((l) => sha256(l)));
  const config = minimalConfig(diffIds, {
    history: [{ created_by: "ADD base.tar /" }, { created_by: "RUN touch /etc/os-release" }],
  });
  const archive = await collect(
    writeDockerArchive([
      {
        names: ["touched:1"],
        config: text(JSON.stringify(config)),
        layers: await Promise.all(
          layers.map(async (l) => ({
            ...(await memoryBlob(l)),
            mediaType: "application/vnd.oci.image.layer.v1.tar",
          })),
        ),
      },
    ]),
  );
  const file = join(mkdtempSync(join(tmpdir(), "layerlab-touch-")), "touched.tar");
  writeFileSync(file, archive);
  return file;
}

describe("layerlab inspect fidelity", () => {
  it("a file rewritten with only a new mtime is modified (mtime), as docker diff says C; its directory is not listed", async () => {
    const r = await cli("inspect", await touchedImage(), "--json");
    expect(r.code, r.err).toBe(0);
    const layer = JSON.parse(r.out).images[0].layers[1];
    expect(layer.createdBy).toBe("RUN touch /etc/os-release");
    expect(layer.changes).toEqual([
      { path: "etc/os-release", kind: "modified", type: "file", size: 10, changed: ["mtime"] },
    ]);
    expect(layer.changeSummary).toMatchObject({ added: 0, modified: 1, removed: 0, unchanged: 2 });
  });
});

describe("layerlab inspect: dive's figures beside LayerLab's", () => {
  // The reference images of src/testdata/archives (oci.tar), hand-computed the way dive does.
  // `latest`: layer 0 leaves bin/hello 21, bin/hello-again 0, bin/hi 0, etc/os-release 12,
  // etc/passwd 65, opt/data/a 4, opt/data/sub/b 4, opt/keep 5, tmp 0, var/empty 0; layer 1 leaves
  // etc/os-release 12, srv/app/main.py 13. Σ smallest 124, Σ all 136; etc/os-release twice: 24.
  // `whiteouts` adds layer 2: opt/.wh.data (the directory below it: 4 + 4 = 8), opt/.wh.keep (a
  // file: 0), opt/new 15. Σ smallest 124 + 8 - 5 + 15 = 142, Σ all 136 + 8 + 0 + 15 = 159;
  // wasted 24 + opt/keep (5 + 0) = 29. LayerLab's: 151 bytes written, 126 left, 25 wasted.
  it("reports efficiency.dive = {score, wastedBytes} as dive computes them", async () => {
    const r = await cli("inspect", fixture("oci.tar"), "--json");
    expect(r.code).toBe(0);
    const images: { tags: string[]; efficiency: { score: number; wastedBytes: number; dive: unknown } }[] =
      JSON.parse(r.out).images;
    const by = (tag: string) => images.find((i) => i.tags.includes(tag))!.efficiency;
    expect(by("latest").dive).toEqual({ score: 124 / 136, wastedBytes: 24 });
    expect(by("whiteouts").dive).toEqual({ score: 142 / 159, wastedBytes: 29 });
    expect(by("whiteouts").score).toBe(126 / 151);
    expect(by("whiteouts").wastedBytes).toBe(25);
  });

  it("--dive checks the efficiency and wasted-bytes limits against dive's figures", async () => {
    const ours = await cli("inspect", fixture("oci.tar"), "--highest-wasted-bytes", "25");
    expect(ours.code).toBe(0);
    expect(ours.out).toMatch(/PASS .*whiteouts: 25 B wasted \(at most 25 B allowed\)/);
    const dive = await cli("inspect", fixture("oci.tar"), "--highest-wasted-bytes", "25", "--dive");
    expect(dive.code).toBe(1);
    expect(dive.out).toMatch(/FAIL .*whiteouts: 29 B wasted \(dive's definition\) \(at most 25 B allowed\)/);
    expect(dive.out).toMatch(/PASS .*latest: 24 B wasted \(dive's definition\)/);
    const score = await cli("inspect", fixture("oci.tar"), "--json", "--dive", "--lowest-efficiency", "0.9");
    const checks: { actual: number; pass: boolean }[] = JSON.parse(score.out).checks;
    expect(checks.map((c) => [c.actual, c.pass])).toEqual([
      [124 / 136, true],
      [142 / 159, false],
    ]);
  });
});
