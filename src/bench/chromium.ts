/**
 * How the benchmarks start Chromium: Debian's build (or LAYERLAB_CHROMIUM), with the flags this
 * machine needs and nothing that reaches the network on its own.
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath: process.env.LAYERLAB_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  };
}
