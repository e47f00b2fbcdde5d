import { chmodSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vite";

/**
 * The `layerlab` command line built to JavaScript for Node (`vite build --config vite.cli.config.ts`,
 * part of `npm run build` and of `npm ci`'s prepare step): dist-cli/layerlab.mjs and one chunk per
 * lazily loaded command, all in dist-cli/ (package-root.ts counts on that). Dependencies stay
 * imports of node_modules, as for any installed package.
 */
export default defineConfig({
  plugins: [
    {
      name: "layerlab-executable",
      // The shebang line is there; the mode makes `./dist-cli/layerlab.mjs` run as well.
      writeBundle(options) {
        chmodSync(resolve(options.dir ?? "dist-cli", "layerlab.mjs"), 0o755);
      },
    },
  ],
  define: { __LAYERLAB_PACKAGE_ROOT__: JSON.stringify("../") },
  publicDir: false,
  logLevel: "warn",
  build: {
    ssr: resolve(import.meta.dirname, "src/cli/bin.ts"),
    outDir: "dist-cli",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        entryFileNames: "layerlab.mjs",
        chunkFileNames: "[name]-[hash].mjs",
        banner: (chunk) => (chunk.isEntry ? "#!/usr/bin/env node" : ""),
      },
    },
  },
});
