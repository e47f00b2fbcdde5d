/**
 * Writes `shell-test.tar`, the docker-archive `layerlab run`'s tests read: the container shell's
 * test image (src/core/explore/shell-testing.ts: a root filesystem with /bin/sh and the utilities
 * as files, /app with README and src/, a user `app`, a second layer with /app/config.json).
 * Run: npx tsx src/testdata/archives/make-run-fixture.ts
 */
import { writeFileSync } from "node:fs";
import { storeTestImage } from "../../core/explore/shell-testing.ts";
import { exportImage } from "../../core/image/export.ts";
import { openMemoryStore } from "../../core/store/memory.ts";

const store = openMemoryStore();
const id = await storeTestImage(store);
const parts: Uint8Array[] = [];
for await (const chunk of exportImage(store, id, { format: "docker" })) parts.push(chunk);
writeFileSync(new URL("./shell-test.tar", import.meta.url), Buffer.concat(parts));
