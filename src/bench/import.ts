/**
 * Import throughput of a generated image archive (N layers, M files, S bytes, gzip or zstd) in
 * Node, beside the native pipeline on the same layers in the same run: per layer
 * `gzip -dc | tee >(sha256sum) | tar -t` (or `zstd -dc`). Peak memory of the import is measured
 * in a child process (so generating the archive does not count). Also measures the decompressors
 * and hashers LayerLab could use, on the same bytes.
 *
 * Size by environment (defaults give a run of well under a minute):
 *   LAYERLAB_BENCH_MB=50 LAYERLAB_BENCH_FILES=5000 LAYERLAB_BENCH_LAYERS=5 LAYERLAB_BENCH_COMPRESSION=gzip
 * The figure: LAYERLAB_BENCH_MB=500 LAYERLAB_BENCH_FILES=50000 LAYERLAB_BENCH_LAYERS=10.
 * LAYERLAB_BENCH_VARIANTS=native,fflate,native-nofilehash,native-parallel2,native-workers2 picks
 * the import variants to run (parallel2: the archive as a Blob, 2 layers read at once in one
 * thread, which only overlaps waiting; workers2: each layer ingested by one of 2 worker threads
 * through ImportOptions.ingestEntry, as the browser's worker pool can).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, openAsBlob, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { constants, createGzip } from "node:zlib";
import { Gunzip } from "fflate";
import { Decompress as ZstdDecompress } from "fzstd";
import { createSHA256 } from "hash-wasm";
import { plugNodePlatform } from "../cli/node-platform.ts";
import { writeTar } from "../core/archive/tar-writer.ts";
import { createSha256, type Digest } from "../core/digest.ts";
import {
  type EntryJob,
  type IngestedEntry,
  importArchive,
  ingestArchiveEntry,
} from "../core/image/import.ts";
import { type BlobSource, minimalConfig, writeOciArchive } from "../core/image/layout-writer.ts";
import { type SyntheticSpec, syntheticLayerEntries } from "../core/image/synthetic.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import type { BlobStore, PutOptions, PutResult, Store } from "../core/store/types.ts";
import type { Benchmark } from "./index.ts";
import { row } from "./measure.ts";

const MiB = 1024 * 1024;

function settings() {
  const env = process.env;
  return {
    spec: {
      layers: Number(env.LAYERLAB_BENCH_LAYERS ?? 5),
      files: Number(env.LAYERLAB_BENCH_FILES ?? 5000),
      bytes: Number(env.LAYERLAB_BENCH_MB ?? 50) * MiB,
      seed: 1,
    } satisfies SyntheticSpec,
    compression: (env.LAYERLAB_BENCH_COMPRESSION ?? "gzip") as "gzip" | "zstd",
  };
}

/** Writes a stream to a file while hashing it. */
async function writeHashed(
  source: AsyncIterable<Uint8Array>,
  path: string,
): Promise<{ digest: Digest; size: number }> {
  const h = createHash("sha256");
  const out = createWriteStream(path);
  let size = 0;
  for await (const c of source) {
    h.update(c);
    size += c.byteLength;
    if (!out.write(c)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** Generates the archive: every layer compressed to its own file, then the OCI layout around them. */
export async function generateArchive(dir: string, spec: SyntheticSpec, compression: "gzip" | "zstd") {
  const layers: (BlobSource & { mediaType: string; file: string })[] = [];
  const diffIds: Digest[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const tarFile = join(dir, `layer${i}.tar`);
    const t = await writeHashed(writeTar(syntheticLayerEntries(spec, i)), tarFile);
    diffIds.push(t.digest);
    const file = join(dir, `layer${i}.${compression === "gzip" ? "gz" : "zst"}`);
    if (compression === "gzip") {
      await writeHashed(
        createReadStream(tarFile).pipe(createGzip({ level: constants.Z_DEFAULT_COMPRESSION })),
        file,
      );
    } else {
      execFileSync("zstd", ["-q", "-3", "-f", tarFile, "-o", file]);
    }
    rmSync(tarFile);
    const bytes = statSync(file).size;
    const h = createHash("sha256");
    for await (const c of createReadStream(file)) h.update(c as Buffer);
    layers.push({
      digest: `sha256:${h.digest("hex")}`,
      size: bytes,
      open: () => createReadStream(file),
      mediaType: `application/vnd.oci.image.layer.v1.tar+${compression}`,
      file,
    });
  }
  const config = new TextEncoder().encode(JSON.stringify(minimalConfig(diffIds)));
  const archive = join(dir, "image.tar");
  await writeHashed(writeOciArchive([{ names: ["bench:1"], config, layers }]), archive);
  return { archive, layers, uncompressed: spec.bytes };
}

/**
 * A blob store that hashes and counts what is put and keeps nothing, so the figure is the
 * pipeline's (read, decompress, hash, index), not a storage backend's, and memory stays honest.
 */
function discardingStore(): Store {
  const base = openMemoryStore();
  const sizes = new Map<Digest, number>();
  const blobs: BlobStore = {
    ...base.blobs,
    has: async (d) => sizes.has(d),
    size: async (d) => sizes.get(d),
    put: (bytes, options) =>
      blobs.putStream(
        (async function* () {
          yield bytes;
        })(),
        options,
      ),
    async putStream(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
      const h = await createSha256();
      let size = 0;
      for await (const c of source) {
        h.update(c);
        size += c.byteLength;
      }
      const digest = h.finish();
      const deduplicated = sizes.has(digest);
      sizes.set(digest, size);
      if (options?.expected && options.expected !== digest) throw new Error("digest mismatch");
      return { digest, size, deduplicated };
    },
    // Kept by reference, as IndexedDB keeps a File's slice: the importer has hashed the bytes.
    adopt: async (blob, digest) => {
      const deduplicated = sizes.has(digest);
      sizes.set(digest, blob.size);
      return { digest, size: blob.size, deduplicated };
    },
    delete: async (d) => sizes.delete(d),
  };
  return { ...base, blobs };
}

/** Worker threads that each ingest one layer at a time from their own slice of the archive. */
function workerPool(archive: string, n: number, nodeSha = false) {
  const self = fileURLToPath(import.meta.url);
  const idle: Worker[] = [];
  const waiting: ((w: Worker) => void)[] = [];
  // tsx's loader hooks do not reach worker threads by themselves: each worker registers them first.
  const boot = `import("tsx/esm/api").then(async (t) => { t.register(); await import(${JSON.stringify(pathToFileURL(self).href)}); })`;
  const all = Array.from(
    { length: n },
    () => new Worker(boot, { eval: true, workerData: { archive, nodeSha } }),
  );
  idle.push(...all);
  // Started (and their modules compiled) before the clock starts.
  const ready = Promise.all(all.map((w) => new Promise((r) => w.once("message", r))));
  const take = () => new Promise<Worker>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r)));
  const give = (w: Worker) => (waiting.length ? waiting.shift()!(w) : idle.push(w));
  return {
    ready,
    async run(job: EntryJob): Promise<IngestedEntry> {
      const w = await take();
      try {
        return await new Promise<IngestedEntry>((resolve, reject) => {
          w.once("message", (m: { ok: IngestedEntry } | { error: string }) =>
            "ok" in m ? resolve(m.ok) : reject(new Error(m.error)),
          );
          w.postMessage(job);
        });
      } finally {
        give(w);
      }
    },
    async close() {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}

/** Worker mode: ingest the entries the main thread sends, into a store of this thread. */
function serveWorker(archive: string): void {
  const store = discardingStore();
  const file = openAsBlob(archive);
  parentPort!.postMessage("ready");
  parentPort!.on("message", async (job: EntryJob) => {
    try {
      const blob = await file;
      const ok = await ingestArchiveEntry(store, blob.slice(job.start, job.end).stream(), job.path);
      parentPort!.postMessage({ ok });
    } catch (err) {
      parentPort!.postMessage({ error: String((err as Error)?.message ?? err) });
    }
  });
}

/** Child mode: import the archive once and report time and memory as JSON. */
async function child(archive: string, variant: string): Promise<void> {
  // "node": the core with Node's native sha256 plugged in, as the layerlab command line runs it.
  const nodeSha = variant.startsWith("node-");
  if (nodeSha) plugNodePlatform();
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const parallel = /(parallel|workers)(\d+)/.exec(variant);
  const pool = parallel?.[1] === "workers" ? workerPool(archive, Number(parallel[2]), nodeSha) : undefined;
  await pool?.ready;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = parallel ? await openAsBlob(archive) : createReadStream(archive, { highWaterMark: MiB });
  const r = await importArchive(discardingStore(), source, {
    gzipEngine: variant.includes("fflate") ? "fflate" : "native",
    hashFiles: !variant.includes("nofilehash"),
    ...(parallel ? { concurrency: Number(parallel[2]) } : {}),
    ...(pool ? { ingestEntry: pool.run } : {}),
  });
  await pool?.close();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRss: peak,
      maxRss: process.resourceUsage().maxRSS * 1024,
      layers: r.images[0]!.layers.length,
    }),
  );
}

