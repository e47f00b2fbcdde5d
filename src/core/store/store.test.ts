import "fake-indexeddb/auto";
import { describe, it } from "vitest";
import { type StoreHarness, storeConformanceCases } from "./conformance.ts";
import { openIndexedDbStore } from "./indexeddb.ts";
import { createMemoryBackend, openMemoryStore } from "./memory.ts";
import type { Store } from "./types.ts";

function memoryHarness(): StoreHarness {
  const backend = createMemoryBackend();
  return {
    open: async () => openMemoryStore(backend),
    reopen: async (s) => {
      s.close();
      return openMemoryStore(backend);
    },
    leftovers: async () => 0,
  };
}

type IdbStore = Awaited<ReturnType<typeof openIndexedDbStore>>;
let dbSeq = 0;
function indexedDbHarness(): StoreHarness {
  const name = `conformance-${++dbSeq}`;
  return {
    open: () => openIndexedDbStore(name),
    reopen: async (s) => {
      s.close();
      return openIndexedDbStore(name);
    },
    leftovers: (s: Store) => (s as IdbStore).blobs.countOrphanChunks(),
  };
}

for (const [label, make] of [
  ["memory", memoryHarness],
  ["indexeddb (fake-indexeddb)", indexedDbHarness],
] as const) {
  describe(`store conformance: ${label}`, () => {
    for (const c of storeConformanceCases) it(c.name, () => c.run(make()));
  });
}
