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
import type { Page } from "@playwright/test";
import { row } from "./measure.ts";

/** The loop a learner types: 10,000 files of a few bytes each, under /data. */
export const TEN_THOUSAND_FILES = "mkdir -p /data && for i in $(seq 1 10000); do echo $i > /data/f$i; done";

/** A fast typist's pace (20 keys a second): faster, the figure measures throughput, not latency. */
const KEY_EVERY_MS = 50;

/** What the page measured. */
export interface TerminalFigures {
  /** Enter to the next prompt. */
  commandMs: number;
  /** The next prompt to the Files tree showing /data with its 10,000 files. */
  treeAfterMs: number;
  /** Key due to its echo in the terminal's rows, for keys typed from the prompt until the tree showed the files. */
  echoMs: number[];
  /** How many of those keys came before the tree showed the files. */
  echoedDuringRefresh: number;
  /** Build click to "Built" for the same loop in a RUN. */
  buildMs: number;
  /** The RUN step alone, as the build log times it. */
  runStepMs: number;
  /** The longest main-thread task from the prompt to 200 ms after the tree showed the files. */
  longestTask: { wallMs: number; cpuMs: number };
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
    const before = prompts();
    const marks: Record<string, number> = {};
    const keys: { t: number; n: number }[] = [];
    const echo: number[] = [];
    let typed = 0;
    w.__marks = marks;
    w.__echo = echo;
    textarea.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "Enter" && marks.enter === undefined) marks.enter = performance.now();
      },
      { capture: true },
    );
    /**
     * From the prompt on, a key every KEY_EVERY_MS until the tree has shown the files (and 200 ms more),
     * sent to xterm's input as key events from the page itself: keys sent by Playwright would each
     * wait for a round trip from this process. A key's time is when it was due, so a busy main
     * thread that delays the key itself counts against the echo.
     */
    const typeDuringRefresh = (t0: number) => {
      let i = 0;
      const next = () => {
        const due = t0 + i * KEY_EVERY_MS;
        setTimeout(
          () => {
            keys.push({ t: due, n: ++typed });
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
            if (marks.tree === undefined || performance.now() < marks.tree + 200) next();
          },
          Math.max(0, due - performance.now()),
        );
      };
      next();
    };
    new MutationObserver(() => {
      const now = performance.now();
      if (marks.enter !== undefined && marks.prompt === undefined && prompts() > before) {
        marks.prompt = now;
        console.timeStamp("layerlab:prompt");
        typeDuringRefresh(now);
      }
      if (marks.prompt !== undefined && keys.length > 0) {
        // The prompt's line and the rows it wraps onto.
        const all = lines();
        let at = all.length - 1;
        while (at > 0 && !/^\S+@\S+:.*[#$] /.test(all[at]!)) at--;
        const shown = all
          .slice(at)
          .join("")
          .replace(/^\S+@\S+:\S*[#$] /, "")
          .trimEnd().length;
        while (keys.length > 0 && keys[0]!.n <= shown) {
          const k = keys.shift()!;
          echo.push(now - k.t);
          if (marks.tree === undefined || k.t < marks.tree)
            marks.echoedBeforeTree = (marks.echoedBeforeTree ?? 0) + 1;
        }
      }
    }).observe(rows, { subtree: true, childList: true, characterData: true });
    new MutationObserver(() => {
      if (marks.enter === undefined || marks.tree !== undefined) return;
      const item = document.querySelector(
        '[role=tree][aria-label=Files] [role=treeitem][aria-label^="data, added"]',
      );
      if (/inside: 1000\d added/.test(item?.getAttribute("aria-label") ?? "")) {
        marks.tree = performance.now();
        console.timeStamp("layerlab:tree");
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-label"],
    });
  }, KEY_EVERY_MS);
  await input.pressSequentially(TEN_THOUSAND_FILES);
  const browser = page.context().browser();
  await browser?.startTracing(page, { categories: ["toplevel", "devtools.timeline"] });
  await input.press("Enter");
  await page.waitForFunction(
    () => (window as unknown as { __marks: { prompt?: number } }).__marks.prompt,
    undefined,
    {
      timeout: 120_000,
      polling: "raf",
    },
  );
  await page.waitForFunction(
    () => (window as unknown as { __marks: { tree?: number } }).__marks.tree,
    undefined,
    {
      timeout: 120_000,
    },
  );
  // The keys go on for 200 ms after the tree showed the files.
  await page.waitForTimeout(500);
  const trace = browser ? await browser.stopTracing() : undefined;
  const parsed = trace ? (JSON.parse(trace.toString("utf8")) as { traceEvents?: TraceEvent[] }) : {};
  const longestTask = longestTaskBetween(parsed.traceEvents ?? [], "layerlab:prompt", "layerlab:tree", 200);
  const { marks, echo } = await page.evaluate(() => {
    const w = window as unknown as { __marks: Record<string, number>; __echo: number[] };
    return { marks: w.__marks, echo: w.__echo };
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
  return {
    commandMs: (marks.prompt ?? Number.NaN) - (marks.enter ?? Number.NaN),
    treeAfterMs: (marks.tree ?? Number.NaN) - (marks.prompt ?? Number.NaN),
    echoMs: echo,
    echoedDuringRefresh: marks.echoedBeforeTree ?? 0,
    buildMs,
    runStepMs,
    longestTask,
  };
}

/** Prints the terminal's figures beside the builder's. */
export function printTerminal(f: TerminalFigures): void {
  console.log(row("", "terminal", "builder RUN"));
  console.log(row("10,000 files: command -> next prompt (ms)", f.commandMs, f.runStepMs));
  console.log(row('  the whole build, Build -> "Built" (ms)', "-", f.buildMs));
  console.log(row("  prompt -> Files tree shows them (ms)", f.treeAfterMs, "-"));
  console.log(
    row(
      `key every ${KEY_EVERY_MS} ms -> echo p50 / p95 (ms; ${f.echoMs.length} keys, ${f.echoedDuringRefresh} in the refresh)`,
      `${percentile(f.echoMs, 0.5).toFixed(1)} / ${percentile(f.echoMs, 0.95).toFixed(1)}`,
      "-",
    ),
  );
  console.log(
    row(
      "  longest main-thread task, prompt -> tree shown (ms wall / cpu)",
      `${f.longestTask.wallMs.toFixed(1)} / ${f.longestTask.cpuMs.toFixed(1)}`,
      "-",
    ),
  );
  console.log(
    "builder RUN: FROM ubuntu:20.04 + a RUN of the same loop, built with the Build button in the same page (the RUN step as its log times it)",
  );
}
