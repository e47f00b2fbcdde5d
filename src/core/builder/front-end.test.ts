// biome-ignore-all lint/style/noRestrictedImports: this test (Node only) reads BuildKit's data files in place.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
/**
 * The editor and the builder read a Dockerfile through the same front end: the editor's
 * diagnostics report an error if and only if the build fails with a DockerfileError, at the same
 * line. Checked on the cases where they used to disagree, on generated and mutated Dockerfiles,
 * and on every Dockerfile of BuildKit's parser conformance data.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.ts";
import { editorDiagnostics } from "../explore/diagnostics.ts";
import { openMemoryStore } from "../store/memory.ts";
import { buildImage } from "./builder.ts";
import { contextFromFiles } from "./context.ts";
import { fakeResolver, mergedFs, readConfig } from "./testing.ts";
import type { BuildEvent } from "./types.ts";

/** The editor's verdict: the lines of its error diagnostics (empty when it shows none). */
function editorVerdict(text: string): number[] {
  return editorDiagnostics(text)
    .filter((d) => d.severity === "error")
    .map((d) => d.range.start.line);
}

type BuildVerdict =
  | { kind: "built"; id: string; events: BuildEvent[] }
  | { kind: "dockerfile-error"; line: number; message: string }
  | { kind: "other-failure"; message: string };

/** The builder's verdict over the in-memory store, the fake base and a small context. */
async function buildVerdict(text: string | Uint8Array): Promise<BuildVerdict> {
  const store = openMemoryStore();
  const events: BuildEvent[] = [];
  try {
    const r = await buildImage({
      dockerfile: typeof text === "string" ? text : new TextDecoder().decode(text),
      context: contextFromFiles({ a: "A\n", "dir/b": "B\n" }),
      store,
      images: fakeResolver(store),
      onEvent: (e) => events.push(e),
    });
    return { kind: "built", id: r.id, events };
  } catch (e) {
    if (e instanceof DockerfileError)
      return { kind: "dockerfile-error", line: e.range.start.line, message: e.message };
    return { kind: "other-failure", message: e instanceof Error ? e.message : String(e) };
  }
}

/** Fails with both verdicts unless they agree: an error iff a DockerfileError, at one of its lines. */
async function expectAgreement(text: string): Promise<BuildVerdict> {
  const lines = editorVerdict(text);
  const built = await buildVerdict(text);
  const summary = { text, editor: lines, builder: built.kind === "built" ? "built" : built };
  if (built.kind === "dockerfile-error") {
    expect(lines, JSON.stringify(summary)).toContain(built.line);
  } else {
    expect(lines, JSON.stringify(summary)).toEqual([]);
  }
  return built;
}

