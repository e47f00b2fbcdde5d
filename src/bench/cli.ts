/**
 * The `layerlab` command line as people run it, in child processes: start-up (`--version`, median
 * of N) and `inspect --json` (wall time, throughput, peak RSS of the whole process by
 * /usr/bin/time) on a generated 300 MB / 50,000-file image and on the product's example image
 * (ubuntu:20.04 stand-in + apt-get install python3 + COPY, built by `layerlab build`).
 *
 * LayerLab's figures are the built CLI's (dist-cli/layerlab.mjs, built first). The reference,
 * measured in the same run, is the command line as it was before it was built: its sources at
 * LAYERLAB_BENCH_CLI_REF (default: the last commit before the built CLI) run through tsx, taken
 * out of git into a temporary folder; when git cannot give them, today's sources through tsx.
 *
 * Size by environment: LAYERLAB_BENCH_CLI_MB=300 LAYERLAB_BENCH_CLI_FILES=50000
 * LAYERLAB_BENCH_CLI_LAYERS=10 LAYERLAB_BENCH_RUNS=3 (inspect runs; start-up takes 3x as many).
 * LAYERLAB_BENCH_CLI_ARCHIVE=path.tar inspects that archive as well.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateArchive } from "./import.ts";
import type { Benchmark } from "./index.ts";
import { median, row } from "./measure.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MiB = 1024 * 1024;
/** The product's example (src/app/store/editor-slice.ts) and its context's one file. */
const EXAMPLE = "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n";
/** The last commit whose CLI ran only through tsx and kept every layer in memory. */
const REFERENCE_COMMIT = "1b0422fe59eb5d08175a72601578ce1c4947a285";

interface Cli {
  label: string;
  /** The command and the arguments before the CLI's own. */
  argv: string[];
}

interface Run {
  ms: number;
  /** Peak resident set of the process (KiB), when /usr/bin/time can tell. */
  maxRssKiB?: number;
}

const TIME = "/usr/bin/time";

/** Runs a CLI once, its output thrown away; peak RSS through /usr/bin/time when it is there. */
function runOnce(cli: Cli, args: string[]): Run {
  const timed = existsSync(TIME);
  const [cmd, ...pre] = timed ? [TIME, "-f", "%M", ...cli.argv] : cli.argv;
  const t0 = performance.now();
  const r = spawnSync(cmd!, [...pre, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    maxBuffer: 64 * MiB,
  });
  const ms = performance.now() - t0;
  const err = r.stderr.toString();
  if (r.status !== 0)
    throw new Error(`${cli.label} ${args.join(" ")} exited ${r.status}: ${err.slice(-2000)}`);
  const kib = timed ? Number(err.trim().split("\n").at(-1)) : Number.NaN;
  return Number.isFinite(kib) ? { ms, maxRssKiB: kib } : { ms };
}

function medianRun(runs: Run[]): { ms: number; mb: string } {
  const rss = runs.flatMap((r) => (r.maxRssKiB === undefined ? [] : [r.maxRssKiB]));
  return {
    ms: median(runs.map((r) => r.ms)),
    mb: rss.length ? `${(median(rss) / 1024).toFixed(0)} MB` : "-",
  };
}

/** The reference CLI: the sources at `commit` through tsx, or today's sources when git cannot. */
function referenceCli(dir: string): Cli {
  const tsx = join(ROOT, "node_modules/.bin/tsx");
  const commit = process.env.LAYERLAB_BENCH_CLI_REF ?? REFERENCE_COMMIT;
  try {
    const tar = execFileSync("git", ["-C", ROOT, "archive", commit, "src", "package.json"], {
      maxBuffer: 512 * MiB,
    });
    const ref = join(dir, "reference");
    mkdirSync(ref);
    writeFileSync(join(dir, "reference.tar"), tar);
    execFileSync("tar", ["-xf", join(dir, "reference.tar"), "-C", ref]);
    symlinkSync(join(ROOT, "node_modules"), join(ref, "node_modules"));
    return { label: `tsx, CLI at ${commit.slice(0, 7)}`, argv: [tsx, join(ref, "src/cli/main.ts")] };
  } catch (err) {
    console.log(
      `(no sources at ${commit.slice(0, 7)}: ${(err as Error).message.split("\n")[0]}; today's through tsx)`,
    );
    return { label: "tsx, today's sources", argv: [tsx, join(ROOT, "src/cli/bin.ts")] };
  }
}

