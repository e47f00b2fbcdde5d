/**
 * Registry benchmark: a generated 500 MB, 10-layer gzip image pushed to and pulled from a CNCF
 * distribution registry on loopback, by the `layerlab` CLI and by `skopeo copy` on the same image,
 * each against a fresh registry (so neither finds the other's blobs). Then a second image sharing
 * all but one layer is pushed, and the registry's access log shows what it was sent. Figures: wall
 * time, throughput, and the peak RSS of each process (GNU time). Last, the page pulls the image
 * through its Pull form in headless Chromium, into IndexedDB in memory and on disk, and once more
 * while the browser's memory (PSS of all its processes, as `bench ui` takes it for an import) and
 * CPU time are watched. The page's timed pulls come in rounds (LAYERLAB_BENCH_REGISTRY_ROUNDS,
 * default 3), each after a skopeo pull of the same image from the same registry, and the medians
 * are printed: skopeo's own time moves by 2x between minutes on shared cores. Each round also
 * times Chromium alone moving the same blobs into IndexedDB on disk the way the page does, with
 * nothing hashed or decoded (chromiumAlone): the part of the page's pull no change of ours can
 * cut. The watched pull prints how many GETs of the layers the registry answered (ranges).
 * Every timed step starts after `sync`, so none pays for writing back what the last one left
 * dirty in the page cache.
 * The CLI's push and pull come in rounds as well, each against fresh registries, its ratios taken
 * within the round. LAYERLAB_BENCH_REGISTRY_ONLY=page runs only the page's rounds, =cli only the
 * CLI's (and the second push); LAYERLAB_BENCH_REGISTRY_PORT
 * moves the preview server off 4292; LAYERLAB_BENCH_REGISTRY_TRACE=file.json writes a trace of
 * the first round's in-memory pull (every thread's V8 samples).
 * LAYERLAB_BENCH_REGISTRY_FILES (default 1) is the files per layer, of equal size: one 50 MB file a
 * layer is the worst case for the page, whose index hashes every file (those over 8 MiB through
 * WebAssembly); an image's layers usually hold many small files (5000 makes 10 kB files).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Page } from "@playwright/test";
import { collectBytes } from "../core/archive/bytes.ts";
import { writeTar } from "../core/archive/tar-writer.ts";
import { sha256 } from "../core/digest.ts";
import { type BlobSource, writeOciArchive } from "../core/image/layout-writer.ts";
import { MediaType } from "../core/image/oci.ts";
import { chromiumLaunchOptions } from "../devtools/chromium.ts";
import {
  corsHeaders,
  registryMissing,
  startRegistry,
  type TestRegistry,
} from "../testdata/registry/harness.ts";
import { type BrowserUse, inProfile, waitForServer, watchBrowser } from "./browser-processes.ts";
import type { Benchmark } from "./index.ts";
import { row } from "./measure.ts";

const MB = 1_000_000;
const LAYERS = 10;
const LAYER_BYTES = 50 * MB;

interface LayerFile {
  file: string;
  digest: `sha256:${string}`;
  size: number;
  diffId: `sha256:${string}`;
}

/** One layer: a tar of `files` files of random bytes (so gzip keeps its size), gzipped, on disk. */
export async function makeLayer(dir: string, i: number, bytes: number, files = 1): Promise<LayerFile> {
  const each = Math.floor(bytes / files);
  const entries = Array.from({ length: files }, (_, f) => ({
    name: files === 1 ? `layer${i}/data.bin` : `layer${i}/d${f % 50}/f${f}.bin`,
    body: randomBytes(each),
    mtime: 1_700_000_000,
  }));
  const tar = await collectBytes(writeTar(entries));
  const gz = gzipSync(tar, { level: 1 });
  const file = join(dir, `layer${i}.gz`);
  writeFileSync(file, gz);
  return { file, digest: await sha256(gz), size: gz.byteLength, diffId: await sha256(tar) };
}

