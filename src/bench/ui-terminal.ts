/**
 * The terminal's figures in headless Chromium (part of `npm run bench ui`): a command typed in a
 * container's terminal that writes 10,000 small files, timed in the page from Enter to the next
 * prompt and to the Files tree showing them; keystrokes typed while that tree refreshes, timed
 * from the key's event to its echo in xterm's rows; and, in the same page, the builder's RUN
 * writing the same 10,000 files (a Dockerfile built with the Build button, timed from the click to
 * "Built").
 *
 * Echo times on a loaded 2-core machine measure the scheduler as much as the page, so a Chromium
 * trace of the same window also gives the longest main-thread task from the prompt to the tree
 * showing the files, in wall time and in the thread's own CPU time.
 */

import { writeFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { row } from "./measure.ts";

/** The loop a learner types: 10,000 files of a few bytes each, under /data. */
export const TEN_THOUSAND_FILES = "mkdir -p /data && for i in $(seq 1 10000); do echo $i > /data/f$i; done";

/** A fast typist's pace (20 keys a second): faster, the figure measures throughput, not latency. */
const KEY_EVERY_MS = 50;

/** One round: the loop typed, its refresh watched. */
export interface RoundFigures {
  /** Enter to the next prompt. */
  commandMs: number;
  /** The next prompt to the Files tree showing the round's directory with its 10,000 files. */
  treeAfterMs: number;
  /** The longest main-thread task from the prompt to 200 ms after the tree showed the files. */
  longestTask: { wallMs: number; cpuMs: number };
}

/** One key typed from a round's prompt until 200 ms after its tree showed the files. */
export interface EchoFigure {
  /** Key due to its echo in the terminal's rows. */
  ms: number;
  /**
   * Frames begun after the key until the one that drew its echo: 1 (or 0, when the key came
   * between a frame's start and its drawing) is "within one frame".
   */
  frames: number;
  /** Typed before the tree showed the files. */
  inRefresh: boolean;
}

/** What the page measured. */
export interface TerminalFigures {
  rounds: RoundFigures[];
  echo: EchoFigure[];
  /** The longest time between two frames while keys were typed. */
  longestFrameGapMs: number;
  /** Build click to "Built" for the same loop in a RUN. */
  buildMs: number;
  /** The RUN step alone, as the build log times it. */
  runStepMs: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  args?: { data?: { message?: string } };
}

/**
 * The longest task on the page's main thread between two `console.timeStamp` marks of a trace
 * (the marks are made on that thread, so they say which thread it is).
 */
export function longestTaskBetween(
  events: readonly TraceEvent[],
  from: string,
  to: string,
  afterMs: number,
): { wallMs: number; cpuMs: number } {
  const mark = (m: string) => events.find((e) => e.name === "TimeStamp" && e.args?.data?.message === m);
  const a = mark(from);
  const b = mark(to);
  if (!a || !b) return { wallMs: Number.NaN, cpuMs: Number.NaN };
  let wallMs = 0;
  let cpuMs = 0;
  for (const e of events) {
    if (e.name !== "ThreadControllerImpl::RunTask" || e.ph !== "X" || e.pid !== a.pid || e.tid !== a.tid)
      continue;
    const end = e.ts + (e.dur ?? 0);
    if (end < a.ts || e.ts > b.ts + afterMs * 1000) continue;
    wallMs = Math.max(wallMs, (e.dur ?? 0) / 1000);
    cpuMs = Math.max(cpuMs, (e.tdur ?? 0) / 1000);
  }
  return { wallMs, cpuMs };
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
}

/** Rounds of the loop (round r > 1 writes /data<r>): each round's refresh gives a few more keys. */
const ROUNDS = 3;

/** The loop of a round: the first is the published one, the others write beside it. */
function loopOf(round: number): string {
  return round === 1 ? TEN_THOUSAND_FILES : TEN_THOUSAND_FILES.replaceAll("/data", `/data${round}`);
}

/** Measures the terminal on a page where the example is built (the app's first visit). */
export async function measureTerminal(page: Page): Promise<TerminalFigures> {
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const input = page.getByRole("textbox", { name: "Terminal input" });
  await input.waitFor();
  await page.waitForFunction(() => document.querySelector(".xterm-rows")?.textContent?.includes("@"));
  // The page watches for itself: Playwright's polling would add its own delay to every figure.
  await page.evaluate((KEY_EVERY_MS) => {
    const w = window as unknown as Record<string, unknown>;
    const rows = document.querySelector(".xterm-rows") as HTMLElement;
    const textarea = document.querySelector("textarea[aria-label='Terminal input']") as HTMLElement;
    const lines = () => [...rows.children].map((r) => (r.textContent ?? "").replace(/\u00a0/g, " "));
    const prompts = () => lines().filter((l) => /^\S+@\S+:.*[#$] /.test(l)).length;
    /** Every frame's start time while a round is watched (a rAF loop keeps frames coming at the display's rate). */
    const frames: number[] = [];
    let framing = false;
    const tick = (t: number) => {
      frames.push(t);
      if (framing) requestAnimationFrame(tick);
    };
    const echo: { ms: number; key: number; at: number; inRefresh: boolean }[] = [];
    w.__echo = echo;
    w.__stopFrames = () => {
      framing = false;
    };
    w.__frames = frames;
    /** Each round's marks: the frames that count are those from its prompt to its last key. */
    const windows: Record<string, number>[] = [];
    w.__windows = windows;
    let round:
      | {
          dir: string;
          before: number;
          marks: Record<string, number>;
          keys: { t: number; n: number }[];
          typed: number;
        }
      | undefined;
    w.__startRound = (dir: string) => {
      round = { dir, before: prompts(), marks: {}, keys: [], typed: 0 };
      w.__marks = round.marks;
      windows.push(round.marks);
      if (!framing) {
        framing = true;
        requestAnimationFrame(tick);
      }
    };
    textarea.addEventListener(
      "keydown",
      (e) => {
        if (round && e.key === "Enter" && round.marks.enter === undefined)
          round.marks.enter = performance.now();
      },
      { capture: true },
    );
    /**
     * From the prompt on, a key every KEY_EVERY_MS until the tree has shown the files (and 200 ms more),
     * sent to xterm's input as key events from the page itself: keys sent by Playwright would each
     * wait for a round trip from this process. A key's time is when it was due, so a busy main
     * thread that delays the key itself counts against the echo.
     */
    const typeDuringRefresh = (r: NonNullable<typeof round>, t0: number) => {
      let i = 0;
      const next = () => {
        const due = t0 + i * KEY_EVERY_MS;
        setTimeout(
          () => {
            r.keys.push({ t: due, n: ++r.typed });
            textarea.dispatchEvent(
              new KeyboardEvent("keydown", {
                key: "x",
                code: "KeyX",
                keyCode: 88,
                bubbles: true,
                cancelable: true,
              }),
            );
            i++;
            if (r.marks.tree === undefined || performance.now() < r.marks.tree + 200) next();
            else r.marks.done = performance.now();
          },
          Math.max(0, due - performance.now()),
        );
      };
      next();
    };
    new MutationObserver(() => {
      const r = round;
      if (!r) return;
      const now = performance.now();
      if (r.marks.enter !== undefined && r.marks.prompt === undefined && prompts() > r.before) {
        r.marks.prompt = now;
        console.timeStamp(`layerlab:prompt:${r.dir}`);
        typeDuringRefresh(r, now);
      }
      if (r.marks.prompt !== undefined && r.keys.length > 0) {
        // The prompt's line and the rows it wraps onto.
        const all = lines();
        let at = all.length - 1;
        while (at > 0 && !/^\S+@\S+:.*[#$] /.test(all[at]!)) at--;
        const shown = all
          .slice(at)
          .join("")
          .replace(/^\S+@\S+:\S*[#$] /, "")
          .trimEnd().length;
        while (r.keys.length > 0 && r.keys[0]!.n <= shown) {
          const k = r.keys.shift()!;
          echo.push({
            ms: now - k.t,
            key: k.t,
            at: now,
            inRefresh: r.marks.tree === undefined || k.t < r.marks.tree,
          });
        }
      }
    }).observe(rows, { subtree: true, childList: true, characterData: true });
    new MutationObserver(() => {
      const r = round;
      if (!r || r.marks.enter === undefined || r.marks.tree !== undefined) return;
      const item = document.querySelector(
        `[role=tree][aria-label=Files] [role=treeitem][aria-label^="${r.dir}, added"]`,
      );
      if (/inside: 1000\d added/.test(item?.getAttribute("aria-label") ?? "")) {
        r.marks.tree = performance.now();
        console.timeStamp(`layerlab:tree:${r.dir}`);
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-label"],
    });
  }, KEY_EVERY_MS);
  const browser = page.context().browser();
  const profilePath = process.env.LAYERLAB_BENCH_UI_PROFILE;
  const cdp = profilePath ? await page.context().newCDPSession(page) : undefined;
  const rounds: { commandMs: number; treeAfterMs: number; longestTask: { wallMs: number; cpuMs: number } }[] =
    [];
  for (let r = 1; r <= ROUNDS; r++) {
    const dir = r === 1 ? "data" : `data${r}`;
    // The keys typed in the last round are still on the prompt's line: Ctrl+C clears it.
    if (r > 1) await input.press("Control+C");
    await input.pressSequentially(loopOf(r));
    await page.evaluate(
      (dir) => (window as unknown as { __startRound: (d: string) => void }).__startRound(dir),
      dir,
    );
    await browser?.startTracing(page, { categories: ["toplevel", "devtools.timeline"] });
    if (cdp && r === 1) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
      await cdp.send("Profiler.start");
    }
    await input.press("Enter");
    await page.waitForFunction(
      () => (window as unknown as { __marks: { done?: number } }).__marks.done,
      undefined,
      { timeout: 120_000 },
    );
    if (cdp && profilePath && r === 1) {
      const { profile } = await cdp.send("Profiler.stop");
      writeFileSync(profilePath, JSON.stringify(profile));
      console.log(`the page's main-thread CPU profile of the first round: ${profilePath}`);
    }
    const trace = browser ? await browser.stopTracing() : undefined;
    const parsed = trace ? (JSON.parse(trace.toString("utf8")) as { traceEvents?: TraceEvent[] }) : {};
    if (trace && process.env.LAYERLAB_BENCH_UI_TRACE && r === 1)
      writeFileSync(process.env.LAYERLAB_BENCH_UI_TRACE, trace);
    const marks = await page.evaluate(
      () => (window as unknown as { __marks: Record<string, number> }).__marks,
    );
    rounds.push({
      commandMs: (marks.prompt ?? Number.NaN) - (marks.enter ?? Number.NaN),
      treeAfterMs: (marks.tree ?? Number.NaN) - (marks.prompt ?? Number.NaN),
      longestTask: longestTaskBetween(
        parsed.traceEvents ?? [],
        `layerlab:prompt:${dir}`,
        `layerlab:tree:${dir}`,
        200,
      ),
    });
  }
  const { echo, frames, windows } = await page.evaluate(() => {
    const w = window as unknown as {
      __windows: Record<string, number>[];
      __stopFrames: () => void;
      __echo: { ms: number; key: number; at: number; inRefresh: boolean }[];
      __frames: number[];
    };
    w.__stopFrames();
    return { echo: w.__echo, frames: w.__frames, windows: w.__windows };
  });
  await page.keyboard.press("Control+C");

  // The builder's RUN writing the same files, in the same page.
  await page
    .getByRole("tab", { name: "Build log" })
    .click()
    .catch(() => undefined);
  const editor = page.getByRole("textbox", { name: "Dockerfile" });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(`FROM ubuntu:20.04\nRUN ${TEN_THOUSAND_FILES}\n`);
  await page.evaluate(() => {
    const w = window as unknown as { __build?: Promise<number> };
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Build")!;
    w.__build = new Promise<number>((resolve) => {
      button.addEventListener(
        "click",
        () => {
          const t0 = performance.now();
          new MutationObserver((_, obs) => {
            // The example's build said "Built" already: this build has two steps.
            const done = [...document.querySelectorAll(".build-log [role=status]")].some((el) =>
              el.textContent?.includes("of 2 steps"),
            );
            if (!done) return;
            obs.disconnect();
            resolve(performance.now() - t0);
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        },
        { capture: true, once: true },
      );
    });
  });
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const buildMs = await page.evaluate(() => (window as unknown as { __build: Promise<number> }).__build);
  // The log's own time for the RUN step alone.
  const stepText = await page.locator(".build-log li").filter({ hasText: "RUN mkdir" }).textContent();
  const runStepMs = Number(/(\d+\.\d+) s/.exec(stepText ?? "")?.[1] ?? Number.NaN) * 1000;
  const framesUpTo = (t: number) => {
    let n = 0;
    for (const f of frames) if (f <= t) n++;
    return n;
  };
  // Frames while keys were typed: a round's prompt to its last key (the command's own run is not counted).
  let longestFrameGapMs = 0;
  for (let i = 1; i < frames.length; i++) {
    const inWindow = windows.some(
      (w) =>
        w.prompt !== undefined &&
        frames[i - 1]! >= w.prompt &&
        frames[i]! <= (w.done ?? Number.POSITIVE_INFINITY),
    );
    if (inWindow) longestFrameGapMs = Math.max(longestFrameGapMs, frames[i]! - frames[i - 1]!);
  }
  return {
    rounds,
    echo: echo.map((e) => ({
      ms: e.ms,
      frames: framesUpTo(e.at) - framesUpTo(e.key),
      inRefresh: e.inRefresh,
    })),
    longestFrameGapMs,
    buildMs,
    runStepMs,
  };
}

/** Prints the terminal's figures beside the builder's. */
export function printTerminal(f: TerminalFigures): void {
  const [first] = f.rounds;
  const range = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
  const ms = f.echo.map((e) => e.ms);
  const refresh = f.echo.filter((e) => e.inRefresh);
  const within = (es: EchoFigure[]) => es.filter((e) => e.frames <= 1).length;
  console.log(row("", "terminal", "builder RUN"));
  console.log(row("10,000 files: command -> next prompt (ms)", first?.commandMs ?? Number.NaN, f.runStepMs));
  console.log(
    row(`  the same, rounds 1–${f.rounds.length} (ms)`, range(f.rounds.map((r) => r.commandMs)), "-"),
  );
  console.log(row('  the whole build, Build -> "Built" (ms)', "-", f.buildMs));
  console.log(row("  prompt -> Files tree shows them (ms)", range(f.rounds.map((r) => r.treeAfterMs)), "-"));
  console.log(
    row(
      `key every ${KEY_EVERY_MS} ms -> echo p50 / p95 (ms; ${ms.length} keys, ${refresh.length} in a refresh)`,
      `${percentile(ms, 0.5).toFixed(1)} / ${percentile(ms, 0.95).toFixed(1)}`,
      "-",
    ),
  );
  console.log(
    row(
      "  echoed in the next frame: all / in a refresh",
      `${within(f.echo)} of ${f.echo.length} / ${within(refresh)} of ${refresh.length}`,
      "-",
    ),
  );
  console.log(
    row(
      "  frames to echo, max / the longest gap between frames (ms)",
      `${Math.max(...f.echo.map((e) => e.frames))} / ${f.longestFrameGapMs.toFixed(1)}`,
      "-",
    ),
  );
  console.log(
    row(
      "  longest main-thread task, prompt -> tree shown + 200 ms (ms wall / cpu, worst round)",
      `${Math.max(...f.rounds.map((r) => r.longestTask.wallMs)).toFixed(1)} / ${Math.max(...f.rounds.map((r) => r.longestTask.cpuMs)).toFixed(1)}`,
      "-",
    ),
  );
  console.log(
    "builder RUN: FROM ubuntu:20.04 + a RUN of the same loop, built with the Build button in the same page (the RUN step as its log times it)",
  );
}
