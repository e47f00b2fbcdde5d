/**
 * The tool-validated suite: LayerLab's exports checked by the real skopeo and umoci (Debian
 * packages; CI installs them). A missing tool fails these tests with a message saying what to
 * install: they are never skipped.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../../cli/testing.ts";
import { collectBytes } from "../../core/archive/bytes.ts";
import { exportImage } from "../../core/image/export.ts";
import { importArchive } from "../../core/image/import.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import { FIXTURES, fixtureStream } from "./fixtures.ts";

function tool(name: "skopeo" | "umoci"): string {
  for (const dir of (process.env.PATH ?? "/usr/bin").split(":")) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(
    `${name} is not installed: install it (apt-get install -y ${name}) to run the tool-validated suite`,
  );
}

function run(bin: string, args: string[]): string {
  return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function exported(fixture: string, format: "docker" | "oci", pick = 0, names?: string[]) {
  const store = openMemoryStore();
  const r = await importArchive(store, fixtureStream(fixture));
  const image = r.images[pick]!.record;
  const bytes = await collectBytes(exportImage(store, image.id, { format, ...(names ? { names } : {}) }));
  const dir = mkdtempSync(join(tmpdir(), "ll-export-"));
  const file = join(dir, `out-${format}.tar`);
  writeFileSync(file, bytes);
  return { store, image, bytes, file, dir };
}

describe("exports validated by skopeo and umoci", () => {
  it("a docker-archive export: skopeo inspects it and copies it to an OCI dir with the same diffIds", async () => {
    const skopeo = tool("skopeo");
    const { image, file, dir } = await exported("skopeo-docker-archive.tar", "docker");
    const info = JSON.parse(run(skopeo, ["inspect", `docker-archive:${file}`]));
    // skopeo lists a registry's tags in RepoTags, never an archive's: the archive's own tag is
    // checked below by asking skopeo for the image under that name.
    expect(info.RepoTags).toEqual([]);
    expect(info.Architecture).toBe("amd64");
    expect(info.Env).toEqual(["PATH=/bin", "APP_ENV=test"]);
    const config = JSON.parse(run(skopeo, ["inspect", "--config", `docker-archive:${file}`]));
    expect(config.rootfs.diff_ids).toEqual(image.layers);
    // The manifest's RepoTags name the image: skopeo finds it by that name and by no other.
    expect(image.names).toEqual(["docker.io/library/ll-fix-app:latest"]);
    const named = JSON.parse(run(skopeo, ["inspect", `docker-archive:${file}:ll-fix-app:latest`]));
    expect(named.Name).toBe("docker.io/library/ll-fix-app");
    expect(named.Digest).toBe(info.Digest);
    expect(() => run(skopeo, ["inspect", `docker-archive:${file}:ll-fix-app:other`])).toThrow(/not found/);
    run(skopeo, ["copy", "-q", `docker-archive:${file}`, `oci:${join(dir, "oci")}:copied`]);
    const index = JSON.parse(readFileSync(join(dir, "oci", "index.json"), "utf8"));
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("copied");
  });

  it("an OCI export: umoci unpacks it to the files the layers hold, whiteouts applied", async () => {
    const umoci = tool("umoci");
    const skopeo = tool("skopeo");
    const { file, dir } = await exported("oci.tar", "oci", 1, ["whiteouts"]);
    execFileSync("tar", ["-xf", file, "-C", dir, "--one-top-level=layout"]);
    run(umoci, ["unpack", "--rootless", "--image", `${join(dir, "layout")}:whiteouts`, join(dir, "bundle")]);
    const rootfs = join(dir, "bundle", "rootfs");
    expect(readFileSync(join(rootfs, "etc/os-release"), "utf8")).toBe("base-os 2.0\n");
    expect(readFileSync(join(rootfs, "opt/new"), "utf8")).toBe("added-by-umoci\n");
    expect(existsSync(join(rootfs, "opt/keep"))).toBe(false);
    expect(existsSync(join(rootfs, "opt/data"))).toBe(false);
    const info = JSON.parse(run(skopeo, ["inspect", `oci:${join(dir, "layout")}:whiteouts`]));
    expect(info.Layers).toHaveLength(3);
  });

  it("OCI export of gzip layers keeps the blob and manifest digests; zstd layers are re-gzipped", async () => {
    const skopeo = tool("skopeo");
    const { file, dir } = await exported("oci.tar", "oci", 0, ["latest"]);
    execFileSync("tar", ["-xf", file, "-C", dir, "--one-top-level=layout"]);
    execFileSync("tar", ["-xf", join(FIXTURES, "oci.tar"), "-C", dir, "--one-top-level=orig"]);
    const raw = (d: string) => JSON.parse(run(skopeo, ["inspect", "--raw", `oci:${join(dir, d)}:latest`]));
    expect(raw("layout")).toEqual(raw("orig"));
    const z = await exported("oci-zstd.tar", "oci", 0, ["z:1"]);
    execFileSync("tar", ["-xf", z.file, "-C", z.dir, "--one-top-level=layout"]);
    const zinfo = JSON.parse(run(skopeo, ["inspect", "--raw", `oci:${join(z.dir, "layout")}:z:1`]));
    expect(zinfo.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+gzip",
    ]);
    run(tool("umoci"), [
      "unpack",
      "--rootless",
      "--image",
      `${join(z.dir, "layout")}:z:1`,
      join(z.dir, "bundle"),
    ]);
    expect(readFileSync(join(z.dir, "bundle", "rootfs", "srv/app/main.py"), "utf8")).toBe('print("app")\n');
  });

  it("exports are deterministic, and a docker-archive round trip keeps the image ID and diffIds", async () => {
    const a = await exported("docker25.tar", "docker");
    const b = await exported("docker25.tar", "docker");
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const again = openMemoryStore();
    const r = await importArchive(again, fixtureStream("docker25.tar"));
    const back = await importArchive(
      openMemoryStore(),
      (async function* () {
        yield a.bytes;
      })(),
    );
    expect(back.images[0]!.record.id).toBe(r.images[0]!.record.id);
    expect(back.images[0]!.record.layers).toEqual(r.images[0]!.record.layers);
    expect(back.images[0]!.record.names).toContain("ll-fix-docker25:latest");
    const skopeo = tool("skopeo");
    const info = JSON.parse(run(skopeo, ["inspect", "--config", `docker-archive:${a.file}`]));
    expect(info.rootfs.diff_ids).toEqual(r.images[0]!.record.layers);
  });

  it("layerlab convert writes archives skopeo and umoci read, keeping config and entries", async () => {
    const skopeo = tool("skopeo");
    const dir = mkdtempSync(join(tmpdir(), "ll-convert-"));
    const oci = join(dir, "app-oci.tar");
    const r = await cli("convert", join(FIXTURES, "skopeo-docker-archive.tar"), "-o", oci, "--format", "oci");
    expect(r.code).toBe(0);
    execFileSync("tar", ["-xf", oci, "-C", dir, "--one-top-level=layout"]);
    const info = JSON.parse(
      run(skopeo, ["inspect", "--config", `oci:${join(dir, "layout")}:docker.io/library/ll-fix-app:latest`]),
    );
    expect(info.config.WorkingDir).toBe("/srv/app");
    const docker = join(dir, "app-docker.tar");
    const r2 = await cli("convert", oci, "-o", docker, "--image", "ll-fix-app:latest");
    expect(r2.code).toBe(0);
    const before = JSON.parse(
      (await cli("inspect", join(FIXTURES, "skopeo-docker-archive.tar"), "--json")).out,
    );
    const after = JSON.parse((await cli("inspect", docker, "--json")).out);
    expect(after.images[0].id).toBe(before.images[0].id);
    expect(after.images[0].config).toEqual(before.images[0].config);
    expect(after.images[0].layers.map((l: { files: unknown }) => l.files)).toEqual(
      before.images[0].layers.map((l: { files: unknown }) => l.files),
    );
    expect(JSON.parse(run(skopeo, ["inspect", `docker-archive:${docker}`])).Layers).toHaveLength(2);
    const many = await cli("convert", join(FIXTURES, "oci.tar"), "-o", join(dir, "x.tar"));
    expect(many.code).toBe(2);
    expect(many.err).toContain("pick one with --image");
  });
});
