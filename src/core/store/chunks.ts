/** Cuts a stream into pieces of exactly `size` bytes (the last may be smaller). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size);
  let held = 0;
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.byteLength) {
      if (held === 0 && chunk.byteLength - at >= size) {
        yield chunk.slice(at, at + size);
        at += size;
        continue;
      }
      const n = Math.min(size - held, chunk.byteLength - at);
      buf.set(chunk.subarray(at, at + n), held);
      held += n;
      at += n;
      if (held === size) {
        yield buf;
        buf = new Uint8Array(size);
        held = 0;
      }
    }
  }
  if (held > 0) yield buf.slice(0, held);
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Yields one byte array as an async source. */
export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
