/**
 * `npm run bench [-- NAME...]`: runs the benchmark scripts and prints their figures.
 * Each benchmark prints LayerLab's figure beside a reference measured on the same input in the
 * same run. Benchmarks are never assertions: they print, people read.
 */
import { benchmarks } from "./index.ts";

const wanted = process.argv.slice(2);
const chosen = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
if (chosen.length === 0) {
  console.error(
    `no benchmark named ${wanted.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`,
  );
  process.exit(2);
}
for (const b of chosen) {
  console.log(`\n## ${b.name}: ${b.summary}`);
  await b.run();
}
