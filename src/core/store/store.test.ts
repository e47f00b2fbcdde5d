import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { type Digest, sha256 } from "../digest.ts";
import { type StoreHarness, storeConformanceCases } from "./conformance.ts";
import { openIndexedDbStore } from "./indexeddb.ts";
import { createMemoryBackend, type MemoryBackend, openMemoryStore } from "./memory.ts";
import type { Store } from "./types.ts";

/**
 * What a failed or duplicate write could leave in a memory backend: its pieces are whole blobs
 * kept by name, so a leftover is bytes kept under a name they do not hash to (a partial or
 * unverified write stored under its expected digest, or a duplicate's bytes under another name).
 */
async function memoryLeftovers(backend: MemoryBackend): Promise<number> {
  let n = 0;
  for (const [digest, bytes] of backend.blobs) if ((await sha256(bytes)) !== digest) n++;
  return n;
}

function memoryHarness(backend = createMemoryBackend()): StoreHarness {
  return {
    open: async () => openMemoryStore(backend),
    reopen: async (s) => {
      s.close();
      return openMemoryStore(backend);
    },
    leftovers: async () => memoryLeftovers(backend),
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

describe("the memory harness", () => {
  it("counts as leftovers the bytes a backend keeps under a name they do not hash to", async () => {
    const backend = createMemoryBackend();
    const h = memoryHarness(backend);
    const s = await h.open();
    await s.blobs.put(new TextEncoder().encode("whole"));
    expect(await h.leftovers(s)).toBe(0);
    backend.blobs.set((await sha256("the whole content")) as Digest, new TextEncoder().encode("the whole"));
    expect(await h.leftovers(s)).toBe(1);
  });
});

for (const [label, make] of [
  ["memory", () => memoryHarness()],
  ["indexeddb (fake-indexeddb)", indexedDbHarness],
] as const) {
  describe(`store conformance: ${label}`, () => {
    for (const c of storeConformanceCases) it(c.name, () => c.run(make()));
  });
}
