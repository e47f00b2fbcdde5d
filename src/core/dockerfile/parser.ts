/**
 * Dockerfile text → AST, following BuildKit's frontend/dockerfile/parser byte for byte: parser
 * directives, whole-line comments, line continuations with the escape token, builder flags,
 * JSON (exec) form, per-instruction argument shapes, and heredocs. No variable is expanded here.
 */
import { DockerfileError, type Position, type Range } from "../errors.ts";
import { emptyEnv, isGoSpace, lexWord } from "./shell.ts";

/** One heredoc attached to RUN/COPY/ADD (`<<EOF` ... `EOF`). */
export interface Heredoc {
  /** The delimiter with quotes removed (`EOF` for `<<'EOF'`). */
  name: string;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when none. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is then never expanded. */
  expand: boolean;
  /** `<<-`: consumers strip leading tabs from the body (the parser keeps them). */
  chomp: boolean;
  /** The body lines as written, each with its line terminator. */
  content: string;
}

/** A parser directive from the top of the file. */
export interface Directive {
  name: "syntax" | "escape" | "check";
  value: string;
  range: Range;
}

/** One instruction, as BuildKit's parser leaves it: keyword, flags and raw argument words. */
export interface InstructionNode {
  /** The keyword lower-cased (`run`); unknown keywords are kept too. */
  keyword: string;
  /** The keyword as written (`Run`), for casing checks and messages. */
  keywordAsWritten: string;
  /** Builder flags as written after quote and escape removal (`--from=build`). */
  flags: string[];
  /**
   * Argument nodes in BuildKit's shapes: JSON elements or one shell-form string (RUN, CMD, ...),
   * whitespace-split words (FROM, EXPOSE, COPY ...), key/value/separator triples (ENV, LABEL),
   * quote-aware words (ARG), the type and command (HEALTHCHECK). Empty for ONBUILD (see `trigger`).
   */
  args: string[];
  /** ONBUILD's trigger instruction. */
  trigger?: InstructionNode;
  /** Whether the arguments came from a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  /** The logical line: continuation lines joined, comments inside it dropped. */
  original: string;
  /** From the keyword's first character to the end of the last physical line consumed. */
  range: Range;
  /** Comment lines directly above the instruction, `#` removed and trimmed. */
  comments: string[];
  /**
   * Where the pieces of `original` came from: each entry maps `original` offsets from `offset` on to
   * a physical line and the column of that offset. Use positionInNode to place a word in the file.
   */
  segments: LineSegment[];
}

/** A piece of an instruction's logical line, as it sits in the file. */
export interface LineSegment {
  offset: number;
  line: number;
  column: number;
}

/** The file position of an offset into `node.original` (offsets past the end map to its end). */
export function positionInNode(node: InstructionNode, offset: number): Position {
  let seg = node.segments[0] ?? { offset: 0, line: node.range.start.line, column: node.range.start.column };
  for (const s of node.segments) {
    if (s.offset > offset) break;
    seg = s;
  }
  return { line: seg.line, column: seg.column + (offset - seg.offset) };
}

/** The range of the first occurrence of `text` in the instruction, or the whole instruction. */
export function rangeInNode(node: InstructionNode, text: string, from = 0): Range {
  const i = text === "" ? -1 : node.original.indexOf(text, from);
  if (i < 0) return node.range;
  const start = positionInNode(node, i);
  const end = positionInNode(node, i + text.length);
  return end.line === start.line
    ? { start, end }
    : { start, end: { line: start.line, column: start.column + text.length } };
}

/** A parser warning (an expected outcome, so data rather than an exception). */
export interface ParseWarning {
  rule: string;
  message: string;
  range: Range;
}

/** The parsed Dockerfile. */
export interface DockerfileAst {
  instructions: InstructionNode[];
  directives: Directive[];
  escapeToken: "\\" | "`";
  warnings: ParseWarning[];
  /** From the first instruction's first line to the last instruction's last line. */
  range: Range;
}

const MAX_LINE_BYTES = 65536;
const RE_WHITESPACE = /[\t\v\f\r ]+/;
const RE_DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const RE_HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const RE_ASCII = /^[\x00-\x7f]*$/;
const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

type LineParser = (
  rest: string,
  esc: number,
) => { args: string[]; json?: boolean; trigger?: InstructionNode };

function pos(line: number, column: number): Position {
  return { line, column };
}

function trimLeftGo(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s.codePointAt(i)!)) i += s.codePointAt(i)! > 0xffff ? 2 : 1;
  return i === 0 ? s : s.slice(i);
}

