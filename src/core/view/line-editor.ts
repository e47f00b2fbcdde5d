/**
 * The terminal's line editing, as readline does it for an interactive shell: the bytes a terminal
 * emulator sends for keys (xterm's onData) go in; the edited line, the escape sequences that
 * redraw it, and what the shell must do (run a line, interrupt, end, complete) come out.
 * No terminal or DOM here, so each key is testable.
 */

/** The line being edited and the history it can walk. */
export interface LineState {
  text: string;
  /** Cursor position in `text` (UTF-16 units). */
  cursor: number;
  /** Earlier lines, oldest first. */
  history: readonly string[];
  /** Index into history while walking it; history.length means the line being typed. */
  index: number;
  /** The line being typed, kept while walking the history. */
  draft: string;
}

/** What the shell is asked to do. */
export type LineEvent =
  | { kind: "submit"; line: string }
  | { kind: "interrupt" }
  | { kind: "eof" }
  | { kind: "complete"; before: string };

/** A fresh line over a history. */
export function emptyLine(history: readonly string[] = []): LineState {
  return { text: "", cursor: 0, history, index: history.length, draft: "" };
}

/** The columns a string takes on screen (its colour escapes take none). */
export function visibleLength(text: string): number {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").length;
}

/**
 * Redraws the prompt and the line in place, leaving the terminal's cursor at the line's cursor.
 * A line longer than the terminal is wide wraps: `row` is the row (below the prompt's first) the
 * cursor was left on by the previous redraw, and the result says where this one leaves it.
 */
export function renderLine(
  prompt: string,
  s: Pick<LineState, "text" | "cursor">,
  cols = Number.POSITIVE_INFINITY,
  row = 0,
): { out: string; row: number } {
  let out = `${row > 0 ? `\x1b[${row}A` : ""}\r\x1b[J${prompt}${s.text}`;
  const plen = visibleLength(prompt);
  if (!Number.isFinite(cols)) {
    const back = s.text.length - s.cursor;
    return { out: back > 0 ? `${out}\x1b[${back}D` : out, row: 0 };
  }
  const end = plen + s.text.length;
  // At the last column the terminal waits to wrap: a space and a backspace make it wrap now.
  if (end > 0 && end % cols === 0) out += " \b";
  const endRow = Math.floor(end / cols);
  const target = plen + s.cursor;
  const targetRow = Math.floor(target / cols);
  if (endRow > targetRow) out += `\x1b[${endRow - targetRow}A`;
  out += "\r";
  if (target % cols > 0) out += `\x1b[${target % cols}C`;
  return { out, row: targetRow };
}

/** Inserts text at the cursor (a completion, a paste). */
export function insertText(s: LineState, text: string): LineState {
  return {
    ...s,
    text: s.text.slice(0, s.cursor) + text + s.text.slice(s.cursor),
    cursor: s.cursor + text.length,
  };
}

/** Adds a submitted line to the history (not blank lines, not a repeat of the last one). */
export function remember(history: readonly string[], line: string): string[] {
  if (!line.trim() || history.at(-1) === line) return [...history];
  return [...history, line];
}

const KEYS: [string, string][] = [
  ["\x1b[A", "up"],
  ["\x1bOA", "up"],
  ["\x1b[B", "down"],
  ["\x1bOB", "down"],
  ["\x1b[C", "right"],
  ["\x1bOC", "right"],
  ["\x1b[D", "left"],
  ["\x1bOD", "left"],
  ["\x1b[H", "home"],
  ["\x1bOH", "home"],
  ["\x1b[1~", "home"],
  ["\x1b[F", "end"],
  ["\x1bOF", "end"],
  ["\x1b[4~", "end"],
  ["\x1b[3~", "delete"],
];

/**
 * Feeds what the terminal sent. Every line submitted or other event comes out in order; the line
 * after the last event is the state to keep editing. `changed` says the line must be redrawn.
 */
export function feedKeys(
  state: LineState,
  data: string,
): { state: LineState; events: LineEvent[]; changed: boolean } {
  let s = state;
  const events: LineEvent[] = [];
  let changed = false;
  let i = 0;
  const edit = (next: LineState) => {
    s = next;
    changed = true;
  };
  while (i < data.length) {
    const rest = data.slice(i);
    const key = KEYS.find(([seq]) => rest.startsWith(seq));
    if (key) {
      i += key[0].length;
      switch (key[1]) {
        case "up":
          if (s.index > 0) {
            const draft = s.index === s.history.length ? s.text : s.draft;
            const text = s.history[s.index - 1] ?? "";
            edit({ ...s, index: s.index - 1, draft, text, cursor: text.length });
          }
          break;
        case "down":
          if (s.index < s.history.length) {
            const index = s.index + 1;
            const text = index === s.history.length ? s.draft : (s.history[index] ?? "");
            edit({ ...s, index, text, cursor: text.length });
          }
          break;
        case "left":
          if (s.cursor > 0) edit({ ...s, cursor: s.cursor - 1 });
          break;
        case "right":
          if (s.cursor < s.text.length) edit({ ...s, cursor: s.cursor + 1 });
          break;
        case "home":
          edit({ ...s, cursor: 0 });
          break;
        case "end":
          edit({ ...s, cursor: s.text.length });
          break;
        case "delete":
          if (s.cursor < s.text.length)
            edit({ ...s, text: s.text.slice(0, s.cursor) + s.text.slice(s.cursor + 1) });
          break;
      }
      continue;
    }
    const ch = data[i]!;
    i++;
    switch (ch) {
      case "\r":
      case "\n":
        events.push({ kind: "submit", line: s.text });
        s = emptyLine(remember(s.history, s.text));
        changed = false;
        if (ch === "\r" && data[i] === "\n") i++;
        break;
      case "\x7f":
      case "\b":
        if (s.cursor > 0)
          edit({ ...s, text: s.text.slice(0, s.cursor - 1) + s.text.slice(s.cursor), cursor: s.cursor - 1 });
        break;
      case "\x03":
        events.push({ kind: "interrupt" });
        s = emptyLine(s.history);
        changed = false;
        break;
      case "\x04":
        if (s.text === "") events.push({ kind: "eof" });
        else if (s.cursor < s.text.length)
          edit({ ...s, text: s.text.slice(0, s.cursor) + s.text.slice(s.cursor + 1) });
        break;
      case "\t":
        events.push({ kind: "complete", before: s.text.slice(0, s.cursor) });
        break;
      case "\x01":
        edit({ ...s, cursor: 0 });
        break;
      case "\x05":
        edit({ ...s, cursor: s.text.length });
        break;
      case "\x15":
        edit({ ...s, text: s.text.slice(s.cursor), cursor: 0 });
        break;
      case "\x0b":
        edit({ ...s, text: s.text.slice(0, s.cursor) });
        break;
      case "\x17": {
        const before = s.text.slice(0, s.cursor).replace(/\S+\s*$/, "");
        edit({ ...s, text: before + s.text.slice(s.cursor), cursor: before.length });
        break;
      }
      case "\x1b":
        // An escape sequence this editor does not know: skip it whole.
        while (i < data.length && !/[A-Za-z~]/.test(data[i]!)) i++;
        i++;
        break;
      default:
        if (ch >= " ") edit(insertText(s, ch));
    }
  }
  return { state: s, events, changed };
}
