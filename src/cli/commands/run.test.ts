import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Explorer } from "../../core/explore/explorer.ts";
import { importArchive } from "../../core/image/import.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import { cli } from "../testing.ts";

// shell-test.tar: made by src/testdata/archives/make-run-fixture.ts (see the README there).
const FIXTURE = fileURLToPath(new URL("../../testdata/archives/shell-test.tar", import.meta.url));

describe("layerlab run", () => {
  it("runs the command in a fresh container, prints its output, then the docker diff", async () => {
    const r = await cli(
      "run",
      FIXTURE,
      "--",
      "sh",
      "-c",
      "echo hello > /app/new.txt && rm /app/README && chmod 600 /app/config.json && mv /app/src/util.py /tmp/ && ln -s new.txt /app/link && ls /app && pwd && echo $APP_ENV",
    );
    expect(r.code).toBe(0);
    // Hand-checked against Docker's rules (moby pkg/archive/changes.go): a depth-first walk of the
    // upper directory, names in byte order ("R" < "c"), each A/D's parent listed as C first, the
    // root never listed; the image's WorkingDir (/app) and Env (APP_ENV=test) applied.
    expect(r.out).toBe(
      [
        "config.json",
        "link",
        "new.txt",
        "src",
        "/app",
        "test",
        "C /app",
        "D /app/README",
        "C /app/config.json",
        "A /app/link",
        "A /app/new.txt",
        "C /app/src",
        "D /app/src/util.py",
        "C /tmp",
        "A /tmp/util.py",
        "",
      ].join("\n"),
    );
    expect(r.err).toMatch(/^# docker diff [a-z]+_[a-z]+ \(exit code 0\)\n$/);
  });

  it("passes the command's failure on: its error and exit status; programs that are only files exit 126", async () => {
    const r = await cli("run", FIXTURE, "--", "python3", "/app/src/main.py");
    expect(r.code).toBe(126);
    expect(r.err).toContain("python3: LayerLab cannot run this program");
    expect(r.out).toBe("");
    const missing = await cli("run", FIXTURE, "--", "cat", "/nope");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("cat: /nope: No such file or directory");
  });

  it("--commit writes the image plus the container layer as a new docker-archive", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "layerlab-run-")), "ran.tar");
    const r = await cli(
      "run",
      FIXTURE,
      "--commit",
      out,
      "-t",
      "demo:ran",
      "--",
      "sh",
      "-c",
      "echo hello > /app/new.txt && rm /app/README",
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain(`as demo:ran: wrote ${out}`);
    const store = openMemoryStore();
    const bytes = new Uint8Array(readFileSync(out));
    const imported = await importArchive(
      store,
      (async function* () {
        yield bytes;
      })(),
    );
    const image = imported.images[0]!.record;
    expect(image.names).toContain("demo:ran");
    const explorer = new Explorer(store);
    const view = await explorer.image(image.id);
    expect(view.layers).toHaveLength(3);
    const top = await explorer.tree(image.id, 2, "changes");
    const names = [...top.names];
    expect(names).toContain("new.txt");
    expect(names).toContain("README");
    const readme = await explorer.file(image.id, 2, "app/new.txt");
    expect(new TextDecoder().decode(readme.bytes)).toBe("hello\n");
    await expect(explorer.file(image.id, 2, "app/README")).rejects.toThrow();
  });

  it("says how to use it when the command is missing", async () => {
    const r = await cli("run", FIXTURE);
    expect(r.code).toBe(2);
    expect(r.err).toContain("give the command after --");
  });
});
