/** Go's strconv.Quote, which BuildKit's AST dump uses for every argument and flag. */

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Whether Go's strconv.IsPrint holds for the code point. */
function isGoPrint(c: number): boolean {
  if (c < 0x7f) return c >= 0x20;
  if (c < 0xa1) return false;
  return PRINTABLE.test(String.fromCodePoint(c));
}

/**
 * Quotes `s` exactly as Go's strconv.Quote does: `"` and `\` escaped, C escapes for BEL..CR, `\xHH`
 * for other control bytes, `\u`/`\U` for other non-printable runes, printable runes literal.
 * A lone UTF-16 surrogate (which UTF-8 cannot hold) is written as the three `\x` bytes WTF-8 gives it.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0x20 && u < 0x7f) {
      if (u === 0x22) out += '\\"';
      else if (u === 0x5c) out += "\\\\";
      else out += s[i];
      continue;
    }
    let c = u;
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      out += `\\x${hex(0xe0 | (c >> 12), 2)}\\x${hex(0x80 | ((c >> 6) & 0x3f), 2)}\\x${hex(0x80 | (c & 0x3f), 2)}`;
      continue;
    }
    switch (c) {
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
    }
    if (isGoPrint(c)) out += String.fromCodePoint(c);
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    else if (c < 0x10000) out += `\\u${hex(c, 4)}`;
    else out += `\\U${hex(c, 8)}`;
  }
  return `${out}"`;
}
