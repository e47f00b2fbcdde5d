/// <reference lib="webworker" />
/**
 * The store's cross-tab critical sections, by Web Locks: every write (an import, a build, a
 * container edit) holds the lock shared, and what removes blobs others may be about to use
 * (collecting garbage, deleting an image, clearing the store) holds it exclusive, so a tab never
 * collects the blobs an import in another tab has written but not yet recorded.
 */

/** The lock's name, the same in every tab and worker of the origin. */
export const STORE_LOCK = "layerlab-store";

type Locks = {
  request<T>(
    name: string,
    options: { mode: "shared" | "exclusive"; ifAvailable?: boolean },
    run: (lock: unknown) => Promise<T>,
  ): Promise<T>;
};

function locks(): Locks | undefined {
  return (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
}

/** Runs `run` holding the store lock in `mode` (directly where the platform has no Web Locks). */
export function withStoreLock<T>(mode: "shared" | "exclusive", run: () => Promise<T>): Promise<T> {
  const l = locks();
  return l ? l.request(STORE_LOCK, { mode }, run) : run();
}

/**
 * Runs `run` holding the lock exclusive only if no tab holds it now; undefined when one does
 * (the work is left for a later open).
 */
export async function whenStoreIdle<T>(run: () => Promise<T>): Promise<T | undefined> {
  const l = locks();
  if (!l) return run();
  return l.request(STORE_LOCK, { mode: "exclusive", ifAvailable: true }, async (lock) =>
    lock ? run() : undefined,
  );
}
