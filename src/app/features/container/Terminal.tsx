import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal as XTerm } from "@xterm/xterm";
import { useEffect, useRef } from "react";
import {
  emptyLine,
  feedKeys,
  insertText,
  type LineEvent,
  renderLine,
} from "../../../core/view/line-editor.ts";
import { useAppStore } from "../../store/index.ts";
import { bannerOf, promptOf } from "./terminal-text.ts";

/**
 * The terminal attached to a container: xterm.js (its input keeps the accessible name
 * `Terminal input`), line editing from core/view/line-editor, commands run by the slice's actions.
 */
export function Terminal() {
  const info = useAppStore((s) => s.terminal.info);
  const restored = useAppStore((s) => s.terminal.restored);
  const imageName = useAppStore((s) => s.explorer.image?.image.names[0] ?? "image");
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el || !info) return;
    const { runLine, interruptLine, completeLine, endSession } = useAppStore.getState();
    const term = new XTerm({
      convertEol: true,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: "#11151b", foreground: "#e6e9ee" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    let line = emptyLine(info.history);
    let cwd = info.cwd;
    let busy = false;
    /** Keys typed while a command ran: echoed at once (as a tty does), read after the prompt (as bash does). */
    let ahead = "";
    let ended = info.state !== "running";
    let queue = Promise.resolve();
    /** The row (below the prompt's) where the last redraw left the cursor, for wrapped lines. */
    let row = 0;
    const prompt = () => promptOf(info, cwd);
    const redraw = (state: Pick<typeof line, "text" | "cursor"> = line) => {
      const r = renderLine(prompt(), state, term.cols, row);
      row = r.row;
      term.write(r.out);
    };
    const freshPrompt = () => {
      row = 0;
      redraw();
    };
    term.write(bannerOf(info, restored, imageName));
    if (!ended) freshPrompt();

    const finish = async () => {
      ended = true;
      term.write("exit\r\n");
      await endSession();
    };

    const handle = async (e: LineEvent): Promise<void> => {
      if (ended) return;
      switch (e.kind) {
        case "submit": {
          redraw({ text: e.line, cursor: e.line.length });
          term.write("\r\n");
          const cmd = e.line.trim();
          if (/^exit(\s+\d+)?$/.test(cmd)) return finish();
          if (cmd) {
            busy = true;
            let last = "\n";
            const r = await runLine(e.line, (text) => {
              if (text) last = text.at(-1) ?? last;
              term.write(text);
            });
            busy = false;
            if ("error" in r) term.write(`\x1b[31m${r.error}\x1b[0m\r\n`);
            else {
              cwd = r.cwd;
              if (last !== "\n") term.write("\r\n");
            }
          }
          freshPrompt();
          if (ahead) {
            const keys = ahead;
            ahead = "";
            await feed(keys);
          }
          return;
        }
        case "interrupt":
          term.write("^C\r\n");
          freshPrompt();
          return;
        case "eof":
          return finish();
        case "complete": {
          const r = await completeLine(e.before);
          if (r.common) {
            line = insertText(line, r.common);
            redraw();
          } else if (r.candidates.length > 1) {
            redraw({ text: line.text, cursor: line.text.length });
            term.write(`\r\n${r.candidates.join("  ")}\r\n`);
            freshPrompt();
          }
          return;
        }
      }
    };

    /** Line editing happens here, in the page: a key is echoed without asking the worker. */
    const feed = async (data: string): Promise<void> => {
      if (ended) return;
      const r = feedKeys(line, data);
      line = r.state;
      if (r.events.length === 0) {
        if (r.changed) redraw();
        return;
      }
      for (const e of r.events) await handle(e);
      if (r.changed) redraw();
    };

    const input = term.onData((data) => {
      if (busy) {
        // While a command runs Ctrl+C counts at once (not after the command) and drops the keys
        // typed ahead; other keys wait for the prompt.
        if (data.includes("\x03")) {
          ahead = "";
          term.write("^C");
          interruptLine();
        } else {
          ahead += data;
          // Printable keys only, as a tty's line discipline echoes them (arrows and the like not).
          term.write(data.replace(/\x1b\[[0-9;]*[A-Za-z~]|[\x00-\x1f\x7f]/g, ""));
        }
        return;
      }
      queue = queue.then(() => feed(data));
    });
    const resize = new ResizeObserver(() => {
      if (el.clientWidth > 0) fit.fit();
    });
    resize.observe(el);
    term.focus();
    return () => {
      input.dispose();
      resize.disconnect();
      term.dispose();
    };
  }, [info, restored, imageName]);

  // The screen is absolutely placed in its host so that what xterm changes on a key is laid out
  // from the screen, not from the page (a flex item cannot be a relayout boundary).
  return (
    <div className="terminal-host" data-testid="terminal">
      <div className="terminal-screen" ref={host} />
    </div>
  );
}
