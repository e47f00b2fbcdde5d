/**
 * The part of Node's `zlib` that just-bash's gzip, gunzip, zcat and `tar -z` use, for the browser
 * build (Vite aliases `node:zlib` here): synchronous gzip over fflate, with Node's output limit.
 */
import { gunzipSync as fflateGunzip, gzipSync as fflateGzip } from "fflate";

export const constants = { Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1 } as const;

interface Options {
  level?: number;
  maxOutputLength?: number;
}

function limited(out: Uint8Array, max: number | undefined): Uint8Array {
  if (max !== undefined && out.byteLength > max) {
    throw new RangeError(`Cannot create a Buffer larger than ${max} bytes`);
  }
  return out;
}

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export function gzipSync(data: Uint8Array, options: Options = {}): Uint8Array {
  const level = (options.level === undefined || options.level < 0 ? 6 : Math.min(9, options.level)) as Level;
  return limited(fflateGzip(data, { level }), options.maxOutputLength);
}

export function gunzipSync(data: Uint8Array, options: Options = {}): Uint8Array {
  return limited(fflateGunzip(data), options.maxOutputLength);
}

export default { constants, gzipSync, gunzipSync };
