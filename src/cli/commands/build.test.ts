import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { importArchive } from "../../core/image/import.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import { cli } from "../testing.ts";

const fixtures = fileURLToPath(new URL("../../testdata/builds/", import.meta.url));

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "layerlab-build-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function imported(path: string) {
  const store = openMemoryStore();
  const bytes = new Uint8Array(readFileSync(path));
  const r = await importArchive(
    store,
    (async function* () {
      yield bytes;
    })(),
  );
  return r.images[0]?.record;
}

describe("layerlab build", () => {
  it("builds a context into a docker-archive that imports back as the same image", async () => {
    const dir = context({
      Dockerfile: 'FROM scratch\nCOPY hello.txt /\nCMD ["/hello.txt"]\n',
      "hello.txt": "hi\n",
    });
    const out = join(dir, "out.tar");
    const r = await cli("build", "-t", "demo:1", "-o", out, dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain("Step 2/3 [stage-0] : COPY hello.txt /");
    expect(r.err).toMatch(/Successfully built [0-9a-f]{12}: 1 layers/);
    const id = r.out.trim();
    const rec = await imported(out);
    expect(rec?.id).toBe(id);
    expect(rec?.names).toContain("demo:1");
  });

  it("--load makes an archive's images available to FROM; -f, --build-arg and --target work", async () => {
    const dir = context({
      "build.Dockerfile": "FROM bbase AS one\nARG MSG=x\nRUN echo $MSG > /msg\nFROM bbase\nRUN exit 1\n",
    });
    const base = join(dir, "bbase.tar");
    writeFileSync(base, gunzipSync(readFileSync(join(fixtures, "bbase.tar.gz"))));
    const out = join(dir, "out.tar");
    const r = await cli(
      "build",
      "-f",
      join(dir, "build.Dockerfile"),
      "--load",
      base,
      "--build-arg",
      "MSG=hello",
      "--target",
      "one",
      "-o",
      out,
      dir,
    );
    expect(r.err).toContain("loaded docker.io/library/bbase:latest");
    expect(r.code).toBe(0);
    expect(r.err).toContain("RUN echo $MSG > /msg");
    const rec = await imported(out);
    expect(rec?.layers.length).toBe(2);
  });

  it("builds the product's example offline over the ubuntu:20.04 stand-in, and says it is a stand-in", async () => {
    const dir = context({
      Dockerfile: "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n",
      "main.py": 'print("hello")\n',
    });
    const out = join(mkdtempSync(join(tmpdir(), "layerlab-out-")), "out.tar");
    const r = await cli("build", "-o", out, dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain("stand-in for ubuntu:20.04");
    expect(r.err).toContain("Setting up python3");
    const rec = await imported(out);
    expect(rec?.layers.length).toBe(3);
    expect(rec?.id).toBe(r.out.trim());
  }, 120_000);

  it("reports a failing RUN with its line and output, exit code 1", async () => {
    const dir = context({ Dockerfile: "FROM scratch\nCOPY a /a\n" });
    const r = await cli("build", "-o", join(dir, "out.tar"), dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('"/a": not found');
  });

  it("needs -o and a context", async () => {
    expect((await cli("build", "ctx")).code).toBe(2);
    expect((await cli("build", "-o", "x.tar")).code).toBe(2);
  });
});
