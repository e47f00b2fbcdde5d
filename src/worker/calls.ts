/** Calls in flight by id, each with its own AbortController, so that a cancel message aborts one. */
export function callsInFlight() {
  const running = new Map<number, AbortController>();
  return {
    /** Starts call `id`: the signal fires when `cancel(id)` comes. */
    start(id: number): AbortSignal {
      const ac = new AbortController();
      running.set(id, ac);
      return ac.signal;
    },
    cancel(id: number): void {
      running.get(id)?.abort();
    },
    end(id: number): void {
      running.delete(id);
    },
    get size(): number {
      return running.size;
    },
  };
}
