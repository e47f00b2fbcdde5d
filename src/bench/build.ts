/**
 * The builder: cold and cached builds of a 50-instruction Dockerfile over the busybox base and of
 * the product's example (ubuntu:20.04 stand-in + apt-get install python3 + COPY), and a RUN that
 * creates 10,000 files. References measured in the same run: the same shell loop in just-bash over
 * its own in-memory filesystem (what the layer adapter adds), and sha256 over the image's layer
 * bytes (a floor: any builder must at least hash its layers).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Bash } from "just-bash";
import { readCatalogFile } from "../cli/catalog-files.ts";
import { buildImage } from "../core/builder/builder.ts";
import { builtinResolver } from "../core/builder/builtins.ts";
import { BuildCache } from "../core/builder/cache.ts";
import { contextFromFiles } from "../core/builder/context.ts";
import { sha256 } from "../core/digest.ts";
import { importArchive } from "../core/image/import.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { Store } from "../core/store/types.ts";
import type { Benchmark } from "./index.ts";
import { medianMs, row } from "./measure.ts";

/** A 50-instruction Dockerfile in the shapes real ones have (RUN, COPY, ENV, WORKDIR, LABEL ...). */
export function fiftyInstructions(): string {
  const lines = ["FROM bbase", "ARG VERSION=1.0", "ENV APP=/app", "WORKDIR /app"];
  for (let i = 0; lines.length < 46; i++) {
    lines.push(`COPY src/file${i}.txt /app/src/`);
    lines.push(
      `RUN mkdir -p /app/out${i} && for j in 1 2 3 4 5; do echo "$VERSION $j" > /app/out${i}/f$j; done`,
    );
    lines.push(`ENV STEP${i}=${i}`);
    lines.push(`LABEL step${i}="${i}"`);
  }
  lines.push("USER app", "EXPOSE 8080", 'ENTRYPOINT ["/bin/sh"]', 'CMD ["-c", "echo hi"]');
  return `${lines.slice(0, 50).join("\n")}\n`;
}

const EXAMPLE = "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n";
const TEN_THOUSAND =
  "mkdir -p /many && cd /many && i=0; while [ $i -lt 10000 ]; do echo $i > f$i; i=$((i+1)); done";

async function busyboxStore(): Promise<Store> {
  const store = openMemoryStore();
  const root = fileURLToPath(new URL("../testdata/builds/bbase.tar.gz", import.meta.url));
  const bytes = new Uint8Array(gunzipSync(readFileSync(root)));
  await importArchive(
    store,
    (async function* () {
      yield bytes;
    })(),
  );
  return store;
}

async function layerBytesHashMs(store: Store, id: string): Promise<number> {
  const rec = await store.meta.get("images", id);
  const blobs: Uint8Array[] = [];
  for (const l of rec?.layers ?? []) {
    const b = await store.blobs.get(l as `sha256:${string}`);
    if (b) blobs.push(b);
  }
  return medianMs(async () => {
    for (const b of blobs) await sha256(b);
  }, 3);
}

export const buildBenchmark: Benchmark = {
  name: "build",
  summary: "cold and cached builds (50 instructions; the product's example), a RUN writing 10,000 files",
  async run() {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`src/file${i}.txt`] = `file ${i}\n`.repeat(50);
    const context = contextFromFiles(files);
    const store = await busyboxStore();
    const dockerfile = fiftyInstructions();
    let id = "";
    const cold = await medianMs(async () => {
      const r = await buildImage({ dockerfile, context, store, cache: new BuildCache() });
      id = r.id;
    }, 3);
    const cache = new BuildCache();
    await buildImage({ dockerfile, context, store, cache });
    const warm = await medianMs(() => buildImage({ dockerfile, context, store, cache }), 3);
    console.log(row("", "LayerLab ms", "reference ms"));
    console.log(row("50 instructions, cold", cold, await layerBytesHashMs(store, id)));
    console.log(row("50 instructions, all cached", warm, "-"));

    const builtins = builtinResolver((f) => readCatalogFile(f).catch(() => undefined));
    const exContext = contextFromFiles({ "main.py": 'print("hello")\n' });
    let exId = "";
    const exCold = await medianMs(async () => {
      const s = openMemoryStore();
      const r = await buildImage({
        dockerfile: EXAMPLE,
        context: exContext,
        store: s,
        builtins,
        cache: new BuildCache(),
      });
      exId = r.id;
      return s;
    }, 1);
    const exStore = openMemoryStore();
    const exCache = new BuildCache();
    await buildImage({ dockerfile: EXAMPLE, context: exContext, store: exStore, builtins, cache: exCache });
    const exWarm = await medianMs(
      () => buildImage({ dockerfile: EXAMPLE, context: exContext, store: exStore, builtins, cache: exCache }),
      3,
    );
    console.log(row("product example, cold (new store)", exCold, await layerBytesHashMs(exStore, exId)));
    console.log(row("product example, all cached", exWarm, "-"));

    const tenK = `FROM bbase\nRUN ${TEN_THOUSAND}\n`;
    const run10k = await medianMs(
      () => buildImage({ dockerfile: tenK, context, store, cache: new BuildCache() }),
      1,
    );
    const ref = await medianMs(async () => {
      const bash = new Bash({
        executionLimits: { maxCommandCount: 1_000_000, maxLoopIterations: 1_000_000 },
      });
      await bash.exec(TEN_THOUSAND);
    }, 1);
    console.log(row("RUN creating 10,000 files (whole build)", run10k, ref));
    console.log(
      "reference: sha256 of the layer bytes; for the RUN, the same loop in just-bash's own InMemoryFs",
    );
  },
};
