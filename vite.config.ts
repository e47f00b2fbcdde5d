import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { registryProxy } from "./src/proxy/registry-proxy.ts";

export default defineConfig({
  // registryProxy: the same-origin proxy to public registries (loopback only; see the file, also
  // for LAYERLAB_PROXY_TEST_UPSTREAMS, which only e2e/registry-proxy.spec.ts's server sets).
  plugins: [
    react(),
    registryProxy(),
    {
      // The dev server serves the embedded registry's Service Worker from its source, under /src/sw/:
      // this header lets it take the whole site as its scope, as /registry-sw.js does when built.
      name: "layerlab-registry-sw-scope",
      configureServer(server) {
        server.middlewares.use((req, res, next) => {
          if (req.url?.startsWith("/src/sw/registry-sw.ts")) res.setHeader("Service-Worker-Allowed", "/");
          next();
        });
      },
    },
  ],
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
        // The embedded registry's Service Worker, at a fixed URL at the site root (scope "/").
        "registry-sw": resolve(import.meta.dirname, "src/sw/registry-sw.ts"),
      },
      output: {
        entryFileNames: (chunk) =>
          chunk.name === "registry-sw" ? "registry-sw.js" : "assets/[name]-[hash].js",
      },
    },
  },
  preview: { port: 5173, strictPort: true },
});
