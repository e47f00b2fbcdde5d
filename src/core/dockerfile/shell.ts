/**
 * BuildKit's shell lexer (frontend/dockerfile/shell/lex.go): quote removal, escapes and `$VAR` /
 * `${VAR...}` expansion of one Dockerfile word, and the word splitting BuildKit applies after it.
 * It is not a shell: there is no command substitution, globbing or arithmetic.
 */
import { DockerfileError, type Range } from "../errors.ts";

/** The two-method environment the lexer reads; `get` returns undefined for an unset name. */
export interface ShellEnv {
  get(name: string): string | undefined;
  keys(): Iterable<string>;
}

/** Lexer options; all off by default, as BuildKit's builder uses it. */
export interface LexOptions {
  /** `\` (default) or `` ` ``, as the Dockerfile's `# escape=` says. */
  escapeToken?: string;
  /** Keep the quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result (the escaped character is still literal). */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
  /** Where the word starts in the Dockerfile, for error ranges. */
  at?: Range;
  /** Internal: keep `<<` (or `<<-`, `3<<`) glued to the next word across spaces and tabs. */
  glueHeredocs?: boolean;
}

/** What one lexing pass produced. */
export interface ExpandResult {
  /** The whole input as one word (inner whitespace kept). */
  word: string;
  /** The input split into words at unquoted, unescaped whitespace (empty words dropped). */
  words: string[];
  /** Variable names that were looked up and found. */
  matched: Set<string>;
  /** Variable names that were looked up and not set. */
  unmatched: Set<string>;
}

const EOF = -1;
const BS = 0x5c;

/** Go's unicode.IsSpace. */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
function isLetter(c: number): boolean {
  if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  return LETTER.test(String.fromCodePoint(c));
}
function isDigit(c: number): boolean {
  if (c < 0x80) return c >= 0x30 && c <= 0x39;
  return DIGIT.test(String.fromCodePoint(c));
}
function isSpecialParam(c: number): boolean {
  // @ * # ? - $ ! 0
  return (
    c === 0x40 ||
    c === 0x2a ||
    c === 0x23 ||
    c === 0x3f ||
    c === 0x2d ||
    c === 0x24 ||
    c === 0x21 ||
    c === 0x30
  );
}

/** An environment over a plain record or Map. */
export function envFromMap(map: Record<string, string> | Map<string, string>): ShellEnv {
  if (map instanceof Map) return { get: (k) => map.get(k), keys: () => map.keys() };
  return {
    get: (k) => (Object.hasOwn(map, k) ? map[k] : undefined),
    keys: () => Object.keys(map),
  };
}

/** An environment over `NAME=value` strings; a later entry with the same name wins. */
export function envFromPairs(pairs: Iterable<string>): ShellEnv {
  const m = new Map<string, string>();
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i < 0) m.set(p, "");
    else m.set(p.slice(0, i), p.slice(i + 1));
  }
  return envFromMap(m);
}

/** The empty environment. */
export const emptyEnv: ShellEnv = { get: () => undefined, keys: () => [] };

