import { buildBenchmark } from "./build.ts";
import { cliBenchmark } from "./cli.ts";
import { dockerfileBenchmark } from "./dockerfile.ts";
import { importBenchmark } from "./import.ts";
import { overlayBenchmark } from "./overlay.ts";
import { registryBenchmark } from "./registry.ts";
import { uiBenchmark } from "./ui.ts";
import { xzBenchmark } from "./xz.ts";

/** A benchmark: prints its figures (and a reference's) to stdout. */
export interface Benchmark {
  name: string;
  summary: string;
  run(): Promise<void>;
}

/** Every benchmark `npm run bench` runs; each lives in its own file beside this one. */
export const benchmarks: Benchmark[] = [
  overlayBenchmark,
  dockerfileBenchmark,
  importBenchmark,
  buildBenchmark,
  uiBenchmark,
  xzBenchmark,
  cliBenchmark,
  registryBenchmark,
];
