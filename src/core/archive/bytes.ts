/** Reads a whole stream into one byte array (for small streams and tests only). */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  return (await collectAtMost(source, Number.POSITIVE_INFINITY))!;
}

/**
 * Reads a stream into one byte array, or stops reading (cancelling the stream) and gives
 * undefined as soon as it is longer than `max` bytes: for small bodies a peer controls.
 */
export async function collectAtMost(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of asyncIterable(source)) {
    n += c.byteLength;
    if (n > max) return undefined;
    parts.push(c.slice());
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Streams bytes held in memory, cut into chunks of the given sizes (cycled). */
export async function* streamBytes(
  bytes: Uint8Array,
  sizes: number[] = [64 * 1024],
): AsyncGenerator<Uint8Array> {
  let at = 0;
  let i = 0;
  while (at < bytes.byteLength) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/**
 * An async iterable over a stream (of bytes, unless said): Node streams and most ReadableStreams already are one;
 * a ReadableStream without async iteration (older browsers) is read through its reader.
 */
export function asyncIterable<T = Uint8Array>(
  source: AsyncIterable<T> | ReadableStream<T>,
): AsyncIterable<T> {
  if (Symbol.asyncIterator in source) return source as AsyncIterable<T>;
  const stream = source as ReadableStream<T>;
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) return;
          yield r.value;
        }
      } finally {
        await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
    },
  };
}

/** Memory to read into, kept by the caller from one read to the next (see readBlobWhole). */
export interface ReadBuffer {
  buffer?: ArrayBuffer;
  /** A second one, for a reader that reads into two by turns (a pull's ranges: readPieces). */
  other?: ReadBuffer;
}

/**
 * Reads a Blob whole. With `into`, the bytes go into `into.buffer` when it is large enough (else
 * into new memory of the Blob's size) through a byte stream's BYOB reader, and `into.buffer` is
 * left unset while they are in use: the caller puts `bytes.buffer` back when done, so one buffer
 * serves read after read instead of each leaving its memory to the garbage collector. Without a
 * BYOB reader (or without `into`) this is `blob.arrayBuffer()`. A Blob that yields fewer bytes
 * than its size gives what it yielded; the caller checks the length.
 */
export async function readBlobWhole(
  blob: Blob,
  into?: ReadBuffer,
  /** The size of new memory for `into`, when more than the Blob's (later reads may be larger). */
  capacity = 0,
): Promise<Uint8Array> {
  const size = blob.size;
  let reader: ReadableStreamBYOBReader | undefined;
  if (into) {
    try {
      reader = blob.stream().getReader({ mode: "byob" });
    } catch {
      reader = undefined;
    }
  }
  if (!into || !reader) return new Uint8Array(await blob.arrayBuffer());
  let buffer =
    into.buffer && into.buffer.byteLength >= size ? into.buffer : new ArrayBuffer(Math.max(size, capacity));
  into.buffer = undefined;
  let at = 0;
  try {
    while (at < size) {
      // The read takes the buffer over (detaches it) and gives it back in the view it returns.
      const { done, value } = await reader.read(new Uint8Array(buffer, at, size - at));
      if (!value) break;
      buffer = value.buffer as ArrayBuffer;
      at += value.byteLength;
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
  return new Uint8Array(buffer, 0, at);
}
