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

let dbSeq = 0;
function indexedDbHarness(): StoreHarness {
  const name = `conformance-${++dbSeq}`;
  const chunks = async (s: Store) => {
    const total = await (s as Awaited<ReturnType<typeof openIndexedDbStore>>).blobs.countChunks();
    let owned = 0;
    for (const b of await s.blobs.list()) owned += Math.max(1, Math.ceil(b.size / (1 << 20)));
    // A zero-byte blob owns no chunk.
    for (const b of await s.blobs.list()) if (b.size === 0) owned -= 1;
    return total - owned;
  };
  return {
    open: () => openIndexedDbStore(name),
    reopen: async (s) => {
      s.close();
      return openIndexedDbStore(name);
    },
    leftovers: chunks,
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