function trimRightGo(s: string): string {
  let j = s.length;
  while (j > 0) {
    const c = s.charCodeAt(j - 1);
    if (c >= 0xdc00 && c <= 0xdfff && j > 1) break; // no astral code point is a Go space
    if (!isGoSpace(c)) break;
    j--;
  }
  return j === s.length ? s : s.slice(0, j);
}

/** Go's strings.TrimSpace. */
export function trimSpaceGo(s: string): string {
  return trimRightGo(trimLeftGo(s));
}

function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0 && (s.charCodeAt(j - 1) === 0x0a || s.charCodeAt(j - 1) === 0x0d)) j--;
  return j === s.length ? s : s.slice(0, j);
}

function isComment(raw: string): boolean {
  return trimLeftGo(trimNewline(raw)).charCodeAt(0) === 0x23;
}

/** BuildKit's continuation check: the escape token is the last non-[ \t] character and is not itself escaped. */
function trimContinuation(line: string, esc: number): { text: string; continues: boolean } {
  let j = line.length;
  while (j > 0 && (line.charCodeAt(j - 1) === 0x20 || line.charCodeAt(j - 1) === 0x09)) j--;
  if (j === 0 || line.charCodeAt(j - 1) !== esc) return { text: line, continues: false };
  const e = j - 1;
  if (e === 0) return { text: "", continues: true };
  if (line.charCodeAt(e - 1) === esc) return { text: line, continues: false };
  return { text: line.slice(0, e), continues: true };
}

/** Byte-level view used where BuildKit walks bytes, not runes: each UTF-8 byte becomes one char. */
function toByteString(s: string): string {
  if (RE_ASCII.test(s)) return s;
  let out = "";
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
}

function fromByteString(b: string, original: string): string {
  if (b.length === original.length) return b;
  const bytes = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) bytes[i] = b.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** extractBuilderFlags: peels `--flag` words off the front of the argument text. */
function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const b = toByteString(line);
  const words: string[] = [];
  const IN_SPACES = 0;
  const IN_WORD = 1;
  const IN_QUOTE = 2;
  let phase = IN_SPACES;
  let word = "";
  let quote = 0;
  let blankOK = false;
  let ch = 0;
  const rest = (p: number) => fromByteString(b.slice(p), b === line ? b.slice(p) : line);
  for (let p = 0; p <= b.length; p++) {
    if (p !== b.length) ch = b.charCodeAt(p);
    if (phase === IN_SPACES) {
      if (p === b.length) break;
      if (isGoSpace(ch)) continue;
      if (ch !== 0x2d || p + 1 === b.length || b.charCodeAt(p + 1) !== 0x2d)
        return { rest: rest(p), flags: words };
      phase = IN_WORD;
    }
    if (p === b.length) {
      if (word !== "--" && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch)) {
        phase = IN_SPACES;
        if (word === "--") return { rest: rest(p), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
        continue;
      }
      if (ch === 0x5c) {
        if (p + 1 === b.length) continue;
        p++;
        ch = b.charCodeAt(p);
      }
      word += String.fromCharCode(ch);
      continue;
    }
    if (ch === quote) {
      phase = IN_WORD;
      continue;
    }
    if (ch === 0x5c) {
      if (p + 1 === b.length) {
        phase = IN_WORD;
        continue;
      }
      p++;
      ch = b.charCodeAt(p);
    }
    word += String.fromCharCode(ch);
  }
  return { rest: "", flags: words };
}

/** parseWords: quote-aware words; quotes and escapes are kept in the words. */
export function parseWords(rest: string, esc: number): string[] {
  const words: string[] = [];
  const IN_SPACES = 0;
  const IN_WORD = 1;
  const IN_QUOTE = 2;
  let phase = IN_SPACES;
  let word = "";
  let quote = 0;
  let blankOK = false;
  let ch = 0;
  let width = 0;
  const n = rest.length;
  for (let p = 0; p <= n; p += width) {
    if (p !== n) {
      ch = rest.codePointAt(p)!;
      width = ch > 0xffff ? 2 : 1;
    }
    if (phase === IN_SPACES) {
      if (p === n) break;
      if (isGoSpace(ch)) continue;
      phase = IN_WORD;
    }
    if (p === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch)) {
        phase = IN_SPACES;
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === esc) {
        if (p + width === n) continue;
        word += String.fromCodePoint(ch);
        p += width;
        ch = rest.codePointAt(p)!;
        width = ch > 0xffff ? 2 : 1;
      }
      word += String.fromCodePoint(ch);
      continue;
    }
    if (ch === quote) phase = IN_WORD;
    if (ch === esc && quote !== 0x27) {
      if (p + width === n) {
        phase = IN_WORD;
        continue;
      }
      p += width;
      word += String.fromCodePoint(ch);
      ch = rest.codePointAt(p)!;
      width = ch > 0xffff ? 2 : 1;
    }
    word += String.fromCodePoint(ch);
  }
  return words;
}

