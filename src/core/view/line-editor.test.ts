import { describe, expect, it } from "vitest";
import { emptyLine, feedKeys, insertText, renderLine } from "./line-editor.ts";

describe("the terminal's line editor", () => {
  it("types, moves, deletes and submits; the submitted line joins the history", () => {
    let r = feedKeys(emptyLine(), "echo hllo");
    r = feedKeys(r.state, "\x1b[D\x1b[D\x1b[D");
    r = feedKeys(r.state, "e");
    expect(r.state).toMatchObject({ text: "echo hello", cursor: 7 });
    expect(renderLine("$ ", r.state).out).toBe("\r\x1b[J$ echo hello\x1b[3D");
    r = feedKeys(r.state, "\x1b[F\x7f\x7fo\r");
    expect(r.events).toEqual([{ kind: "submit", line: "echo helo" }]);
    expect(r.state).toMatchObject({ text: "", cursor: 0, history: ["echo helo"] });
  });

  it("walks the history with the arrows and keeps the line being typed", () => {
    let s = emptyLine(["ls", "pwd"]);
    let r = feedKeys(s, "cat");
    r = feedKeys(r.state, "\x1b[A");
    expect(r.state.text).toBe("pwd");
    r = feedKeys(r.state, "\x1b[A\x1b[A");
    expect(r.state.text).toBe("ls");
    r = feedKeys(r.state, "\x1b[B\x1b[B");
    expect(r.state.text).toBe("cat");
    s = r.state;
    r = feedKeys(s, "\r");
    expect(r.state.history).toEqual(["ls", "pwd", "cat"]);
  });

  it("Ctrl+C interrupts, Ctrl+D on an empty line ends, Tab asks for completion of what is before the cursor", () => {
    let r = feedKeys(emptyLine(), "rm -r /ap\x1b[D\t");
    expect(r.events).toEqual([{ kind: "complete", before: "rm -r /a" }]);
    r = feedKeys(r.state, "\x03");
    expect(r.events).toEqual([{ kind: "interrupt" }]);
    expect(r.state.text).toBe("");
    expect(feedKeys(r.state, "\x04").events).toEqual([{ kind: "eof" }]);
    expect(insertText(feedKeys(emptyLine(), "cat /ap").state, "p/").text).toBe("cat /app/");
  });

  it("redraws a line that wraps: back up to the prompt's row, then to the cursor's row and column", () => {
    const s = { text: "abcdefgh", cursor: 3 };
    // Prompt (2 visible columns, colours take none) + 8 characters on 5 columns: the end waits to wrap.
    const r = renderLine("\x1b[1m$\x1b[0m ", s, 5, 1);
    expect(r.out).toBe("\x1b[1A\r\x1b[J\x1b[1m$\x1b[0m abcdefgh \b\x1b[1A\r");
    expect(r.row).toBe(1);
    const mid = renderLine("$ ", { text: "abcdefg", cursor: 7 }, 5, 0);
    expect(mid).toEqual({ out: "\r\x1b[J$ abcdefg\r\x1b[4C", row: 1 });
  });

  it("a paste of several lines submits each in order", () => {
    const r = feedKeys(emptyLine(), "echo a\recho b\r\nec");
    expect(r.events).toEqual([
      { kind: "submit", line: "echo a" },
      { kind: "submit", line: "echo b" },
    ]);
    expect(r.state.text).toBe("ec");
  });
});
