/**
 * `layerlab parse` and `layerlab build` read a Dockerfile through the same front end: on the cases
 * where they used to disagree they now give the same verdict, and an error at the same place with
 * the same words.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../testing.ts";

const fixtures = fileURLToPath(new URL("../../testdata/builds/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "layerlab-agree-"));
const base = join(dir, "bbase.tar");

/** The error line each command prints, from the position on (the file part differs by design). */
const located = (err: string) => /:(\d+:\d+: error: .*)$/m.exec(err)?.[1];

async function both(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const parsed = await cli("parse", file);
  const built = await cli("build", "-q", "-f", file, "--load", base, "-o", join(dir, `${name}.tar`), dir);
  return { parsed, built };
}

describe("layerlab parse and layerlab build agree", () => {
  beforeAll(() => {
    writeFileSync(base, gunzipSync(readFileSync(join(fixtures, "bbase.tar.gz"))));
  });

  it("ADD --from: both refuse it as an unknown flag, at 2:5", async () => {
    const { parsed, built } = await both("add-from.Dockerfile", "FROM bbase\nADD --from=bbase /bin/sh /sh\n");
    expect(parsed.code).toBe(1);
    expect(built.code).toBe(1);
    expect(located(parsed.err)).toBe("2:5: error: unknown flag: --from");
    expect(located(built.err)).toBe(located(parsed.err));
  });

  it("HEALTHCHECK --interval=0: both accept it", async () => {
    const { parsed, built } = await both("hc.Dockerfile", "FROM bbase\nHEALTHCHECK --interval=0 CMD true\n");
    expect(parsed.code).toBe(0);
    expect(built.err).not.toMatch(/error/);
    expect(built.code).toBe(0);
  });

  it("RUN --device: both accept a device name and refuse a malformed value at the same place", async () => {
    const ok = await both("dev.Dockerfile", "FROM bbase\nRUN --device=gpu0 echo hi > /f\n");
    expect(ok.parsed.code).toBe(0);
    expect(ok.built.code).toBe(0);
    const bad = await both("dev-bad.Dockerfile", "FROM bbase\nRUN --device=name=a,name=b true\n");
    expect(bad.parsed.code).toBe(1);
    expect(bad.built.code).toBe(1);
    expect(located(bad.parsed.err)).toMatch(/^2:5: error: device name already set to a$/);
    expect(located(bad.built.err)).toBe(located(bad.parsed.err));
  });

  it("--mount: each option value is expanded on its own, so a variable holding options is refused by both", async () => {
    const { parsed, built } = await both(
      "mount.Dockerfile",
      "FROM bbase\nARG OPTS=type=tmpfs\nRUN --mount=$OPTS,target=/x true\n",
    );
    expect(parsed.code).toBe(1);
    expect(built.code).toBe(1);
    expect(located(parsed.err)).toMatch(/^3:\d+: error: invalid field '\$OPTS' must be a key=value pair$/);
    expect(located(built.err)).toBe(located(parsed.err));
  });
});
