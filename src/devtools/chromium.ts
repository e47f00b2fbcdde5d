/**
 * How LayerLab's tooling starts Chromium, the one definition the e2e tests (playwright.config.ts)
 * and the browser benchmarks share so the two cannot drift: Debian's build unless
 * LAYERLAB_CHROMIUM names another executable (or says `playwright`: the browser installed by
 * `npx playwright install chromium`), with the flags this machine needs and nothing that reaches
 * the network on its own.
 */

/**
 * `--no-sandbox`: the machine runs as root in a container, where Chromium's sandbox cannot start;
 * `--disable-gpu`: there is none; the rest keep the browser from reaching the network by itself
 * (background fetches, component and sync updates, QUIC) and from showing a first-run page.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/** The Chromium to start: LAYERLAB_CHROMIUM, else /usr/bin/chromium; undefined for Playwright's own. */
export function chromiumExecutable(): string | undefined {
  const chosen = process.env.LAYERLAB_CHROMIUM ?? "/usr/bin/chromium";
  return chosen === "playwright" ? undefined : chosen;
}

/** Playwright's launch options for that Chromium with those flags. */
export function chromiumLaunchOptions(): { executablePath?: string; args: string[] } {
  const executablePath = chromiumExecutable();
  return { ...(executablePath === undefined ? {} : { executablePath }), args: [...CHROMIUM_ARGS] };
}
