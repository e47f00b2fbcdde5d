/**
 * The explorer in headless Chromium on a generated image with 200,000 files:
 * import time beside the native pipeline on the same layers (with IndexedDB on disk, in a profile
 * of its own as a person's browser has it; in a fresh in-memory context; with the browser pinned to
 * one core), each the median of three runs and timed in the page from the file input's change to
 * "Imported" on screen; the browser's memory while importing; the time from selecting the layer to the first rows of its 200,000-entry tree on
 * screen, the time to show every row (a glob filter opens the whole tree), and frame times while
 * scrolling it. The reference, on the same paths in the same page: a plain (not virtualized) list
 * of every path, as a naive tree would render it.
 *
 * First, in a page of its own: the terminal (`ui-terminal.ts`), a command writing 10,000 files
 * beside the builder's RUN writing the same files. LAYERLAB_BENCH_UI_ONLY=terminal runs only that.
 *
 * Size by environment: LAYERLAB_BENCH_UI_FILES (default 200000), LAYERLAB_BENCH_UI_MB (default 20;
 * 500 for the import figure the archives issue asks for). Needs Debian's chromium
 * (or LAYERLAB_CHROMIUM); builds the app first.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "@playwright/test";
import { chromiumLaunchOptions } from "../devtools/chromium.ts";
import { inProfile, waitForServer, watchBrowser } from "./browser-processes.ts";
import { generateArchive, nativePipeline } from "./import.ts";
import type { Benchmark } from "./index.ts";
import { median, medianOfRuns, row } from "./measure.ts";
import { measureTerminal, printTerminal } from "./ui-terminal.ts";

const PORT = Number(process.env.LAYERLAB_BENCH_UI_PORT ?? 4291);
/** Each import figure (and its native reference) is the median of this many runs. */
const RUNS = 3;

/** Frame times (ms) over `ms` of scrolling an element by `step` pixels a frame. */
async function scrollFrames(page: Page, selector: string, ms: number, step: number): Promise<number[]> {
  return page.evaluate(
    ({ selector, ms, step }) =>
      new Promise<number[]>((resolve) => {
        const el = document.querySelector(selector) as HTMLElement;
        const times: number[] = [];
        let last = performance.now();
        const end = last + ms;
        const frame = (now: number) => {
          times.push(now - last);
          last = now;
          el.scrollTop += step;
          if (el.scrollTop + el.clientHeight >= el.scrollHeight) el.scrollTop = 0;
          if (now < end) requestAnimationFrame(frame);
          else resolve(times.slice(1));
        };
        requestAnimationFrame(frame);
      }),
    { selector, ms, step },
  );
}

function stats(times: number[]): { median: number; p95: number; max: number } {
  const s = [...times].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)] ?? 0,
    p95: s[Math.floor(s.length * 0.95)] ?? 0,
    max: s[s.length - 1] ?? 0,
  };
}