class LineError extends Error {
  constructor(
    message: string,
    readonly suggestion?: string,
  ) {
    super(message);
  }
}

const NOT_STRINGS = "when using JSON array syntax, arrays must be comprised of strings only";
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Go's json.Unmarshal into []interface{}: undefined when it fails, LineError when not all strings. */
function parseJson(rest: string): string[] | undefined {
  const text = trimLeftGo(rest);
  if (text.charCodeAt(0) !== 0x5b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !withinGoLimits(value)) return undefined;
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== "string") {
      const fixed = value.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
      throw new LineError(NOT_STRINGS, JSON.stringify(fixed).replace(/","/g, '", "'));
    }
    out.push(v.replace(LONE_SURROGATE, "\ufffd"));
  }
  return out;
}

/** Go's decoder fails on numbers beyond float64 and on nesting deeper than 10000. */
function withinGoLimits(root: unknown[]): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > 10000) return false;
    if (typeof v === "number" && !Number.isFinite(v)) return false;
    if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1]);
    else if (v !== null && typeof v === "object")
      for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return true;
}

function splitWhitespace(rest: string): string[] {
  return rest === "" ? [] : rest.split(/[\t\v\f\r ]+/);
}

const parseIgnore: LineParser = () => ({ args: [""] });
const parseString: LineParser = (rest) => ({ args: rest === "" ? [] : [rest] });
const parseStrings: LineParser = (rest) => ({ args: splitWhitespace(rest) });
const parseMaybeJson: LineParser = (rest) => {
  if (rest === "") return { args: [] };
  const json = parseJson(rest);
  return json ? { args: json, json: true } : { args: [rest] };
};
const parseMaybeJsonToList: LineParser = (rest) => {
  const json = parseJson(rest);
  return json ? { args: json, json: true } : { args: splitWhitespace(rest) };
};
const parseArgWords: LineParser = (rest, esc) => ({ args: parseWords(rest, esc) });

function nameValParser(key: string): LineParser {
  return (rest, esc) => {
    const words = parseWords(rest, esc);
    if (words.length === 0) return { args: [] };
    if (!words[0]!.includes("=")) {
      const m = RE_WHITESPACE.exec(rest);
      if (!m) throw new LineError(`${key} must have two arguments`);
      return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ""] };
    }
    const args: string[] = [];
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq < 0)
        throw new LineError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
      args.push(w.slice(0, eq), w.slice(eq + 1), "=");
    }
    return { args };
  };
}