export const cliBenchmark: Benchmark = {
  name: "cli",
  summary:
    "layerlab start-up and inspect --json (time, peak RSS) built vs through tsx, 300 MB image and the example",
  async run() {
    const runs = Number(process.env.LAYERLAB_BENCH_RUNS ?? 3);
    const env = process.env;
    const spec = {
      layers: Number(env.LAYERLAB_BENCH_CLI_LAYERS ?? 10),
      files: Number(env.LAYERLAB_BENCH_CLI_FILES ?? 50_000),
      bytes: Number(env.LAYERLAB_BENCH_CLI_MB ?? 300) * MiB,
      seed: 1,
    };
    execFileSync("npm", ["run", "--silent", "build:cli"], { cwd: ROOT, stdio: "inherit" });
    const built: Cli = {
      label: "built (dist-cli/layerlab.mjs)",
      argv: [process.execPath, join(ROOT, "dist-cli/layerlab.mjs")],
    };
    const dir = mkdtempSync(join(tmpdir(), "layerlab-bench-cli-"));
    try {
      const reference = referenceCli(dir);
      console.log(`reference: ${reference.label}`);

      // Start-up: one warm-up each, then alternating runs so both see the same machine.
      runOnce(built, ["--version"]);
      runOnce(reference, ["--version"]);
      // Node itself with nothing to run: the floor any Node program starts from on this machine.
      const node: Cli = { label: "node -e 0", argv: [process.execPath, "-e", "0"] };
      const startBuilt: Run[] = [];
      const startRef: Run[] = [];
      const startNode: Run[] = [];
      for (let i = 0; i < runs * 3; i++) {
        startBuilt.push(runOnce(built, ["--version"]));
        startRef.push(runOnce(reference, ["--version"]));
        startNode.push(runOnce(node, []));
      }
      const sb = medianRun(startBuilt);
      const sr = medianRun(startRef);
      const sn = medianRun(startNode);
      console.log(row("", "built ms", "built RSS", "tsx ms", "tsx RSS", "node -e 0 ms"));
      console.log(row(`layerlab --version (median of ${runs * 3})`, sb.ms, sb.mb, sr.ms, sr.mb, sn.ms));

      // The images.
      const gen = await generateArchive(dir, spec, "gzip");
      for (const l of gen.layers) rmSync(l.file);
      const ctx = join(dir, "example");
      mkdirSync(ctx);
      writeFileSync(join(ctx, "Dockerfile"), EXAMPLE);
      writeFileSync(join(ctx, "app.py"), 'print("Hello from a LayerLab image")\n');
      const example = join(dir, "example.tar");
      runOnce(built, ["build", "-q", "-t", "layerlab/example:latest", "-o", example, ctx]);
      const archives: [string, string][] = [
        [`${spec.bytes / MiB} MB, ${spec.files} files, ${spec.layers} layers`, gen.archive],
        ["the example (layerlab build)", example],
      ];
      if (env.LAYERLAB_BENCH_CLI_ARCHIVE)
        archives.push([env.LAYERLAB_BENCH_CLI_ARCHIVE, env.LAYERLAB_BENCH_CLI_ARCHIVE]);

      console.log(
        row("inspect --json", "built s", "built MB/s", "built RSS", "tsx s", "tsx MB/s", "tsx RSS"),
      );
      for (const [label, archive] of archives) {
        const mb = statSync(archive).size / MiB;
        const b: Run[] = [];
        const r: Run[] = [];
        for (let i = 0; i < runs; i++) {
          b.push(runOnce(built, ["inspect", archive, "--json"]));
          r.push(runOnce(reference, ["inspect", archive, "--json"]));
        }
        const bm = medianRun(b);
        const rm = medianRun(r);
        console.log(
          row(
            `${label}, ${mb.toFixed(0)} MB tar`,
            (bm.ms / 1000).toFixed(2),
            mb / (bm.ms / 1000),
            bm.mb,
            (rm.ms / 1000).toFixed(2),
            mb / (rm.ms / 1000),
            rm.mb,
          ),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