class Words {
  word = "";
  words: string[] = [];
  inWord = false;
  constructor(private readonly glue: boolean) {}
  addChar(c: number): void {
    if (isGoSpace(c)) {
      if (this.inWord && this.word.length > 0) {
        if (this.glue && (c === 0x20 || c === 0x09) && /^\d*<<-?[ \t]*$/.test(this.word)) {
          this.word += String.fromCharCode(c);
          return;
        }
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(c);
  }
  addRawChar(c: number): void {
    this.word += String.fromCodePoint(c);
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch.codePointAt(0)!);
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

const MAX_NESTING = 400;

class Lexer {
  pos = 0;
  depth = 0;
  readonly esc: number;
  rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  constructor(
    readonly src: string,
    readonly env: ShellEnv,
    readonly opts: LexOptions,
  ) {
    this.esc = (opts.escapeToken ?? "\\").codePointAt(0) ?? BS;
    this.rawEscapes = opts.rawEscapes ?? false;
    // Go's text/scanner skips a byte-order mark at the very start.
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  fail(message: string): never {
    const at = this.opts.at;
    const range: Range = at ?? {
      start: { line: 1, column: this.pos + 1 },
      end: { line: 1, column: this.pos + 1 },
    };
    const src = this.src.length > 80 ? `${this.src.slice(0, 77)}...` : this.src;
    throw new DockerfileError(`${message} (in ${JSON.stringify(src)})`, range, {
      code: "DOCKERFILE_SEMANTIC",
    });
  }

  peek(): number {
    return this.pos < this.src.length ? this.src.codePointAt(this.pos)! : EOF;
  }
  next(): number {
    const c = this.peek();
    if (c !== EOF) this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  processStopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = "";
      const words = new Words(this.opts.glueHeredocs ?? false);
      const quotes = !this.opts.skipProcessQuotes;
      for (;;) {
        const c = this.peek();
        if (c === EOF) break;
        if (stop !== EOF && c === stop) {
          this.next();
          return { result, words: words.getWords() };
        }
        if (c === 0x24 /* $ */) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (quotes && c === 0x27 /* ' */) {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else if (quotes && c === 0x22 /* " */) {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let ch = this.next();
          if (ch === this.esc) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += String.fromCodePoint(ch);
            }
            ch = this.next();
            if (ch === EOF) break;
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result += String.fromCodePoint(ch);
        }
      }
      if (stop !== EOF) {
        this.fail(`unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  processSingleQuote(): string {
    let result = "";
    const open = this.next();
    if (this.opts.rawQuotes) result += String.fromCodePoint(open);
    for (;;) {
      const c = this.next();
      if (c === EOF) this.fail("unexpected end of statement while looking for matching single-quote");
      if (c === 0x27) {
        if (this.opts.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(c);
    }
  }

  processDoubleQuote(): string {
    let result = "";
    const open = this.next();
    if (this.opts.rawQuotes) result += String.fromCodePoint(open);
    for (;;) {
      const p = this.peek();
      if (p === EOF) this.fail("unexpected end of statement while looking for matching double-quote");
      if (p === 0x22) {
        this.next();
        if (this.opts.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let c = this.next();
      if (c === this.esc) {
        if (this.rawEscapes) result += String.fromCodePoint(c);
        const q = this.peek();
        if (q === EOF) continue;
        if (q === 0x22 || q === 0x24 || q === this.esc) c = this.next();
      }
      result += String.fromCodePoint(c);
    }
  }

  /** `guarded`: the reference itself handles an unset value (`-`, `+`, `?`), so it is not "unmatched". */
  getEnv(name: string, guarded = false): string | undefined {
    const v = this.env.get(name);
    if (v === undefined) {
      if (!guarded) this.unmatched.add(name);
    } else this.matched.add(name);
    return v;
  }

  processName(): string {
    let name = "";
    for (;;) {
      const c = this.peek();
      if (c === EOF) break;
      if (name.length === 0 && isDigit(c)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(c)) {
        this.next();
        return String.fromCodePoint(c);
      }
      if (!isLetter(c) && !isDigit(c) && c !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      if (name === "") return "$";
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return v ?? "";
    }
    this.next();
    const p = this.peek();
    if (p === EOF) this.fail("syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a) this.fail("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? "" : String.fromCodePoint(ch);
    let nullIsUnset = false;
    if (ch === 0x7d /* } */) {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? "";
    }
    if (ch === 0x3a /* : */) {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? "" : String.fromCodePoint(ch);
      if (ch === EOF) this.fail("syntax error: missing '}'");
      if (ch !== 0x2d && ch !== 0x2b && ch !== 0x3f)
        this.fail(`unsupported modifier (${chs}) in substitution`);
    }
    if (ch === 0x2b || ch === 0x2d || ch === 0x3f || ch === 0x23 || ch === 0x25) {
      const rawEsc = ch === 0x23 || ch === 0x25;
      const word = this.stopOrMissing(0x7d, rawEsc, "syntax error: missing '}'");
      const value = this.getEnv(name, !rawEsc);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${chs}${word}}`;
      const unsetish = value === undefined || (nullIsUnset && value === "");
      switch (ch) {
        case 0x2d:
          return unsetish ? word : value!;
        case 0x2b:
          return unsetish ? "" : word;
        case 0x3f:
          if (value === undefined) this.fail(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
          if (nullIsUnset && value === "")
            this.fail(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
          return value;
        default: {
          let pat = word;
          let greedy = false;
          if (pat.length > 0 && pat.codePointAt(0) === ch) {
            greedy = true;
            pat = pat.slice(1);
          }
          const tokens = this.globTokens(pat);
          const v = value ?? "";
          return ch === 0x25 ? trimSuffix(tokens, v, greedy) : trimPrefix(tokens, v, greedy);
        }
      }
    }
    if (ch === 0x2f /* / */) {
      const all = this.peek() === 0x2f;
      if (all) this.next();
      const pattern = this.stopOrMissing(0x2f, true, "syntax error: missing '/' in $" + "{}");
      const replacement = this.stopOrMissing(0x7d, true, "syntax error: missing '}'");
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
      const tokens = this.globTokens(pattern);
      return replaceGlob(tokens, value ?? "", replacement, all);
    }
    return this.fail(`unsupported modifier (${chs}) in substitution`);
  }

  stopOrMissing(stop: number, rawEscapes: boolean, missing: string): string {
    // Go's growable stacks take any nesting; a JS stack does not, so deep nesting is refused.
    if (++this.depth > MAX_NESTING) this.fail(`variable references nested more than ${MAX_NESTING} deep`);
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (this.peek() === EOF && e instanceof DockerfileError) this.fail(missing);
      throw e;
    } finally {
      this.depth--;
    }
  }

  /** convertShellPatternToRegex, as a token list: literal code points, `?` (one) and `*` (any run). */
  globTokens(pattern: string): Int32Array {
    const out: number[] = [];
    const cps = Array.from(pattern, (c) => c.codePointAt(0)!);
    let i = cps[0] === 0xfeff ? 1 : 0;
    while (i < cps.length) {
      const t = cps[i++]!;
      if (t === 0x2a) out.push(STAR);
      else if (t === 0x3f) out.push(ANY);
      else if (t === BS) {
        const n = i < cps.length ? cps[i]! : EOF;
        if (n === 0x7d || n === 0x2f) continue;
        i++;
        if (n !== 0x2a && n !== 0x3f && n !== BS) {
          this.fail(
            `invalid pattern (${pattern}) in substitution: invalid escape '\\${n === EOF ? "" : String.fromCodePoint(n)}'`,
          );
        }
        out.push(n);
      } else out.push(t);
    }
    return Int32Array.from(out);
  }
}

const STAR = -2;
const ANY = -3;
const NL = 0x0a;

/** Accepting prefix lengths (in code points) of `cps` from `from` for the glob; calls back for each. */
function simulate(
  tokens: Int32Array,
  cps: Int32Array,
  from: number,
  onAccept: (end: number) => boolean,
): void {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  let nxt = new Uint8Array(m + 1);
  const close = (set: Uint8Array) => {
    for (let i = 0; i < m; i++) if (set[i] && tokens[i] === STAR) set[i + 1] = 1;
  };
  cur[0] = 1;
  close(cur);
  for (let p = from; ; p++) {
    if (cur[m] && !onAccept(p)) return;
    if (p >= cps.length) return;
    const c = cps[p]!;
    nxt.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!cur[i]) continue;
      const t = tokens[i]!;
      if (t === STAR) {
        if (c !== NL) {
          nxt[i] = 1;
          alive = true;
        }
      } else if (t === ANY ? c !== NL : t === c) {
        nxt[i + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return;
    close(nxt);
    [cur, nxt] = [nxt, cur];
  }
}

function codePoints(s: string): Int32Array {
  return Int32Array.from(s, (c) => c.codePointAt(0)!);
}
function fromCodePoints(cps: Int32Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCodePoint(cps[i]!);
  return s;
}

function trimPrefixCps(tokens: Int32Array, cps: Int32Array, greedy: boolean): number {
  let cut = -1;
  simulate(tokens, cps, 0, (end) => {
    cut = end;
    return greedy;
  });
  return Math.max(cut, 0);
}

function trimPrefix(tokens: Int32Array, value: string, greedy: boolean): string {
  const cps = codePoints(value);
  return fromCodePoints(cps, trimPrefixCps(tokens, cps, greedy), cps.length);
}

function trimSuffix(tokens: Int32Array, value: string, greedy: boolean): string {
  const cps = codePoints(value).reverse();
  const cut = trimPrefixCps(tokens.slice().reverse(), cps, greedy);
  return fromCodePoints(cps.slice(cut).reverse(), 0, cps.length - cut);
}

/** Leftmost match at or after `from`, longest from that start (Go's leftmost-first with greedy stars). */
function findGlob(tokens: Int32Array, cps: Int32Array, from: number): [number, number] | undefined {
  // Tracks, per NFA state, the leftmost start that reaches it.
  const m = tokens.length;
  const INF = 0x7fffffff;
  let cur = new Int32Array(m + 1).fill(INF);
  let nxt = new Int32Array(m + 1).fill(INF);
  const close = (set: Int32Array) => {
    for (let i = 0; i < m; i++) if (set[i]! < set[i + 1]! && tokens[i] === STAR) set[i + 1] = set[i]!;
  };
  let best: [number, number] | undefined;
  for (let p = from; ; p++) {
    if (!best && cur[0]! > p) cur[0] = p;
    close(cur);
    if (cur[m]! !== INF) {
      const s = cur[m]!;
      if (!best || s < best[0] || (s === best[0] && p > best[1])) best = [s, p];
    }
    if (p >= cps.length) break;
    const c = cps[p]!;
    nxt.fill(INF);
    let alive = false;
    for (let i = 0; i < m; i++) {
      const s = cur[i]!;
      if (s === INF || (best && s > best[0])) continue;
      const t = tokens[i]!;
      if (t === STAR) {
        if (c !== NL && s < nxt[i]!) {
          nxt[i] = s;
          alive = true;
        }
      } else if ((t === ANY ? c !== NL : t === c) && s < nxt[i + 1]!) {
        nxt[i + 1] = s;
        alive = true;
      }
    }
    if (!alive && best) break;
    [cur, nxt] = [nxt, cur];
  }
  return best;
}

/** Go's Regexp.Expand for a pattern with no groups: `$0`/`${0}` is the match, other names are empty. */
function expandTemplate(rep: string, match: string): string {
  if (!rep.includes("$")) return rep;
  let out = "";
  for (let i = 0; i < rep.length; ) {
    const c = rep[i]!;
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    if (rep[i + 1] === "$") {
      out += "$";
      i += 2;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (rep[i + 1] === "{") {
      const close = rep.indexOf("}", i + 2);
      const n = close < 0 ? "" : rep.slice(i + 2, close);
      if (close >= 0 && /^[A-Za-z0-9_]+$/.test(n)) {
        name = n;
        end = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(rep.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + name.length;
      }
    }
    if (name === undefined) {
      out += "$";
      i++;
      continue;
    }
    if (/^[0-9]+$/.test(name) && name.length < 9 && Number(name) === 0) out += match;
    i = end;
  }
  return out;
}

function replaceGlob(tokens: Int32Array, value: string, rep: string, all: boolean): string {
  const cps = codePoints(value);
  if (!all) {
    const m = findGlob(tokens, cps, 0);
    if (!m) return value;
    return fromCodePoints(cps, 0, m[0]) + rep + fromCodePoints(cps, m[1], cps.length);
  }
  let out = "";
  let lastEnd = 0;
  let search = 0;
  while (search <= cps.length) {
    const m = findGlob(tokens, cps, search);
    if (!m) break;
    out += fromCodePoints(cps, lastEnd, m[0]);
    if (m[1] > lastEnd || m[0] === 0) out += expandTemplate(rep, fromCodePoints(cps, m[0], m[1]));
    lastEnd = m[1];
    search = Math.max(search + 1, m[1]);
  }
  return out + fromCodePoints(cps, lastEnd, cps.length);
}

/** Runs the lexer over `src`; throws DockerfileError on a syntax error or a failed `${VAR?msg}`. */
export function lexWord(src: string, env: ShellEnv, opts: LexOptions = {}): ExpandResult {
  const lx = new Lexer(src, env, opts);
  const { result, words } = lx.processStopOn(EOF, lx.rawEscapes);
  return { word: result, words, matched: lx.matched, unmatched: lx.unmatched };
}

/** BuildKit's ProcessWord: one word, quotes removed, escapes applied, variables expanded. */
export function expandWord(src: string, env: ShellEnv, opts: LexOptions = {}): string {
  return lexWord(src, env, opts).word;
}

/** BuildKit's ProcessWords: expanded, then split at unquoted, unescaped whitespace. */
export function expandWords(src: string, env: ShellEnv, opts: LexOptions = {}): string[] {
  return lexWord(src, env, opts).words;
}
