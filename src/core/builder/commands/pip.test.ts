import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openMemoryStore } from "../../store/memory.ts";
import { BuildFailure, buildImage } from "../builder.ts";
import { builtinResolver } from "../builtins.ts";
import { contextFromFiles } from "../context.ts";

const loader = async (file: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../public/catalog/${file}`, import.meta.url)));

async function failure(dockerfile: string): Promise<BuildFailure> {
  try {
    await buildImage({
      dockerfile,
      context: contextFromFiles({}),
      store: openMemoryStore(),
      builtins: builtinResolver(loader),
    });
  } catch (e) {
    if (e instanceof BuildFailure) return e;
    throw e;
  }
  throw new Error("the build succeeded");
}

describe("pip on the Debian stand-in", () => {
  it("is not there until python3-pip is installed", async () => {
    const f = await failure("FROM debian:bookworm-slim\nRUN pip install flask\n");
    expect(f.message).toMatch(/exit code: 127/);
    expect(f.output).toContain("pip: command not found");
  });

  it("refuses to install into the system Python, as Debian 12's pip really does", async () => {
    const f = await failure(
      "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends python3-pip\nRUN pip install flask\n",
    );
    expect(f.line).toBe(3);
    expect(f.output).toContain("error: externally-managed-environment");
    expect(f.output).toContain("--break-system-packages");
  });

  it("says why it cannot install even with --break-system-packages", async () => {
    const f = await failure(
      "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends python3-pip\nRUN pip3 install --break-system-packages flask\n",
    );
    expect(f.output).toContain("no Python Package Index: cannot install flask");
  });
});