describe("the editor and the builder give the same verdict", () => {
  it("ADD --from is an unknown flag in both, as in BuildKit", async () => {
    const text = "FROM base\nADD --from=base /opt/keep /k\n";
    expect(editorDiagnostics(text)[0]?.message).toMatch(/unknown flag: --from/);
    const v = await expectAgreement(text);
    expect(v).toMatchObject({
      kind: "dockerfile-error",
      line: 2,
      message: expect.stringMatching(/unknown flag: --from/),
    });
  });

  it("HEALTHCHECK --interval=0 is valid in both and means the default interval", async () => {
    const text = "FROM base\nHEALTHCHECK --interval=0 --timeout=3s CMD true\n";
    const v = await expectAgreement(text);
    expect(v.kind).toBe("built");
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: text,
      context: contextFromFiles({}),
      store,
      images: fakeResolver(store),
    });
    const hc = (await readConfig(store, r.id)).config.Healthcheck;
    expect(hc).toEqual({ Test: ["CMD-SHELL", "true"], Timeout: 3e9 });
  });

  it("HEALTHCHECK durations below 1ms or unparsable are errors in both", async () => {
    for (const text of [
      "FROM base\nHEALTHCHECK --interval=10us CMD true\n",
      "FROM base\nHEALTHCHECK --interval=soon CMD true\n",
    ]) {
      expect(await expectAgreement(text)).toMatchObject({ kind: "dockerfile-error", line: 2 });
    }
  });

  it("RUN --device is accepted by both (warned about: LayerLab's RUN has no devices); a malformed one is refused by both", async () => {
    const ok = await expectAgreement("FROM base\nRUN --device=vendor.com/gpu=0 echo hi > /f\n");
    expect(ok.kind).toBe("built");
    if (ok.kind === "built")
      expect(
        ok.events.some((e) => e.kind === "warning" && e.message.includes("--device=vendor.com/gpu=0")),
      ).toBe(true);
    const bad = await expectAgreement("FROM base\nRUN --device=name=a,name=b true\n");
    expect(bad).toMatchObject({
      kind: "dockerfile-error",
      line: 2,
      message: expect.stringMatching(/already set/),
    });
    // A required device cannot be given offline: a build failure, not a Dockerfile error.
    const required = await expectAgreement("FROM base\nRUN --device=gpu,required true\n");
    expect(required).toMatchObject({ kind: "other-failure", message: expect.stringMatching(/required/) });
  });

  it("every FROM is expanded before any instruction is checked, as BuildKit does", async () => {
    // Found by the property below: an earlier stage's COPY --from=0 (itself) and a later FROM
    // with an unmatched quote. BuildKit reports the FROM (line 3); both must say line 3.
    const text = 'FROM base\nCOPY --from=0 /opt/keep /k\nFROM "later\nHEALTHCHECK --interval=0 CMD true\n';
    expect(await expectAgreement(text)).toMatchObject({ kind: "dockerfile-error", line: 3 });
  });

  it("--mount expands each option value on its own, never the whole spec, in both", async () => {
    // Expanded as one word, $OPTS would have become `type=tmpfs` and split: BuildKit refuses the field.
    const whole = await expectAgreement("FROM base\nARG OPTS=type=tmpfs\nRUN --mount=$OPTS,target=/x true\n");
    expect(whole).toMatchObject({
      kind: "dockerfile-error",
      line: 3,
      message: expect.stringMatching(/key=value/),
    });
    // A value that expands to text with a comma stays one value: the target is `/c,type=tmpfs`.
    const text =
      'FROM base\nARG T="/c,type=tmpfs"\nARG D=/cache\nRUN --mount=type=cache,target=${D} touch ${D}/x && echo ok > /done\n';
    const v = await expectAgreement(text);
    expect(v.kind).toBe("built");
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: text,
      context: contextFromFiles({}),
      store,
      images: fakeResolver(store),
    });
    const fs = await mergedFs(store, r.id);
    expect(fs.nodeAt("done")?.type).toBe("file");
    // The cache mount's writes stay out of the layer; the mount point stays as an empty directory.
    expect(fs.nodeAt("cache/x")).toBeUndefined();
    const bad = await expectAgreement("FROM base\nARG K=nope\nRUN --mount=type=${K},target=/x true\n");
    expect(bad).toMatchObject({
      kind: "dockerfile-error",
      line: 3,
      message: expect.stringMatching(/unsupported mount type "nope"/),
    });
  });

  it("what BuildKit checks after expansion is an error in both: empty VOLUME, COPY of a URL, a later stage in from=", async () => {
    for (const [text, line] of [
      ["FROM base\nVOLUME $EMPTY\n", 2],
      ["FROM base\nARG U=http://example.com/x\nCOPY $U /x\n", 3],
      ["FROM base\nRUN --mount=from=later,target=/m true\nFROM base AS later\n", 2],
      ["FROM base\nWORKDIR ${NOPE:?must be set}\n", 2],
    ] as const) {
      expect(await expectAgreement(text)).toMatchObject({ kind: "dockerfile-error", line });
    }
  });

  it("an offline limit or a missing image is a build failure, not a Dockerfile error, and the editor stays quiet", async () => {
    for (const text of [
      "FROM base\nADD https://example.com/x /x\n",
      "FROM nowhere:1\nRUN true\n",
      "FROM base\nCOPY --from=nowhere:1 /x /y\n",
    ]) {
      expect((await expectAgreement(text)).kind).toBe("other-failure");
    }
  });
});

/** Instructions the front end accepts (some still fail to build: a missing file, a later stage). */
const VALID = [
  "RUN echo hi > /f",
  "RUN --mount=type=cache,target=/c touch /c/x",
  "RUN --mount=type=bind,source=dir,target=/m cat /m/b",
  "RUN --mount=type=bind,from=first,target=/m ls /m",
  "RUN --mount=type=secret,id=s cat /run/secrets/s",
  "RUN --device=gpu true",
  "RUN --network=none true",
  "RUN --security=insecure true",
  "RUN <<EOF\necho hi > /g\nEOF",
  "ENV A=1 B=$A",
  "LABEL k=v",
  "ARG X",
  "ARG Y=$A",
  "ARG P=8080",
  "USER app",
  "WORKDIR /w",
  "WORKDIR ${A:-/x}",
  "EXPOSE 80 $P/udp",
  "VOLUME /v",
  "STOPSIGNAL SIGTERM",
  'SHELL ["/bin/sh", "-c"]',
  'CMD ["x"]',
  "ENTRYPOINT x",
  "HEALTHCHECK --interval=0 CMD true",
  "HEALTHCHECK --interval=1m30s --retries=2 CMD true",
  "HEALTHCHECK NONE",
  "ONBUILD RUN true",
  "ONBUILD ADD --from=x a b",
  "COPY a /a",
  "COPY --from=0 /opt/keep /k",
  "COPY --from=first /opt/keep /k2",
  "COPY --chmod=755 --chown=app a /a",
  "COPY --link a /l",
  "COPY --exclude=*.x dir /d",
  "COPY --parents dir/b /p/",
  "COPY <<EOF /h\nhi $A\nEOF",
  "ADD --unpack=false a /b",
  "ADD --keep-git-dir a /b",
  "MAINTAINER me",
  "FROM base AS later",
  "FROM later",
  "FROM base",
];

