import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./src/devtools/chromium.ts";

/**
 * e2e tests run against the built app (`vite build` then `vite preview`) in real Chromium.
 * By default Debian's chromium at /usr/bin/chromium; set LAYERLAB_CHROMIUM to another executable,
 * or LAYERLAB_CHROMIUM=playwright to use a browser installed by `npx playwright install chromium`
 * (src/devtools/chromium.ts, shared with the browser benchmarks).
 */
const PORT = Number(process.env.LAYERLAB_E2E_PORT ?? 4183);

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 720 },
    trace: "retain-on-failure",
    launchOptions: chromiumLaunchOptions(),
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