export function nativePipeline(
  layers: { file: string }[],
  compression: "gzip" | "zstd",
  /** Pin the pipeline to these CPUs (taskset's list, e.g. "0" for one core). */
  cpus?: string,
): { ms: number; cpuMs: number } {
  const tool = compression === "gzip" ? "gzip -dc" : "zstd -dc";
  const script = layers
    .map((l) => `${tool} '${l.file}' | tee >(sha256sum >/dev/null) | tar -t >/dev/null`)
    .join("\n");
  const t0 = performance.now();
  const shell = ["bash", "-c", `TIMEFORMAT='%U %S'; time { ${script}; }`];
  const [cmd, ...args] = cpus ? ["taskset", "-c", cpus, ...shell] : shell;
  const r = spawnSync(cmd!, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`native pipeline failed: ${r.stderr}`);
  const ms = performance.now() - t0;
  const [u, s] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
  return { ms, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000 };
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(file, { highWaterMark: MiB })) yield c as Buffer;
}

/** The decompressors and hashers LayerLab could use, on the same layer files. */
async function alternatives(layers: { file: string }[], compression: "gzip" | "zstd", uncompressed: number) {
  const rate = (ms: number) => (uncompressed / MiB / (ms / 1000)).toFixed(1);
  if (compression === "gzip") {
    const fflateMs = await timeIt(async () => {
      for (const l of layers) {
        const g = new Gunzip(() => {});
        for await (const c of fileChunks(l.file)) {
          for (let at = 0; at < c.byteLength; at += 64 * 1024) g.push(c.subarray(at, at + 64 * 1024));
        }
        g.push(new Uint8Array(0), true);
      }
    });
    const dsMs = await timeIt(async () => {
      for (const l of layers) {
        const ds = new DecompressionStream("gzip");
        const writer = ds.writable.getWriter();
        const reading = (async () => {
          const reader = ds.readable.getReader();
          while (!(await reader.read()).done) {
            /* drain */
          }
        })();
        for await (const c of fileChunks(l.file)) await writer.write(c as Uint8Array<ArrayBuffer>);
        await writer.close();
        await reading;
      }
    });
    console.log(row("gunzip: fflate Gunzip (fallback) MiB/s", rate(fflateMs)));
    console.log(row("gunzip: DecompressionStream (chosen where present) MiB/s", rate(dsMs)));
  } else {
    const fzstdMs = await timeIt(async () => {
      for (const l of layers) {
        const z = new ZstdDecompress(() => {});
        for await (const c of fileChunks(l.file)) z.push(c);
        z.push(new Uint8Array(0), true);
      }
    });
    console.log(row("unzstd: fzstd MiB/s", rate(fzstdMs)));
  }
  const block = new Uint8Array(64 * MiB).fill(97);
  const wasm = await createSHA256();
  const wasmMs = await timeIt(async () => {
    wasm.init();
    for (let i = 0; i < 4; i++) wasm.update(block);
    wasm.digest("hex");
  });
  const nodeMs = await timeIt(async () => {
    const h = createHash("sha256");
    for (let i = 0; i < 4; i++) h.update(block);
    h.digest("hex");
  });
  console.log(row("sha256: hash-wasm (chosen, runs in browsers) MiB/s", (256 / (wasmMs / 1000)).toFixed(1)));
  console.log(row("sha256: node:crypto (OpenSSL, reference) MiB/s", (256 / (nodeMs / 1000)).toFixed(1)));
}