/** Instructions one path or the other refused before they shared the front end. */
const INVALID = [
  "RUN --mount=type=nope,target=/c true",
  "RUN --mount=type=cache true",
  "RUN --mount=type=bind,from=later,target=/m true",
  "RUN --mount=target=/x,ro=maybe true",
  "RUN --mount=$OPTS,target=/x true",
  "RUN --device=name=a,name=b true",
  "RUN --network=bogus true",
  "ENV ${X:?unset}=1",
  "ENV K",
  "ARG =x",
  "EXPOSE",
  "VOLUME $EMPTY",
  "SHELL /bin/sh",
  "HEALTHCHECK --interval=1us CMD true",
  "HEALTHCHECK --interval=zz CMD true",
  "HEALTHCHECK --retries=-1 CMD true",
  "HEALTHCHECK CMD",
  "ONBUILD ONBUILD RUN true",
  "COPY --from=later /x /y",
  "COPY --from=$V /x /y",
  "COPY http://x/y /z",
  "COPY a",
  "ADD --from=base /a /b",
  "FROM base AS 1bad",
  "FROM ${NOPE}",
  "FROBNICATE x",
];

const line = fc.oneof(
  { arbitrary: fc.constantFrom(...VALID), weight: 12 },
  { arbitrary: fc.constantFrom(...INVALID), weight: 1 },
);

const dockerfile = fc
  .tuple(
    fc.constantFrom("FROM base", "FROM base AS first", "ARG V=1\nFROM base", ""),
    fc.array(line, { maxLength: 6 }),
  )
  .map(([head, lines]) => `${[head, ...lines].join("\n")}\n`);

/** A text with a few characters inserted, deleted or a line duplicated. */
const mutated = fc
  .tuple(
    dockerfile,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom("insert", "delete", "dup"), fc.string({ maxLength: 3 })), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [at, op, s] of edits) {
      const i = t.length === 0 ? 0 : at % t.length;
      if (op === "insert") t = t.slice(0, i) + (s || "\\") + t.slice(i);
      else if (op === "delete") t = t.slice(0, i) + t.slice(i + 1 + (s.length % 3));
      else {
        const lines = t.split("\n");
        const j = at % lines.length;
        lines.splice(j, 0, lines[j] ?? "");
        t = lines.join("\n");
      }
    }
    return t;
  });

describe("property: diagnostics report an error iff the build fails with a DockerfileError, at the same line", () => {
  it("for generated Dockerfiles", async () => {
    await fc.assert(
      fc.asyncProperty(dockerfile, async (text) => {
        await expectAgreement(text);
      }),
      { numRuns: 150 },
    );
  }, 600_000);

  it("for mutated Dockerfiles", async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (text) => {
        await expectAgreement(text);
      }),
      { numRuns: 150 },
    );
  }, 600_000);
});

const conformance = process.env.LAYERLAB_CONFORMANCE_DIR;
const parserDir = conformance ? join(conformance, "parser") : undefined;

describe.skipIf(!parserDir || !existsSync(parserDir))(
  "property over BuildKit's parser conformance Dockerfiles",
  () => {
    const files: string[] = [];
    if (parserDir && existsSync(parserDir)) {
      for (const group of ["testfiles", "testfiles-negative", "testfile-line"]) {
        const root = join(parserDir, group);
        if (!existsSync(root)) continue;
        for (const name of readdirSync(root).sort()) {
          const file = join(root, name, "Dockerfile");
          if (existsSync(file)) files.push(file);
        }
      }
    }
    it("has files to check", () => {
      expect(files.length).toBeGreaterThan(30);
    });
    it.each(files.map((f) => [f.slice((parserDir ?? "").length + 1), f]))("%s", async (_name, file) => {
      await expectAgreement(new TextDecoder().decode(readFileSync(file)));
    });
  },
);
