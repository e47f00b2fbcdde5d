// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text.
/**
 * Dockerfile front end: parse a generated 10,000-line Dockerfile (and a 40,000-line one, to show the
 * parser is linear), group it into stages, and expand 100,000 shell words. The reference is a plain
 * line split plus a whitespace regex over the same text, and a regex `$VAR` substitution over the
 * same words: what a naive tool would do, measured in the same run.
 */
import { buildStages } from "../core/dockerfile/instructions.ts";
import { parseDockerfile } from "../core/dockerfile/parser.ts";
import { envFromMap, expandWord, expandWords } from "../core/dockerfile/shell.ts";
import type { Benchmark } from "./index.ts";
import { medianMs, row } from "./measure.ts";

/** A Dockerfile of at least `lines` physical lines (whole stages), in the shapes real files have. */
export function generateDockerfile(lines: number): string {
  const out: string[] = ["# syntax=docker/dockerfile:1", "ARG BASE=debian:bookworm-slim", "ARG VERSION=1.0"];
  let stage = 0;
  while (out.length < lines) {
    out.push(
      `FROM \${BASE} AS stage${stage}`,
      "WORKDIR /src",
      `ENV APP_HOME=/srv/app${stage} PATH=/opt/bin:$PATH`,
    );
    out.push(
      "RUN set -eux; \\",
      "    apt-get update; \\",
      "# a comment between continuation lines",
      "    apt-get install -y --no-install-recommends ca-certificates curl git; \\",
      "    rm -rf /var/lib/apt/lists/*",
      `COPY --from=stage${Math.max(0, stage - 1)} --chown=1000:1000 /src/out /opt/out${stage}/`,
      'LABEL org.opencontainers.image.version="${VERSION}" maintainer="team@example.com"',
      "RUN <<EOF",
      "echo building",
      `echo stage ${stage} > /etc/stage`,
      "EOF",
      'HEALTHCHECK --interval=30s CMD ["curl", "-f", "http://localhost/"]',
      `EXPOSE 80${stage % 10} 443/tcp`,
      "",
    );
    stage++;
  }
  return `${out.join("\n")}\n`;
}

/** The naive reference: split lines, drop comments, split words on whitespace. */
function naiveTokenise(text: string): number {
  let words = 0;
  for (const line of text.split("\n")) {
    if (line.trimStart().startsWith("#")) continue;
    words += line.match(/\S+/g)?.length ?? 0;
  }
  return words;
}

const WORD_SHAPES = [
  "$HOME/bin",
  "${APP_HOME}/lib",
  '"${NAME:-default} value"',
  "plain-word",
  "${PATH}:/opt/bin",
  "'single $NOT quoted'",
  "${VERSION%%.*}",
  "${FILE##*/}",
  "pre\\ fix${UNSET:+x}",
  "${REPLACE//-/_}",
];

export const dockerfileBenchmark: Benchmark = {
  name: "dockerfile",
  summary: "parse 10k/40k-line Dockerfiles and expand 100k words (ref: line split + regex)",
  async run() {
    console.log(row("", "LayerLab ms", "reference ms", "ms / 1k lines"));
    const perSize: number[] = [];
    const refPerSize: number[] = [];
    const texts = [10_000, 40_000].map(generateDockerfile);
    // Warm the JIT on the larger input first so the two sizes are compared at the same tier.
    for (let i = 0; i < 3; i++) buildStages(parseDockerfile(texts[1]!));
    for (const text of texts) {
      const parseMs = await medianMs(() => parseDockerfile(text), 9);
      const refMs = await medianMs(() => naiveTokenise(text), 9);
      const ast = parseDockerfile(text);
      const actual = text.split("\n").length - 1;
      perSize.push(parseMs / (actual / 1000));
      refPerSize.push(refMs / (actual / 1000));
      console.log(
        row(
          `parse ${actual} lines (${ast.instructions.length} instructions)`,
          parseMs,
          refMs,
          parseMs / (actual / 1000),
        ),
      );
      const stagesMs = await medianMs(() => buildStages(ast), 9);
      console.log(row(`  + typed stages (${buildStages(ast).stages.length} stages)`, stagesMs, "-", "-"));
    }
    console.log(
      `linearity: per-line cost at 4x the size is ${(perSize[1]! / perSize[0]!).toFixed(2)}x (reference ${(refPerSize[1]! / refPerSize[0]!).toFixed(2)}x; 1.00 = linear, the excess is heap growth)`,
    );

    const env = envFromMap({
      HOME: "/root",
      APP_HOME: "/srv/app",
      NAME: "",
      PATH: "/usr/local/bin:/usr/bin:/bin",
      VERSION: "1.22.3",
      FILE: "/a/b/c/file.tar.gz",
      REPLACE: "a-b-c-d-e-f",
    });
    const words = Array.from({ length: 100_000 }, (_, i) => WORD_SHAPES[i % WORD_SHAPES.length]!);
    const expandMs = await medianMs(() => {
      for (const w of words) expandWord(w, env);
    }, 5);
    const splitMs = await medianMs(() => {
      for (const w of words) expandWords(w, env);
    }, 5);
    const naiveMs = await medianMs(() => {
      for (const w of words) w.replace(/\$\{?(\w+)\}?/g, (_, n: string) => env.get(n) ?? "");
    }, 5);
    console.log(row("expand 100,000 words (ref: regex $VAR replace)", expandMs, naiveMs, "-"));
    console.log(row("expand + split 100,000 words", splitMs, naiveMs, "-"));
  },
};