export const importBenchmark: Benchmark = {
  name: "import",
  summary: "import a generated image archive (Node) beside gzip -dc | sha256sum + tar -t on the same layers",
  async run() {
    const { spec, compression } = settings();
    const dir = mkdtempSync(join(tmpdir(), "ll-bench-import-"));
    try {
      console.log(
        `generating ${spec.layers} ${compression} layers, ${spec.files} files, ${spec.bytes / MiB} MiB uncompressed...`,
      );
      const { archive, layers, uncompressed } = await generateArchive(dir, spec, compression);
      const archiveBytes = statSync(archive).size;
      console.log(row("archive size (MiB)", archiveBytes / MiB));
      const native = nativePipeline(layers, compression);
      const self = fileURLToPath(import.meta.url);
      const rate = (ms: number) => uncompressed / MiB / (ms / 1000);
      console.log(row("", "wall ms", "MiB/s uncomp", "CPU ms", "peak RSS MiB"));
      console.log(
        row(`native: ${compression} -dc | tee sha256sum | tar -t`, native.ms, rate(native.ms), native.cpuMs),
      );
      const variants: [string, string][] = [
        ["LayerLab import (native gunzip, file digests)", "native"],
        ["LayerLab import (fflate gunzip, file digests)", "fflate"],
        ["LayerLab import (native gunzip, no file digests)", "native-nofilehash"],
        ["LayerLab import from a Blob, 2 layers at once", "native-parallel2"],
        ["LayerLab import, 2 worker threads (one layer each)", "native-workers2"],
        ["LayerLab CLI path (node:zlib gunzip, node:crypto sha256)", "node-native"],
        ["LayerLab CLI path, 2 worker threads", "node-native-workers2"],
        // node:zlib decodes on libuv's threads: pinned, the whole process shares one core.
        ["LayerLab CLI path, pinned to one core", "node-native-onecore"],
      ];
      const wanted = process.env.LAYERLAB_BENCH_VARIANTS?.split(",");
      const chosen = (compression === "gzip" ? variants : variants.slice(0, 1)).filter(
        ([, v]) => !wanted || wanted.includes(v),
      );
      for (const [label, variant] of chosen) {
        const pinned = variant.endsWith("-onecore");
        const reference = pinned ? nativePipeline(layers, compression, "0") : native;
        if (pinned) {
          console.log(
            row(
              `native pinned to one core (taskset -c 0)`,
              reference.ms,
              rate(reference.ms),
              reference.cpuMs,
            ),
          );
        }
        const command = [process.execPath, "--import", "tsx", self, "--child", archive, variant];
        const [exe, ...args] = pinned ? ["taskset", "-c", "0", ...command] : command;
        const r = spawnSync(exe!, args, { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`import child failed: ${r.stderr}`);
        const ll = JSON.parse(r.stdout) as { ms: number; cpuMs: number; peakRss: number; maxRss: number };
        console.log(row(label, ll.ms, rate(ll.ms), ll.cpuMs, Math.max(ll.peakRss, ll.maxRss) / MiB));
        console.log(row("  throughput vs native (wall)", "", (reference.ms / ll.ms).toFixed(2)));
      }
      await alternatives(layers, compression, uncompressed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (!isMainThread && (workerData as { archive?: string })?.archive) {
  if ((workerData as { nodeSha?: boolean }).nodeSha) plugNodePlatform();
  serveWorker((workerData as { archive: string }).archive);
} else if (process.argv[2] === "--child" && process.argv[3]) {
  await child(process.argv[3], process.argv[4] ?? "");
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await importBenchmark.run();
}
