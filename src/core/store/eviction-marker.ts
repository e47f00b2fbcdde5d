/**
 * A small note kept outside the store that says what the store held, so a load can tell a store
 * the browser evicted from a first visit: both open an empty database.
 *
 * The page keeps it in a first-party cookie. A browser evicts an origin's storage bucket whole
 * (IndexedDB, Cache Storage, the origin's file system, and in Firefox localStorage too) when the
 * disk runs low or the site goes unused; cookies are not part of that bucket, so the note
 * outlives the eviction. A person clearing the site's data clears cookies too, and the next load
 * is rightly a first visit. (Safari caps cookies set from script to 7 days; there an eviction
 * after a long absence looks like a first visit again.)
 */

/** What the store held the last time the page looked: the image count and their names. */
export interface StoreMarker {
  images: number;
  /** Names of the first few images (the rest are counted in `images` only). */
  names: string[];
}

/** The cookie's name. */
export const STORE_MARKER_COOKIE = "layerlab-store";
/** Names kept in the note, and the characters they may take together (cookies hold 4 kB). */
const MAX_NAMES = 8;
const MAX_NAME_CHARS = 600;

/** The note for a store holding these images (names as the library shows them), as a cookie value. */
export function formatStoreMarker(names: readonly string[]): string {
  const kept: string[] = [];
  let chars = 0;
  for (const n of names.slice(0, MAX_NAMES)) {
    const name = n.slice(0, 120);
    if (chars + name.length > MAX_NAME_CHARS) break;
    kept.push(name);
    chars += name.length;
  }
  return encodeURIComponent(JSON.stringify({ images: names.length, names: kept }));
}

/** Reads the note from a `document.cookie` string; undefined when there is none or it is not one. */
export function parseStoreMarker(cookies: string): StoreMarker | undefined {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== STORE_MARKER_COOKIE) continue;
    try {
      const v = JSON.parse(decodeURIComponent(part.slice(eq + 1).trim())) as Partial<StoreMarker>;
      if (typeof v.images !== "number" || !Number.isInteger(v.images) || v.images < 0) return undefined;
      const names = Array.isArray(v.names) ? v.names.filter((n): n is string => typeof n === "string") : [];
      return { images: v.images, names: names.slice(0, MAX_NAMES) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The images the store lost as a whole, when the note from the last visit says it held some and
 * the store now holds none; undefined on a first visit, after a clear, or when images remain
 * (images lost one by one are found from their records: `findLostImages`).
 */
export function detectEvictedStore(
  marker: StoreMarker | undefined,
  imagesNow: number,
): StoreMarker | undefined {
  if (!marker || marker.images === 0 || imagesNow > 0) return undefined;
  return marker;
}
