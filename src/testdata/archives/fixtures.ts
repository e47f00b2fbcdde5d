/** Helpers of the archive tests: open a committed fixture as a stream, snapshot a store. */
import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../../core/store/types.ts";

/** The folder of the committed fixture archives. */
export const FIXTURES = new URL(".", import.meta.url).pathname;

/** A fixture archive as a stream of chunks, as the CLI and a browser File give it. */
export function fixtureStream(name: string, highWaterMark = 16 * 1024): AsyncIterable<Uint8Array> {
  return createReadStream(join(FIXTURES, name), { highWaterMark });
}

/** A fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** Everything a store holds, in a comparable form (to check an import left it untouched). */
export async function snapshot(store: Store) {
  const blobs = (await store.blobs.list()).map((b) => `${b.digest} ${b.size}`).sort();
  const images = (await store.meta.list("images")).sort((a, b) => a.id.localeCompare(b.id));
  const layers = (await store.meta.list("layers")).sort((a, b) => a.id.localeCompare(b.id));
  return { blobs, images, layers };
}
