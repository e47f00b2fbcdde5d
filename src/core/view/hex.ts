/** One line of a hex view: offset, the bytes in hex, and their printable ASCII. */
export interface HexLine {
  offset: string;
  hex: string;
  ascii: string;
}

/** Formats bytes as `xxd`-style lines of 16 bytes; `base` is the offset of the first byte. */
export function formatHexLines(bytes: Uint8Array, base = 0): HexLine[] {
  const lines: HexLine[] = [];
  for (let at = 0; at < bytes.byteLength; at += 16) {
    const row = bytes.subarray(at, Math.min(bytes.byteLength, at + 16));
    let hex = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      if (i < row.byteLength) {
        const b = row[i]!;
        hex += b.toString(16).padStart(2, "0");
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else hex += "  ";
      if (i % 2 === 1 && i < 15) hex += " ";
    }
    lines.push({ offset: (base + at).toString(16).padStart(8, "0"), hex, ascii });
  }
  return lines;
}

/**
 * True when bytes look like text: valid UTF-8 with no NUL and few control characters,
 * judged on a prefix (as `file` and git do).
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return false;
    if (b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) control++;
  }
  if (control > sample.byteLength / 100) return false;
  try {
    // A multi-byte character cut at the sample's end is fine: drop up to 3 trailing bytes.
    new TextDecoder("utf-8", { fatal: true }).decode(trimPartialUtf8(sample));
    return true;
  } catch {
    return false;
  }
}

function trimPartialUtf8(b: Uint8Array): Uint8Array {
  const end = b.byteLength;
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const c = b[end - k]!;
    if ((c & 0xc0) === 0x80) continue;
    if ((c & 0xe0) === 0xc0 && k < 2) return b.subarray(0, end - k);
    if ((c & 0xf0) === 0xe0 && k < 3) return b.subarray(0, end - k);
    if ((c & 0xf8) === 0xf0 && k < 4) return b.subarray(0, end - k);
    break;
  }
  return b;
}

/** The image type of bytes by their magic number, for previews; undefined when not an image. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const b = bytes;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45)
    return "image/webp";
  const head = new TextDecoder().decode(b.subarray(0, 256)).trimStart();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return undefined;
}
