import { describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

const fixture = (name: string) => `src/testdata/archives/${name}`;

describe("layerlab inspect", () => {
  it("prints tags, platform, config, layers with history and files", async () => {
    const r = await cli("inspect", fixture("docker25.tar"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("image docker.io/library/ll-fix-docker25:latest, ll-fix-docker25:latest");
    expect(r.out).toContain("platform  linux/amd64");
    expect(r.out).toContain("created by: RUN /bin/sh -c true # buildkit");
    expect(r.out).toMatch(/symlink +0777 0:0 +0 +bin\/hi -> hello/);
    expect(r.out).toMatch(/WorkingDir +\/srv\/app/);
    expect(r.out).toMatch(/changes: \d+ added/);
    expect(r.out).toMatch(/efficiency \d+\.\d%/);
  });

  it("--json gives the keys scripts rely on", async () => {
    const r = await cli("inspect", fixture("oci.tar"), "--json");
    expect(r.code).toBe(0);
    const { images } = JSON.parse(r.out);
    expect(images).toHaveLength(2);
    const wh = images.find((i: { tags: string[] }) => i.tags.includes("whiteouts"));
    expect(wh.platform).toBe("linux/amd64");
    expect(wh.config).toMatchObject({ User: "app", Cmd: ["--serve"], Entrypoint: ["/bin/hello"] });
    expect(wh.layers).toHaveLength(3);
    const l = wh.layers[0];
    expect(Object.keys(l)).toEqual(
      expect.arrayContaining(["digest", "diffId", "size", "mediaType", "createdBy", "files", "whiteouts"]),
    );
    expect(l.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(wh.layers[2].createdBy).toBe("umoci repack");
    expect(wh.layers[2].whiteouts).toContainEqual({ path: "opt/keep", opaque: false });
    expect(l.files.map((f: { path: string }) => f.path)).toContain("etc/passwd");
    // Per-layer changes and efficiency, from the overlay's diff and efficiency functions.
    expect(wh.layers[2].changeSummary).toMatchObject({ removed: 2 });
    expect(wh.layers[2].changes).toContainEqual(
      expect.objectContaining({ path: "opt/keep", kind: "removed" }),
    );
    expect(wh.layers[1].changes).toContainEqual(
      expect.objectContaining({
        path: "etc/os-release",
        kind: "modified",
        changed: expect.arrayContaining(["content"]),
      }),
    );
    expect(wh.efficiency.wastedBytes).toBeGreaterThanOrEqual(5 + 4 + 4 + 12);
    expect(wh.efficiency.inefficiencies.map((i: { path: string }) => i.path)).toContain("opt/keep");
  });

  it("--platform picks from a multi-platform archive; a bad archive fails with the entry named", async () => {
    const r = await cli("inspect", fixture("multi-platform.tar"), "--json", "--platform", "linux/arm64/v8");
    expect(JSON.parse(r.out).images[0].platform).toBe("linux/arm64/v8");
    const bad = await cli("inspect", "src/testdata/archives/make-fixtures.sh");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /^layerlab inspect: src\/testdata\/archives\/make-fixtures\.sh: not an image archive: neither a tar nor/,
    );
    const small = await cli("inspect", fixture("docker25.tar"), "--max-layer-size", "4k");
    expect(small.code).toBe(1);
    expect(small.err).toMatch(/decompressed data exceeds the limit of 4096 bytes/);
    const badSize = await cli("inspect", fixture("docker25.tar"), "--max-layer-size", "lots");
    expect(badSize.code).toBe(2);
    const missing = await cli("inspect", "no-such.tar");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no such file");
  });
});