const parseHealthcheck: LineParser = (rest, esc) => {
  const b = toByteString(rest);
  let sep = 0;
  while (sep < b.length && !isGoSpace(b.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < b.length && isGoSpace(b.charCodeAt(next))) next++;
  if (sep === 0) return { args: [] };
  const typ = fromByteString(b.slice(0, sep), b === rest ? b.slice(0, sep) : rest);
  const cmd = parseMaybeJson(fromByteString(b.slice(next), b === rest ? b.slice(next) : rest), esc);
  return { args: [typ, ...cmd.args], json: cmd.json };
};

const DISPATCH: Record<string, LineParser> = {
  add: parseMaybeJsonToList,
  arg: parseArgWords,
  cmd: parseMaybeJson,
  copy: parseMaybeJsonToList,
  entrypoint: parseMaybeJson,
  env: nameValParser("ENV"),
  expose: parseStrings,
  from: parseStrings,
  healthcheck: parseHealthcheck,
  label: nameValParser("LABEL"),
  maintainer: parseString,
  onbuild: (rest, esc) => {
    if (rest === "") return { args: [] };
    // BuildKit recurses without bound; a limit keeps a hostile `ONBUILD ONBUILD ...` from exhausting the stack.
    if (++onbuildDepth > MAX_ONBUILD_DEPTH) throw new LineError("ONBUILD nested too deeply");
    try {
      return { args: [], trigger: nodeFromLine(rest, esc, [], ZERO_RANGE) };
    } finally {
      onbuildDepth--;
    }
  },
  run: parseMaybeJson,
  shell: parseMaybeJson,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJsonToList,
  workdir: parseString,
};

const MAX_ONBUILD_DEPTH = 200;
let onbuildDepth = 0;

const ZERO_RANGE: Range = { start: pos(1, 1), end: pos(1, 1) };

/** The instruction keywords BuildKit knows, upper-case. */
export const INSTRUCTION_KEYWORDS = Object.keys(DISPATCH).map((k) => k.toUpperCase());

function nodeFromLine(line: string, esc: number, comments: string[], range: Range): InstructionNode {
  const trimmed = trimSpaceGo(line);
  const m = RE_WHITESPACE.exec(trimmed);
  const cmd = m ? trimmed.slice(0, m.index) : trimmed;
  let flags: string[] = [];
  let rest = "";
  if (m) {
    const ex = extractBuilderFlags(trimmed.slice(m.index + m[0].length));
    flags = ex.flags;
    rest = trimSpaceGo(ex.rest);
  }
  const keyword = cmd.toLowerCase();
  const fn = Object.hasOwn(DISPATCH, keyword) ? DISPATCH[keyword]! : parseIgnore;
  const r = fn(rest, esc);
  const node: InstructionNode = {
    keyword,
    keywordAsWritten: cmd,
    flags,
    args: r.args,
    json: r.json ?? false,
    heredocs: [],
    original: line,
    range,
    comments,
    segments: [],
  };
  if (r.trigger) {
    r.trigger.range = range;
    node.trigger = r.trigger;
  }
  return node;
}

function canContainHeredoc(node: InstructionNode): boolean {
  const n = node.keyword === "onbuild" && node.trigger ? node.trigger : node;
  return HEREDOC_KEYWORDS.has(n.keyword) && !n.json;
}

/** ParseHeredoc: whether one shell word (`<<EOF`, `3<<-'EOF'`, `<< EOF`) opens a heredoc. */
export function parseHeredocWord(word: string): Omit<Heredoc, "content"> | undefined {
  const m = RE_HEREDOC.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === "") return undefined;
  const plain = lexWord(rest, emptyEnv, { skipUnsetEnv: true }).words;
  if (plain.length !== 1) return undefined;
  const raw = lexWord(rest, emptyEnv, { skipUnsetEnv: true, rawQuotes: true }).words;
  const name = plain[0]!;
  const quotes = (s: string) => s.split(/['"]/).length - 1;
  const fd = m[1] === "" ? 0 : Number(m[1]);
  return {
    name,
    fileDescriptor: Number.isSafeInteger(fd) ? fd : Number.MAX_SAFE_INTEGER,
    expand: quotes(name) === quotes(raw[0] ?? ""),
    chomp: m[2] === "-",
  };
}

/** The heredoc openers on a logical line, in order (none when the line does not lex). */
export function heredocsFromLine(line: string): Omit<Heredoc, "content">[] {
  let words: string[];
  try {
    words = lexWord(line, emptyEnv, {
      rawQuotes: true,
      rawEscapes: true,
      skipUnsetEnv: true,
      glueHeredocs: true,
    }).words;
  } catch {
    return [];
  }
  const out: Omit<Heredoc, "content">[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Physical lines of the text, each with its terminator, BuildKit's scanLines. */
class LineReader {
  private offset = 0;
  /** 1-based number of the last line returned. */
  line = 0;
  constructor(private readonly text: string) {}
  next(): string | undefined {
    if (this.offset >= this.text.length) return undefined;
    const nl = this.text.indexOf("\n", this.offset);
    const end = nl < 0 ? this.text.length : nl + 1;
    const raw = this.text.slice(this.offset, end);
    this.offset = end;
    this.line++;
    if (raw.length * 3 >= MAX_LINE_BYTES && utf8Length(raw) + (nl < 0 ? 1 : 0) > MAX_LINE_BYTES) {
      throw new DockerfileError(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`, {
        start: pos(this.line, 1),
        end: pos(this.line, 1),
      });
    }
    return raw;
  }
}

function lineEnd(line: number, raw: string): Position {
  return pos(line, trimNewline(raw).length + 1);
}

/**
 * Parses Dockerfile text the way BuildKit's parser does. Bytes are decoded as UTF-8 (invalid
 * sequences become U+FFFD). Columns count UTF-16 code units, 1-based; `range.end.column` is one past
 * the last character. Throws DockerfileError (with line and column) on a syntax error.
 */
export function parseDockerfile(input: string | Uint8Array): DockerfileAst {
  let text = typeof input === "string" ? input : new TextDecoder().decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const reader = new LineReader(text);
  let esc = 0x5c;
  let directivesDone = false;
  const directives: Directive[] = [];
  const seen = new Set<string>();
  const instructions: InstructionNode[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];

  const lineRange = (n: number, raw: string): Range => ({ start: pos(n, 1), end: lineEnd(n, raw) });

  const processDirective = (token: string, n: number, raw: string) => {
    if (directivesDone) return;
    const m = RE_DIRECTIVE.exec(token);
    if (!m) {
      directivesDone = true;
      return;
    }
    const k = m[1]!.toLowerCase();
    if (k !== "syntax" && k !== "escape" && k !== "check") {
      directivesDone = true;
      return;
    }
    if (seen.has(k))
      throw new DockerfileError(`only one ${k} parser directive can be used`, lineRange(n, raw));
    seen.add(k);
    const value = m[2]!;
    if (k === "escape") {
      if (value !== "`" && value !== "\\") {
        throw new DockerfileError(
          `invalid escape token '${value}' does not match \` or \\`,
          lineRange(n, raw),
        );
      }
      esc = value.charCodeAt(0);
    }
    directives.push({ name: k, value, range: lineRange(n, raw) });
  };

  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    const n = reader.line;
    if (isComment(raw)) comments.push(trimSpaceGo(trimNewline(raw).slice(1)));
    const noNl = trimNewline(raw);
    const token = trimLeftGo(noNl);
    processDirective(token, n, raw);
    const indent = noNl.length - token.length;
    const startLine = n;
    let lastRaw = raw;
    const first = trimContinuation(token.charCodeAt(0) === 0x23 ? "" : token, esc);
    let line = first.text;
    const segments: LineSegment[] = [{ offset: 0, line: startLine, column: indent + 1 }];
    let continues = first.continues;
    if (!continues && line === "") continue;

    let emptyContinuation = false;
    while (continues) {
      const next = reader.next();
      if (next === undefined) break;
      lastRaw = next;
      const t = trimNewline(next);
      processDirective(t, reader.line, next);
      if (isComment(next)) continue;
      if (trimLeftGo(t).length === 0) {
        emptyContinuation = true;
        continue;
      }
      const c = trimContinuation(t, esc);
      segments.push({ offset: line.length, line: reader.line, column: 1 });
      line += c.text;
      continues = c.continues;
    }
    let range: Range = {
      start: pos(startLine, indent + 1),
      end: lineEnd(reader.line, lastRaw),
    };
    if (emptyContinuation) {
      warnings.push({
        rule: "NoEmptyContinuation",
        message: `Empty continuation line found in: ${line}`,
        range: { ...range },
      });
    }

    let node: InstructionNode;
    try {
      node = nodeFromLine(line, esc, comments, range);
      node.segments = segments;
      if (node.trigger) {
        const shift = line.indexOf(node.trigger.original, node.keywordAsWritten.length);
        node.trigger.segments = segments.map((g) => ({ ...g, offset: g.offset - Math.max(shift, 0) }));
      }
    } catch (e) {
      if (e instanceof LineError) {
        throw new DockerfileError(e.message, range, e.suggestion ? { suggestion: e.suggestion } : {});
      }
      throw e;
    }

    if (canContainHeredoc(node) && line.includes("<<")) {
      let docs: Omit<Heredoc, "content">[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        if (e instanceof DockerfileError) throw new DockerfileError(e.message, range);
        throw e;
      }
      for (const doc of docs) {
        let content = "";
        let terminated = false;
        for (let body = reader.next(); body !== undefined; body = reader.next()) {
          lastRaw = body;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        range = { start: range.start, end: lineEnd(reader.line, lastRaw) };
        if (!terminated) {
          throw new DockerfileError(
            `unterminated heredoc: no line reads ${doc.name} before the end of the file`,
            range,
          );
        }
        node.heredocs.push({ ...doc, content });
      }
      node.range = range;
      if (node.trigger) node.trigger.range = range;
    }
    instructions.push(node);
    comments = [];
  }

  if (instructions.length === 0) {
    const last = Math.max(reader.line, 1);
    throw new DockerfileError("file with no instructions", { start: pos(last, 1), end: pos(last, 1) });
  }
  return {
    instructions,
    directives,
    escapeToken: esc === 0x60 ? "`" : "\\",
    warnings,
    range: { start: instructions[0]!.range.start, end: instructions.at(-1)!.range.end },
  };
}