export const uiBenchmark: Benchmark = {
  name: "ui",
  summary: "explorer in headless Chromium: first render and scrolling of a 200,000-entry tree",
  async run() {
    const files = Number(process.env.LAYERLAB_BENCH_UI_FILES ?? 200_000);
    const dir = mkdtempSync(join(tmpdir(), "layerlab-ui-bench-"));
    execFileSync("npx", ["vite", "build"], { stdio: "ignore" });
    const server = spawn(
      "npx",
      ["vite", "preview", "--port", String(PORT), "--strictPort", "--host", "127.0.0.1"],
      {
        stdio: "ignore",
        detached: true,
      },
    );
    const launchOptions = chromiumLaunchOptions();
    const browser = await chromium.launch(launchOptions);
    try {
      await waitForServer(`http://127.0.0.1:${PORT}/`);
      const termPage = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await termPage.addInitScript("window.__name = (f) => f");
      await termPage.goto(`http://127.0.0.1:${PORT}/`);
      await termPage
        .getByRole("list", { name: "Layer stack" })
        .getByRole("button", { name: /Layer 3/ })
        .waitFor({ timeout: 120_000 });
      printTerminal(await measureTerminal(termPage));
      await termPage.context().close();
      if (process.env.LAYERLAB_BENCH_UI_ONLY === "terminal") return;
      const mb = Number(process.env.LAYERLAB_BENCH_UI_MB ?? 20);
      const spec = { layers: Math.max(1, Math.round(mb / 50)), files, bytes: mb * 2 ** 20, seed: 7 };
      const { archive, layers } = await generateArchive(dir, spec, "gzip");
      const nativeRuns: { ms: number; cpuMs: number }[] = [];
      const native = {
        ms: await medianOfRuns(RUNS, () => {
          const r = nativePipeline(layers, "gzip");
          nativeRuns.push(r);
          return r.ms;
        }),
        cpuMs: median(nativeRuns.map((r) => r.cpuMs)),
      };
      await waitForServer(`http://127.0.0.1:${PORT}/`);
      const open = async (page: Page) => {
        // tsx names functions with a helper; functions sent to the page need it there too.
        await page.addInitScript("window.__name = (f) => f");
        await page.goto(`http://127.0.0.1:${PORT}/`);
        await page
          .getByRole("combobox", { name: "Image" })
          .filter({ hasText: "layerlab/example" })
          .waitFor({ timeout: 120_000 });
        return page;
      };
      // Timed in the page, from the file input's change event to "Imported" on screen: Playwright's
      // own polling for the status would add about 150 ms that no person waits.
      const timeImport = async (page: Page) => {
        await page.evaluate(() => {
          const w = window as unknown as { __importMs?: Promise<number> };
          const input = document.querySelector('input[aria-label="Import image archive"]')!;
          w.__importMs = new Promise<number>((resolve) => {
            input.addEventListener(
              "change",
              () => {
                const t0 = performance.now();
                const seen = () =>
                  [...document.querySelectorAll("[role=status]")].some((el) =>
                    el.textContent?.includes("Imported"),
                  );
                new MutationObserver((_, obs) => {
                  if (!seen()) return;
                  obs.disconnect();
                  resolve(performance.now() - t0);
                }).observe(document.body, { subtree: true, childList: true, characterData: true });
              },
              { capture: true, once: true },
            );
          });
        });
        await page.getByLabel("Import image archive").setInputFiles(archive);
        await page.getByRole("status").filter({ hasText: "Imported" }).waitFor({ timeout: 1_800_000 });
        return page.evaluate(() => (window as unknown as { __importMs: Promise<number> }).__importMs);
      };
      // A person's browser keeps IndexedDB on disk: import in a profile of its own (a new one each
      // run, or the second import would only add names)...
      const diskImportMs = await medianOfRuns(RUNS, (i) =>
        inProfile(join(dir, `profile-${i}`), launchOptions, async (page) => timeImport(await open(page))),
      );
      // ...once more, untimed, watching the memory and the CPU time of all the browser's processes...
      const profile = join(dir, "profile-memory");
      const memory = await inProfile(profile, launchOptions, async (page) => {
        await open(page);
        return watchBrowser(profile, () => timeImport(page));
      });
      // ...again with the whole browser pinned to one core, beside the native pipeline pinned too...
      const pinned = join(dir, "chromium-one-core.sh");
      writeFileSync(
        pinned,
        `#!/bin/sh\nexec taskset -c 0 ${launchOptions.executablePath ?? chromium.executablePath()} "$@"\n`,
        {
          mode: 0o755,
        },
      );
      const nativeOneCore = { ms: await medianOfRuns(RUNS, () => nativePipeline(layers, "gzip", "0").ms) };
      const oneCoreImportMs = await medianOfRuns(RUNS, (i) =>
        inProfile(
          join(dir, `profile-one-core-${i}`),
          { ...launchOptions, executablePath: pinned },
          async (page) => timeImport(await open(page)),
        ),
      );
      // ...and in fresh contexts (Playwright's default), whose storage stays in memory; the last one
      // stays open for the explorer's figures.
      let page: Page | undefined;
      const importMs = await medianOfRuns(RUNS, async () => {
        await page?.context().close();
        page = await open(await browser.newPage({ viewport: { width: 1280, height: 720 } }));
        return timeImport(page);
      });
      if (!page) throw new Error("no page");
      let t: number;

      const tree = page.getByRole("tree", { name: "Files" });
      const stack = page.getByRole("list", { name: "Layer stack" });
      // The import selects its image at the top layer; look at the container first, then time the layer.
      await stack.getByRole("button", { name: /Container layer/ }).click();
      await tree.getByRole("treeitem").first().waitFor();
      t = performance.now();
      await stack.getByRole("button", { name: /^Layer 1:/ }).click();
      // The container view's rows are "unchanged"; the layer's own changes are all "added".
      await page.waitForFunction(
        () =>
          document.querySelector('[role=tree][aria-label=Files] [role=treeitem][aria-label*=", added,"]') !==
          null,
        undefined,
        { timeout: 120_000 },
      );
      const firstRowsMs = performance.now() - t;

      t = performance.now();
      await page.getByRole("searchbox", { name: "Filter files by path" }).fill("*");
      await page.waitForFunction(
        (n) => {
          const canvas = document.querySelector(
            "[role=tree][aria-label=Files] .tree-canvas",
          ) as HTMLElement | null;
          return canvas !== null && canvas.offsetHeight >= n * 24;
        },
        Math.floor((files / spec.layers) * 0.9),
        { timeout: 120_000 },
      );
      const allRowsMs = performance.now() - t;
      const rows = await page.evaluate(
        () =>
          (document.querySelector("[role=tree][aria-label=Files] .tree-canvas") as HTMLElement).offsetHeight /
          24,
      );
      const tree1 = stats(await scrollFrames(page, "[role=tree][aria-label=Files]", 3000, 480));

      // The reference: the same number of rows as a plain list in the same page.
      const naiveMs = await page.evaluate((n) => {
        const host = document.createElement("ul");
        host.id = "naive";
        host.style.cssText =
          "position:fixed;inset:0;overflow:auto;margin:0;background:white;z-index:99;font:13px monospace";
        const t0 = performance.now();
        const frag = document.createDocumentFragment();
        for (let i = 0; i < n; i++) {
          const li = document.createElement("li");
          li.textContent = `d${i % 1000}/file-${i}.txt`;
          frag.appendChild(li);
        }
        host.appendChild(frag);
        document.body.appendChild(host);
        void host.scrollHeight;
        return performance.now() - t0;
      }, rows);
      const naive = stats(await scrollFrames(page, "#naive", 3000, 480));

      console.log(
        `generated image: ${spec.layers} layer(s), ${files.toLocaleString()} files, ${mb} MiB; tree rows when opened: ${rows}`,
      );
      console.log(row("", "Chromium", "native"));
      console.log(row("import, IndexedDB on disk (ms) / gzip|sha256|tar", diskImportMs, native.ms));
      console.log(row("import, IndexedDB in memory (ms)", importMs, "-"));
      console.log(row("import on one core, on disk (ms)", oneCoreImportMs, nativeOneCore.ms));
      console.log(
        row(
          "import throughput, on disk (MiB/s uncompressed)",
          mb / (diskImportMs / 1000),
          mb / (native.ms / 1000),
        ),
      );
      console.log(row("throughput / native: on disk", (native.ms / diskImportMs).toFixed(2), "-"));
      console.log(row("throughput / native: in memory", (native.ms / importMs).toFixed(2), "-"));
      console.log(row("throughput / native: one core", (nativeOneCore.ms / oneCoreImportMs).toFixed(2), "-"));
      console.log(
        row("browser memory, PSS MiB: idle | importing (peak)", memory.idle / 2 ** 20, memory.peak / 2 ** 20),
      );
      console.log(row("CPU of the import, all threads (ms)", memory.userMs + memory.kernelMs, native.cpuMs));
      console.log(row("  of which in the kernel (ms)", memory.kernelMs, "-"));
      console.log(row("", "LayerLab", "plain list"));
      console.log(row("select layer -> first rows on screen (ms)", firstRowsMs, "-"));
      console.log(row("open every row -> laid out (ms)", allRowsMs, naiveMs));
      console.log(row("scroll frame time median (ms)", tree1.median, naive.median));
      console.log(row("scroll frame time p95 (ms)", tree1.p95, naive.p95));
      console.log(row("scroll frame time max (ms)", tree1.max, naive.max));
    } finally {
      await browser.close();
      if (server.pid) process.kill(-server.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
