/**
 * A one-slot push-to-pull pipe: a producer writes chunks, a consumer iterates them. `write`
 * resolves once the consumer has taken the chunk, so one stream can feed several consumers
 * (for instance two blob-store puts) with backpressure and bounded memory.
 */
export class Channel implements AsyncIterable<Uint8Array> {
  private slot: Uint8Array | undefined;
  private closed = false;
  private failure: { err: unknown } | undefined;
  private taken: (() => void) | undefined;
  private takenFail: ((err: unknown) => void) | undefined;
  private ready: (() => void) | undefined;
  private consumerGone: { err: unknown } | undefined;

  /** Hands a chunk to the consumer; resolves when it has been taken. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.consumerGone) return Promise.reject(this.consumerGone.err);
    return new Promise<void>((resolve, reject) => {
      this.slot = chunk;
      this.taken = resolve;
      this.takenFail = reject;
      this.wake();
    });
  }

  /** Ends the stream normally. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Ends the stream with an error the consumer will see (so a blob-store put is abandoned). */
  fail(err: unknown): void {
    this.failure = { err };
    this.wake();
  }

  private wake(): void {
    const r = this.ready;
    this.ready = undefined;
    r?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.failure) throw this.failure.err;
        if (this.slot !== undefined) {
          const chunk = this.slot;
          this.slot = undefined;
          yield chunk;
          const done = this.taken;
          this.taken = undefined;
          this.takenFail = undefined;
          done?.();
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((r) => {
          this.ready = r;
        });
      }
    } finally {
      // The consumer stopped early (its own error): writers must not wait forever.
      if (!this.closed || this.slot !== undefined || this.takenFail) {
        this.consumerGone = { err: new Error("the consumer of this stream stopped") };
        const fail = this.takenFail;
        this.taken = undefined;
        this.takenFail = undefined;
        fail?.(this.consumerGone.err);
      }
    }
  }
}