export async function writeArchive(path: string, layers: LayerFile[], tag: string): Promise<void> {
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created_by: `layer ${i}` })),
    }),
  );
  const blob = (l: LayerFile): BlobSource & { mediaType: string } => ({
    digest: l.digest,
    size: l.size,
    mediaType: MediaType.ociLayerGzip,
    async *open() {
      for await (const c of createReadStream(l.file, { highWaterMark: 1 << 20 })) yield c as Uint8Array;
    },
  });
  const out = createWriteStream(path);
  for await (const c of writeOciArchive([{ names: [tag], config, layers: layers.map(blob) }])) {
    if (!out.write(c)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/** A timed run: wall seconds and peak RSS in MB (unknown for the page, whose browser has many processes). */
interface Timed {
  s: number;
  rssMb?: number;
}

/**
 * Writes every dirty page to disk (`sync`) before a timed step, so no step pays for writing back
 * what the one before it left in the page cache (a browser profile of 500 MB, skopeo's archive).
 */
function settle(): void {
  spawnSync("sync");
}

/** Runs a command under GNU time: wall seconds and peak RSS in MB. */
function timed(cmd: string, args: string[], input?: string): Required<Timed> {
  settle();
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...args], {
    encoding: "utf8",
    ...(input !== undefined ? { input } : {}),
    maxBuffer: 64 * MB,
  });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr.slice(-2000)}`);
  const [s, kb] = last.split(" ").map(Number);
  return { s: s!, rssMb: (kb! * 1024) / MB };
}

/**
 * The CLI as users run it: the bundle `npm install` builds (dist-cli/layerlab.mjs), built here
 * first when missing. Running it through tsx would add a TypeScript compiler's start-up and
 * memory (about 120 MB) that no user pays.
 */
const CLI_BUNDLE = "dist-cli/layerlab.mjs";
function cliBundle(): string[] {
  if (!existsSync(CLI_BUNDLE)) {
    const r = spawnSync("npm", ["run", "build:cli"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run build:cli failed: the benchmark runs the built CLI");
  }
  return [CLI_BUNDLE];
}

/** `skopeo copy` from one transport to another, TLS unchecked on the registry's side (plain HTTP). */
function skopeoCopy(from: string, to: string): Required<Timed> {
  const tls = from.startsWith("docker://") ? "--src-tls-verify=false" : "--dest-tls-verify=false";
  return timed("skopeo", ["copy", "-q", tls, from, to]);
}

/** The built CLI run with these arguments, timed. */
function timedLayerlab(...args: string[]): Required<Timed> {
  return timed("node", [...cliBundle(), ...args]);
}

/** The machine's load averages (1, 5, 15 minutes): other work shares its cores. */
function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

function uploads(reg: TestRegistry) {
  return reg
    .requests()
    .filter((r) => (r.method === "PUT" || r.method === "PATCH") && r.path.includes("/blobs/uploads/"));
}

export const registryBenchmark: Benchmark = {
  name: "registry",
  summary:
    "push and pull a 500 MB, 10-layer gzip image on a loopback registry: layerlab CLI and the page's pull beside skopeo copy",
  async run() {
    if (registryMissing || !existsSync("/usr/bin/skopeo")) {
      console.log(
        `skipped: ${registryMissing ?? "/usr/bin/skopeo is not installed (apt-get install -y skopeo)"}`,
      );
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "layerlab-bench-registry-"));
    const regs: TestRegistry[] = [];
    try {
      const layers: LayerFile[] = [];
      const files = Number(process.env.LAYERLAB_BENCH_REGISTRY_FILES ?? 1);
      for (let i = 0; i < LAYERS; i++) layers.push(await makeLayer(dir, i, LAYER_BYTES, files));
      const archive = join(dir, "image.oci.tar");
      await writeArchive(archive, layers, "bench:1");
      const only = process.env.LAYERLAB_BENCH_REGISTRY_ONLY;
      const pageOnly = only === "page";
      const bytes = layers.reduce((a, l) => a + l.size, 0);
      console.log(
        `image: ${LAYERS} gzip layers of ${files} file(s) each, ${(bytes / MB).toFixed(0)} MB of blobs; archive ${(statSync(archive).size / MB).toFixed(0)} MB`,
      );

      const mbps = (s: number) => `${(bytes / MB / s).toFixed(0)} MB/s`;
      /** One run's row: its figures, and its speed as a multiple of skopeo's run of the same transfer. */
      const rowOf = (label: string, run: Timed, skopeo: Timed) =>
        row(
          label,
          run.s,
          mbps(run.s),
          run.rssMb ?? "-",
          run === skopeo ? "1.00x" : `${(skopeo.s / run.s).toFixed(2)}x`,
        );

      console.log(row("", "seconds", "throughput", "peak RSS MB", "of skopeo"));
      // LAYERLAB_BENCH_REGISTRY_ONLY=page: only the page's pulls, each round beside skopeo's (no
      // registries of the CLI's own, no second image).
      const rounds = Math.max(1, Number(process.env.LAYERLAB_BENCH_REGISTRY_ROUNDS ?? 3));
      const median = (xs: number[]) => {
        const o = [...xs].sort((a, b) => a - b);
        return o.length % 2 ? o[(o.length - 1) / 2]! : (o[o.length / 2 - 1]! + o[o.length / 2]!) / 2;
      };
      const sec = (xs: number[]) => `${median(xs).toFixed(1)} s`;
      // LAYERLAB_BENCH_REGISTRY_ONLY=page: only the page's pulls, each round beside skopeo's (no
      // registries of the CLI's own, no second image).
      if (!pageOnly) {
        // The CLI in rounds too, for the same reason as the page: skopeo's own push and pull move
        // by 1.5-2x from one minute to the next on shared cores. Each round pushes to two fresh
        // registries (one each, so neither finds the other's blobs), skopeo then LayerLab, and
        // pulls back from them the same way; each ratio is taken within its round.
        const cli: {
          skPush: Required<Timed>;
          llPush: Required<Timed>;
          skPull: Required<Timed>;
          llPull: Required<Timed>;
        }[] = [];
        let lastForLayerlab: TestRegistry | undefined;
        for (let round = 0; round < rounds; round++) {
          const [forSkopeo, forLayerlab] = await Promise.all([startRegistry("none"), startRegistry("none")]);
          regs.push(forSkopeo, forLayerlab);
          const skPush = skopeoCopy(`oci-archive:${archive}`, `docker://${forSkopeo.domain}/bench/app:1`);
          const llPush = timedLayerlab("push", archive, `${forLayerlab.domain}/bench/app:1`);
          const skOut = join(dir, "sk-pulled.tar");
          const llOut = join(dir, "ll-pulled.tar");
          const skPull = skopeoCopy(`docker://${forSkopeo.domain}/bench/app:1`, `oci-archive:${skOut}`);
          const llPull = timedLayerlab(
            "pull",
            `${forLayerlab.domain}/bench/app:1`,
            "-o",
            llOut,
            "--format",
            "oci",
          );
          rmSync(skOut, { force: true });
          rmSync(llOut, { force: true });
          cli.push({ skPush, llPush, skPull, llPull });
          console.log(`CLI round ${round + 1} of ${rounds}:`);
          console.log(rowOf("  push (archive → registry): layerlab", llPush, skPush));
          console.log(rowOf("  push: skopeo copy oci-archive: docker://", skPush, skPush));
          console.log(rowOf("  pull (registry → OCI archive): layerlab", llPull, skPull));
          console.log(rowOf("  pull: skopeo copy docker:// oci-archive:", skPull, skPull));
          await forSkopeo.stop();
          if (round < rounds - 1) await forLayerlab.stop();
          else lastForLayerlab = forLayerlab;
        }
        const ratio = (k: "Push" | "Pull") =>
          median(cli.map((r) => r[`sk${k}`].s / r[`ll${k}`].s)).toFixed(2);
        const peak = (k: "llPush" | "llPull") => Math.max(...cli.map((r) => r[k].rssMb)).toFixed(0);
        console.log(
          `CLI, median of ${rounds} round(s): push ${sec(cli.map((r) => r.llPush.s))} against skopeo's ` +
            `${sec(cli.map((r) => r.skPush.s))} (${ratio("Push")}x of skopeo), pull ${sec(cli.map((r) => r.llPull.s))} ` +
            `against ${sec(cli.map((r) => r.skPull.s))} (${ratio("Pull")}x); the CLI's peak RSS at most ` +
            `${peak("llPush")} MB pushing, ${peak("llPull")} MB pulling`,
        );

        const forLayerlab = lastForLayerlab!;
        const second = [...layers.slice(0, LAYERS - 1), await makeLayer(dir, 99, 5 * MB, files)];
        const archive2 = join(dir, "image2.oci.tar");
        await writeArchive(archive2, second, "bench:2");
        forLayerlab.mark();
        const llPush2 = timedLayerlab("push", archive2, `${forLayerlab.domain}/bench/app:2`);
        const sent = uploads(forLayerlab).filter((r) => r.method === "PUT");
        const patched = uploads(forLayerlab).filter((r) => r.method === "PATCH").length;
        const manifests = forLayerlab
          .requests()
          .filter((r) => r.method === "PUT" && r.path.includes("/manifests/")).length;
        console.log(
          `second push, all but one layer shared: ${llPush2.s.toFixed(1)} s; the registry received ${sent.length} blob uploads ` +
            `(${sent.map((r) => (r.path.includes(second[LAYERS - 1]!.digest.slice(7)) ? "the new layer" : "the config")).join(" and ")}), ` +
            `${patched} PATCH chunks and ${manifests} manifest`,
        );
      }

      if (only === "cli") return;
      // The browser: the page's own client pulls the same image into IndexedDB, in rounds, each
      // beside a skopeo pull of the same image from the same registry just before it: skopeo's
      // own time moves by 2x from one minute to the next on shared cores, so one pair is no figure.
      const forPage = await startRegistry("none", { headers: corsHeaders() });
      regs.push(forPage);
      skopeoCopy(`oci-archive:${archive}`, `docker://${forPage.domain}/bench/app:1`);
      console.log(`load average before the page's pulls: ${loadAverage()}`);
      const blobs = layers.map((l) => ({
        url: `http://${forPage.domain}/v2/bench/app/blobs/${l.digest}`,
        size: l.size,
      }));
      const page = await browserPulls(`${forPage.domain}/bench/app:1`, forPage, blobs, dir, rounds, () => {
        const out = join(dir, "sk-page.tar");
        const t = skopeoCopy(`docker://${forPage.domain}/bench/app:1`, `oci-archive:${out}`);
        rmSync(out, { force: true });
        return t;
      });
      const ratios = { memory: [] as number[], disk: [] as number[], floor: [] as number[] };
      for (const [i, r] of page.rounds.entries()) {
        ratios.memory.push(r.skopeo.s / r.inMemoryS);
        ratios.disk.push(r.skopeo.s / r.onDiskS);
        ratios.floor.push(r.skopeo.s / r.floorS);
        const pageRow = (label: string, s: number) => rowOf(label, { s }, r.skopeo);
        console.log(`round ${i + 1} of ${rounds}:`);
        console.log(rowOf("  pull: skopeo copy docker:// oci-archive:", r.skopeo, r.skopeo));
        console.log(pageRow("  pull in Chromium (registry → IndexedDB in memory): the page", r.inMemoryS));
        console.log(pageRow("  pull in Chromium (registry → IndexedDB on disk): the page", r.onDiskS));
        console.log(pageRow("  Chromium alone, the same blobs by range into IndexedDB on disk", r.floorS));
      }
      console.log(
        `median of ${rounds} round(s): skopeo ${sec(page.rounds.map((r) => r.skopeo.s))}; the page ` +
          `${sec(page.rounds.map((r) => r.inMemoryS))} in memory (${median(ratios.memory).toFixed(2)}x of skopeo), ` +
          `${sec(page.rounds.map((r) => r.onDiskS))} on disk (${median(ratios.disk).toFixed(2)}x), ` +
          "each ratio taken against the skopeo pull of its own round",
      );
      console.log(
        `Chromium alone (the layers fetched by range with Response.blob(), read, and stored in IndexedDB on disk, ` +
          `two workers, nothing hashed or decoded): ${sec(page.rounds.map((r) => r.floorS))} (${median(ratios.floor).toFixed(2)}x of skopeo), ` +
          `CPU ${(page.floorCpu.userMs / 1000).toFixed(1)} s user + ${(page.floorCpu.kernelMs / 1000).toFixed(1)} s kernel (the last round)`,
      );
      console.log(`load average after them: ${loadAverage()}`);
      const w = page.watched;
      const mib = (b: number) => (b / 2 ** 20).toFixed(0);
      console.log(
        `the browser during a pull on disk (${w.result.toFixed(1)} s): PSS of all its processes ${mib(w.idle)} MiB idle, ` +
          `${mib(w.peak)} MiB at the peak (${mib(w.peak - w.idle)} MiB over idle); CPU ${(w.userMs / 1000).toFixed(1)} s user + ${(w.kernelMs / 1000).toFixed(1)} s kernel; ` +
          `${page.blobGets} GETs of the ${LAYERS} layers' blobs (Chromium alone: ${blobs.reduce((n, b) => n + Math.ceil(b.size / 2 ** 25), 0)})`,
      );
      console.log(
        `its busiest threads (CPU, user + kernel; the kernel part; minor page faults):\n${w.threads.join("\n")}`,
      );
    } finally {
      for (const r of regs) await r.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const PAGE_PORT = Number(process.env.LAYERLAB_BENCH_REGISTRY_PORT ?? 4292);

/** One round: the reference's pull, then the page's in memory and on disk, back to back. */
interface PageRound {
  skopeo: Timed;
  /** Seconds from Enter to "Pulled" on screen, IndexedDB in memory (a fresh context). */
  inMemoryS: number;
  /** The same in a profile of its own on disk, as a person's browser keeps IndexedDB. */
  onDiskS: number;
  /** What Chromium alone takes to move the same blobs into IndexedDB on disk (see chromiumAlone). */
  floorS: number;
}

/** The page's pulls of one image: timed rounds, then one watched. */
interface PagePulls {
  rounds: PageRound[];
  /** One more pull on disk: the browser's memory (PSS) and CPU time while it ran. */
  watched: BrowserUse<number>;
  /** The browser's CPU time for the last round's chromiumAlone. */
  floorCpu: { userMs: number; kernelMs: number };
  /** GETs of the layers' blobs in the watched pull (ranges). */
  blobGets: number;
}

/**
 * Pulls `reference` with the page's Pull form in headless Chromium (the built app under vite
 * preview), each time into an empty store: seconds from Enter to "Pulled" on screen with
 * IndexedDB in memory and on disk, then once more watching the memory and CPU time of all the
 * browser's processes (as `bench ui` watches an import).
 */
async function browserPulls(
  reference: string,
  registry: TestRegistry,
  blobs: FloorBlob[],
  dir: string,
  rounds: number,
  skopeoPull: () => Timed,
): Promise<PagePulls> {
  execFileSync("npx", ["vite", "build"], { stdio: "ignore" });
  const server = spawn(
    "npx",
    ["vite", "preview", "--port", String(PAGE_PORT), "--strictPort", "--host", "127.0.0.1"],
    { stdio: "ignore", detached: true },
  );
  const launchOptions = chromiumLaunchOptions();
  const origin = `http://127.0.0.1:${PAGE_PORT}`;
  /** Opens the app and the Pull form with the reference typed; the returned function pulls. */
  const ready = async (page: Page) => {
    await page.goto(origin);
    // The example of the first visit built and shown (as the e2e tests' openApp waits), so the
    // pull does not share the store's worker with that build.
    await page
      .getByRole("combobox", { name: "Image" })
      .filter({ hasText: "layerlab/example" })
      .waitFor({ timeout: 120_000 });
    await page
      .getByRole("list", { name: "Layer stack" })
      .getByRole("button", { name: /Layer 3/ })
      .waitFor({ timeout: 120_000 });
    await page.getByRole("button", { name: "Pull", exact: true }).click();
    const field = page.getByRole("textbox", { name: "Image reference" });
    await field.fill(reference);
    return async () => {
      settle();
      const t0 = Date.now();
      await field.press("Enter");
      await page
        .getByRole("region", { name: "Registry transfer" })
        .getByRole("status")
        .filter({ hasText: `Pulled ${reference}` })
        .waitFor({ timeout: 600_000 });
      return (Date.now() - t0) / 1000;
    };
  };
  try {
    await waitForServer(origin);
    const timed: PageRound[] = [];
    let floorCpu = { userMs: 0, kernelMs: 0 };
    for (let round = 0; round < rounds; round++) {
      const skopeo = skopeoPull();
      const browser = await chromium.launch(launchOptions);
      let inMemoryS: number;
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        const pull = await ready(page);
        // LAYERLAB_BENCH_REGISTRY_TRACE=file.json: a trace of the first round's pull with every
        // thread's samples (the V8 CPU profiler of the page and each worker), to see where the time goes.
        const tracePath = round === 0 ? process.env.LAYERLAB_BENCH_REGISTRY_TRACE : undefined;
        if (tracePath)
          await browser.startTracing(page, {
            categories: ["toplevel", "disabled-by-default-v8.cpu_profiler", "devtools.timeline"],
          });
        inMemoryS = await pull();
        if (tracePath) writeFileSync(tracePath, await browser.stopTracing());
      } finally {
        await browser.close();
      }
      const profile = join(dir, `profile-timed-${round}`);
      const onDiskS = await inProfile(profile, launchOptions, async (page) => (await ready(page))());
      rmSync(profile, { recursive: true, force: true });
      const floorProfile = join(dir, `profile-floor-${round}`);
      const floor = await inProfile(floorProfile, launchOptions, async (page) => {
        // A document of the app's origin that runs none of the app (its IndexedDB is its own).
        await page.goto(`${origin}/lesson.schema.json`);
        await new Promise((r) => setTimeout(r, 1000));
        settle();
        return watchBrowser(floorProfile, () => chromiumAlone(page, blobs));
      });
      floorCpu = floor;
      rmSync(floorProfile, { recursive: true, force: true });
      timed.push({ skopeo, inMemoryS, onDiskS, floorS: floor.result });
    }
    const watchedProfile = join(dir, "profile-watched");
    const watched = await inProfile(watchedProfile, launchOptions, async (page) => {
      const pull = await ready(page);
      // The page at rest first: what the pull adds is measured from there.
      await new Promise((r) => setTimeout(r, 1000));
      registry.mark();
      return watchBrowser(watchedProfile, pull);
    });
    // The layers' GETs the registry answered for the watched pull: one per range (or per layer
    // streamed whole), each with a fixed cost in the browser (a request, a data pipe, a blob file).
    const blobGets = registry
      .requests()
      .filter((r) => r.method === "GET" && blobs.some((b) => b.url.endsWith(r.path))).length;
    return { rounds: timed, watched, floorCpu, blobGets };
  } finally {
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/** A layer's blob on the registry, for chromiumAlone. */
interface FloorBlob {
  url: string;
  size: number;
}

/**
 * The part of the page's pull that is Chromium's own, measured alone: two workers (as the page's
 * two helpers) each take every other layer and fetch it in 32 MiB ranges (the size the page's
 * ranges reach on loopback), one range ahead, each with `Response.blob()`, read each range's Blob
 * into two buffers by turns, and have IndexedDB store the Blob the ranges compose, as the page
 * does, but nothing is hashed, decompressed or indexed. The page cannot be faster than this
 * (seconds), so it bounds what any change to the page's own work can give. Runs in a worker made
 * from this source, in a document of the page's origin that runs none of the app.
 */
async function chromiumAlone(page: Page, blobs: FloorBlob[]): Promise<number> {
  return page.evaluate(
    ([source, layers]) =>
      new Promise<number>((resolve, reject) => {
        const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
        const t0 = performance.now();
        const helpers = [0, 1].map(() => new Worker(url));
        let done = 0;
        for (const [i, w] of helpers.entries()) {
          w.onmessage = (e: MessageEvent<{ error?: string }>) => {
            if (e.data.error) reject(new Error(e.data.error));
            else if (++done === helpers.length) resolve((performance.now() - t0) / 1000);
          };
          w.postMessage(layers.filter((_, k) => k % helpers.length === i));
        }
      }),
    [CHROMIUM_ALONE_WORKER, blobs] as const,
  );
}

/** chromiumAlone's worker, as plain JavaScript (it runs from a Blob URL). */
const CHROMIUM_ALONE_WORKER = `
const RANGE = 32 * 2 ** 20;
const opened = new Promise((ok, bad) => {
  const r = indexedDB.open("chromium-alone", 1);
  r.onupgradeneeded = () => r.result.createObjectStore("blobs");
  r.onsuccess = () => ok(r.result);
  r.onerror = () => bad(r.error);
});
let buffers = [new ArrayBuffer(RANGE), new ArrayBuffer(RANGE)];
async function range(url, at, want) {
  const res = await fetch(url, { headers: { Range: "bytes=" + at + "-" + (at + want - 1) }, cache: "no-store" });
  if (res.status !== 206) throw new Error(url + " answered " + res.status);
  return res.blob();
}
async function readInto(blob, k) {
  const reader = blob.stream().getReader({ mode: "byob" });
  let buffer = buffers[k], got = 0;
  while (got < blob.size) {
    const { done, value } = await reader.read(new Uint8Array(buffer, got, blob.size - got));
    if (!value) break;
    buffer = value.buffer;
    got += value.byteLength;
    if (done) break;
  }
  reader.releaseLock();
  buffers[k] = buffer;
  if (got !== blob.size) throw new Error("read " + got + " of " + blob.size);
}
self.onmessage = async (e) => {
  try {
    const db = await opened;
    for (const layer of e.data) {
      const parts = [];
      const starts = [];
      for (let at = 0; at < layer.size; at += RANGE) starts.push(at);
      let next = range(layer.url, 0, Math.min(RANGE, layer.size));
      for (let i = 0; i < starts.length; i++) {
        const blob = await next;
        if (i + 1 < starts.length) next = range(layer.url, starts[i + 1], Math.min(RANGE, layer.size - starts[i + 1]));
        await readInto(blob, i % 2);
        parts.push(blob);
      }
      await new Promise((ok, bad) => {
        const tx = db.transaction("blobs", "readwrite");
        tx.objectStore("blobs").put(new Blob(parts), layer.url);
        tx.oncomplete = ok;
        tx.onerror = () => bad(tx.error);
      });
    }
    self.postMessage({});
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
`;
