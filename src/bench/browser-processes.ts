/**
 * What the browser benchmarks (`ui`, `registry`) need of a Chromium they start: a preview server
 * to wait for, a profile of its own on disk (as a person's browser has), and the memory and CPU
 * time of all its processes, found through /proc by that profile.
 */
import { readdirSync, readFileSync } from "node:fs";
import { chromium, type Page } from "@playwright/test";

/** Waits for the preview server to answer (vite preview takes a moment to start). */
export async function waitForServer(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the preview server at ${url} did not start`);
}

/** Runs `fn` on the page of a browser with a profile of its own on disk, then closes it. */
export async function inProfile<T>(
  profile: string,
  options: { executablePath?: string; args: string[] },
  fn: (page: Page) => Promise<T>,
): Promise<T> {
  const context = await chromium.launchPersistentContext(profile, {
    ...options,
    viewport: { width: 1280, height: 720 },
  });
  try {
    return await fn(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
  }
}

/** The processes of a browser found by its profile directory: the browser and every one below it. */
function browserProcesses(profile: string): number[] {
  const parent = new Map<number, number>();
  let root: number | undefined;
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      if (
        root === undefined &&
        readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`--user-data-dir=${profile}`)
      ) {
        const ppid = parent.get(pid)!;
        const parentCmd = readFileSync(`/proc/${ppid}/cmdline`, "utf8");
        if (!parentCmd.includes(`--user-data-dir=${profile}`)) root = pid;
      }
    } catch {
      // The process ended while it was being read.
    }
  }
  if (root === undefined) return [];
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) {
      if (p === root) return true;
      if (p <= 1) return false;
    }
    return false;
  };
  return [...parent.keys()].filter(inTree);
}

/**
 * The proportional set size of a browser and every process below it (renderers, workers' hosts,
 * utilities): shared pages counted once, so the sum is real.
 */
export function browserPss(profile: string): number {
  let total = 0;
  for (const pid of browserProcesses(profile)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
      total += Number(m?.[1] ?? 0) * 1024;
    } catch {
      // Gone, or not readable.
    }
  }
  return total;
}

/**
 * CPU time (ms) a browser's processes have used so far, in user space and in the kernel (page
 * faults, memory mapping), every thread included, those that ended too.
 */
export function browserCpu(profile: string): { userMs: number; kernelMs: number } {
  let userMs = 0;
  let kernelMs = 0;
  for (const pid of browserProcesses(profile)) {
    try {
      const t = statCpu(readFileSync(`/proc/${pid}/stat`, "utf8"));
      userMs += t.userMs;
      kernelMs += t.kernelMs;
    } catch {
      // Gone.
    }
  }
  return { userMs, kernelMs };
}

/** User and kernel CPU time (ms) from a `/proc` stat line, a process's or a thread's. */
function statCpu(stat: string): { userMs: number; kernelMs: number; faults: number } {
  const tick = 1000 / 100; // USER_HZ
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { userMs: Number(f[11]) * tick, kernelMs: Number(f[12]) * tick, faults: Number(f[7]) };
}

/** The memory (PSS, bytes) and CPU time (ms) of a browser while something ran in it. */
export interface BrowserUse<T> {
  result: T;
  /** PSS of all the browser's processes just before. */
  idle: number;
  /** The highest PSS seen while it ran (sampled every 250 ms). */
  peak: number;
  userMs: number;
  kernelMs: number;
  /** The busiest threads while it ran (see threadLines). */
  threads: string[];
}

/**
 * Runs `fn` in the browser of `profile` (already open, at rest), sampling the PSS of all its
 * processes every 250 ms and taking its CPU time before and after: the browser's memory and CPU
 * for that work, as `bench ui` reports them for an import.
 */
export async function watchBrowser<T>(profile: string, fn: () => Promise<T>): Promise<BrowserUse<T>> {
  const idle = browserPss(profile);
  const cpu0 = browserCpu(profile);
  const threads0 = browserThreads(profile);
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, browserPss(profile));
  }, 250);
  let result: T;
  try {
    result = await fn();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, browserPss(profile));
  const cpu1 = browserCpu(profile);
  const threads = threadLines(threads0, browserThreads(profile));
  return {
    result,
    idle,
    peak,
    userMs: cpu1.userMs - cpu0.userMs,
    kernelMs: cpu1.kernelMs - cpu0.kernelMs,
    threads,
  };
}

/** What a thread (or the threads of one name) used: CPU time and minor page faults. */
export interface ThreadUse {
  /** CPU time, user + kernel, ms. */
  ms: number;
  kernelMs: number;
  /** Minor page faults: fresh memory touched (each costs kernel time, dearly in a VM). */
  faults: number;
}

/**
 * CPU time and page faults of each live thread of a browser, keyed by the kind of process and
 * the thread's name (`renderer/DedicatedWorker th`, `utility:network/Chrome_IOThread`, …): where a
 * benchmark's time goes. Threads of one name in one kind of process are summed.
 */
export function browserThreads(profile: string): Map<string, ThreadUse> {
  const out = new Map<string, ThreadUse>();
  for (const pid of browserProcesses(profile)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? "browser";
      const sub = /--utility-sub-type=[\w.]*?(\w+)\.mojom/.exec(cmd)?.[1];
      const kind = sub ? `${type}:${sub}` : type;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const t = statCpu(stat);
        const key = `${kind}/${name}`;
        const o = out.get(key) ?? { ms: 0, kernelMs: 0, faults: 0 };
        out.set(key, {
          ms: o.ms + t.userMs + t.kernelMs,
          kernelMs: o.kernelMs + t.kernelMs,
          faults: o.faults + t.faults,
        });
      }
    } catch {
      // Gone.
    }
  }
  return out;
}

/** The threads that used the most CPU between two readings of browserThreads, as lines. */
export function threadLines(
  before: Map<string, ThreadUse>,
  after: Map<string, ThreadUse>,
  top = 12,
): string[] {
  const zero = { ms: 0, kernelMs: 0, faults: 0 };
  return [...after]
    .map(([k, v]) => {
      const b = before.get(k) ?? zero;
      return [
        k,
        { ms: v.ms - b.ms, kernelMs: v.kernelMs - b.kernelMs, faults: v.faults - b.faults },
      ] as const;
    })
    .filter(([, v]) => v.ms > 0)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(
      ([k, v]) =>
        `  ${(v.ms / 1000).toFixed(2).padStart(6)} s  (${(v.kernelMs / 1000).toFixed(2)} s kernel, ${v.faults} faults)  ${k}`,
    );
}
