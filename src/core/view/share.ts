import { deflateSync, inflateSync, strFromU8, strToU8 } from "fflate";

const PREFIX = "df=";

/** Bytes as unpadded base64url, for URL fragments. */
export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of an unpadded base64url text. */
export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A URL fragment (without `#`) that carries a Dockerfile, deflated and base64url-encoded. */
export function encodeSharedDockerfile(text: string): string {
  return PREFIX + toBase64Url(deflateSync(strToU8(text), { level: 9 }));
}

/** The Dockerfile in a fragment made by encodeSharedDockerfile; undefined when it holds none or is damaged. */
export function decodeSharedDockerfile(fragment: string): string | undefined {
  const f = fragment.startsWith("#") ? fragment.slice(1) : fragment;
  if (!f.startsWith(PREFIX)) return undefined;
  try {
    return strFromU8(inflateSync(fromBase64Url(f.slice(PREFIX.length))));
  } catch {
    return undefined;
  }
}
