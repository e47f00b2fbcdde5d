/**
 * xz decompression (ADD's .tar.xz): LayerLab's decoder (xz-decompress, xz-embedded in
 * WebAssembly, streaming, every check verified) beside the native `xz -dc` on the same file in the
 * same run. The .tar.xz is made at bench time with the `xz` CLI from a generated tar: text-like
 * files (as source trees are) and some incompressible ones (as binaries and images nearly are).
 *
 * Size by environment: LAYERLAB_BENCH_XZ_MB=80 (uncompressed megabytes; the default makes a
 * .tar.xz of about 25 MB) and LAYERLAB_BENCH_XZ_LEVEL=3 (the xz preset).
 */
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTar } from "../core/archive/tar-writer.ts";
import { unxz } from "../core/archive/xz.ts";
import { prng, syntheticLayerEntries } from "../core/image/synthetic.ts";
import type { Benchmark } from "./index.ts";
import { median, row } from "./measure.ts";

const MiB = 1024 * 1024;

/** Incompressible bytes, deterministic, generated as they are written. */
async function* noise(size: number, seed: number): AsyncGenerator<Uint8Array> {
  const rnd = prng(seed);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 256 * 1024);
    const out = new Uint8Array(n);
    const words = new Uint32Array(out.buffer, 0, n >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = Math.floor(rnd() * 4294967296);
    yield out;
    left -= n;
  }
}

/** Writes the generated tar through `xz -T1 -<level>` into `file`; returns the tar's size. */
async function makeTarXz(file: string, mb: number, level: number): Promise<number> {
  const textBytes = Math.floor(mb * MiB * 0.8);
  const entries = syntheticLayerEntries(
    { layers: 1, files: Math.max(100, mb * 40), bytes: textBytes, seed: 7 },
    0,
  );
  for (let i = 0; i < 8; i++) {
    const size = Math.floor((mb * MiB * 0.2) / 8);
    entries.push({ name: `layer0/bin/blob${i}`, size, body: noise(size, 900 + i), mtime: 1_700_000_000 });
  }
  const xz = spawn("xz", ["-T1", `-${level}`, "-c"], { stdio: ["pipe", "pipe", "inherit"] });
  const out = createWriteStream(file);
  xz.stdout.pipe(out);
  const closed = new Promise<void>((resolve, reject) => {
    out.on("finish", () => resolve());
    xz.on("error", reject);
  });
  let size = 0;
  for await (const c of writeTar(entries)) {
    size += c.byteLength;
    if (!xz.stdin.write(c)) await new Promise<void>((r) => xz.stdin.once("drain", () => r()));
  }
  xz.stdin.end();
  await closed;
  return size;
}

/** Decodes the file with LayerLab's unxz, streaming from disk; returns the bytes it produced. */
async function decodeLayerLab(file: string): Promise<number> {
  let n = 0;
  const source = createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>;
  for await (const c of unxz(source, { entry: file, limit: 2 ** 40 })) n += c.byteLength;
  return n;
}

/** Times `fn` `runs` times and returns the median milliseconds and the largest RSS rise seen. */
async function measure(runs: number, fn: () => Promise<unknown>): Promise<{ ms: number; rssMiB: number }> {
  const times: number[] = [];
  let peak = 0;
  for (let i = 0; i < runs; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage().rss;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss - base);
    }, 10);
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    clearInterval(timer);
    // A decoder that never yields to the event loop is seen only here.
    peak = Math.max(peak, process.memoryUsage().rss - base);
  }
  return { ms: median(times), rssMiB: peak / MiB };
}

export const xzBenchmark: Benchmark = {
  name: "xz",
  summary: "ADD's .tar.xz decoding (xz-decompress, WebAssembly, checks verified) beside native xz -dc",
  async run() {
    if (spawnSync("xz", ["--version"]).status !== 0) {
      console.log("skipped: the xz command is not installed");
      return;
    }
    const mb = Number(process.env.LAYERLAB_BENCH_XZ_MB ?? 80);
    const level = Number(process.env.LAYERLAB_BENCH_XZ_LEVEL ?? 3);
    const dir = mkdtempSync(join(tmpdir(), "layerlab-xz-"));
    try {
      const file = join(dir, "bench.tar.xz");
      const tarBytes = await makeTarXz(file, mb, level);
      const xzBytes = statSync(file).size;
      console.log(
        `${(tarBytes / MiB).toFixed(1)} MiB tar as a ${(xzBytes / MiB).toFixed(1)} MiB .tar.xz (xz -${level}), median of 3`,
      );
      console.log(row("", "ms", "MiB/s out", "RSS rise MiB"));
      const ours = await measure(3, async () => {
        const n = await decodeLayerLab(file);
        if (n !== tarBytes) throw new Error(`unxz produced ${n} bytes, not ${tarBytes}`);
      });
      console.log(
        row(
          "LayerLab unxz (streaming from the file)",
          ours.ms,
          tarBytes / MiB / (ours.ms / 1000),
          ours.rssMiB,
        ),
      );
      const native = await measure(3, async () => {
        const r = spawnSync("sh", ["-c", `xz -dc '${file}' > /dev/null`]);
        if (r.status !== 0) throw new Error(`xz -dc failed: ${r.stderr}`);
      });
      console.log(
        row("native xz -dc > /dev/null (reference)", native.ms, tarBytes / MiB / (native.ms / 1000), "-"),
      );
      console.log(row("LayerLab / native time", `${(ours.ms / native.ms).toFixed(2)}x`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
