import { storeConformanceCases } from "../../src/core/store/conformance.ts";
import { openIndexedDbStore } from "../../src/core/store/indexeddb.ts";
import type { Store } from "../../src/core/store/types.ts";

/** Runs every store conformance case against the browser's real IndexedDB. */
async function runAll(): Promise<{ name: string; ok: boolean; error?: string }[]> {
  const results = [];
  for (const [i, c] of storeConformanceCases.entries()) {
    const name = `conformance-${Date.now()}-${i}`;
    const leftovers = (s: Store) =>
      (s as Awaited<ReturnType<typeof openIndexedDbStore>>).blobs.countOrphanChunks();
    try {
      await c.run({
        open: () => openIndexedDbStore(name),
        reopen: async (s) => {
          s.close();
          return openIndexedDbStore(name);
        },
        leftovers,
      });
      results.push({ name: c.name, ok: true });
    } catch (err) {
      results.push({ name: c.name, ok: false, error: String((err as Error)?.stack ?? err) });
    }
    indexedDB.deleteDatabase(name);
  }
  return results;
}

const results = await runAll();
(window as unknown as { conformanceResults: unknown }).conformanceResults = results;
document.getElementById("out")!.textContent = JSON.stringify(results, null, 2);
