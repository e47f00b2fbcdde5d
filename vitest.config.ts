import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    pool: "threads",
    // Prints one line when BuildKit's conformance data is missing and its suites are skipped.
    globalSetup: ["src/testdata/conformance-setup.ts"],
    // One fixed fast-check seed unless LAYERLAB_FC_SEED says otherwise (see the file).
    setupFiles: ["src/testdata/fast-check-setup.ts"],
  },
});
