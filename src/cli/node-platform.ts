import { setPlatformGunzip } from "../core/archive/compression.ts";
import { setSha256Provider } from "../core/digest.ts";
import { nodeGunzip } from "./node-gunzip.ts";
import { nodeSha256 } from "./node-sha256.ts";

/**
 * What the command line plugs into the core in Node: node:crypto's sha256 (about three times
 * WebAssembly's) and node:zlib's gunzip (about three times Node's DecompressionStream).
 */
export function plugNodePlatform(): void {
  setSha256Provider(nodeSha256);
  setPlatformGunzip(nodeGunzip);
}
