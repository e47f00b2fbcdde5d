import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  resolve: {
    // just-bash (RUN's shell) imports node:zlib for gzip and tar -z: give the browser build a shim.
    alias: { "node:zlib": resolve(import.meta.dirname, "src/worker/shims/zlib.ts") },
  },
  worker: { format: "es" },
  build: {
    target: "es2022",
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        // A page that runs the store conformance suite in real Chromium for the e2e tests.
        "store-conformance": resolve(import.meta.dirname, "e2e/harness/store-conformance.html"),
      },
    },
  },
  preview: { port: 5173, strictPort: true },
});
