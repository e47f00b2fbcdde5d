import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { dockerFile } from "@codemirror/legacy-modes/mode/dockerfile";
import { type Diagnostic as CmDiagnostic, linter, lintGutter } from "@codemirror/lint";
import { EditorState, type Text } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useRef } from "react";
import type { Diagnostic } from "../../../worker/protocol.ts";
import { useAppStore } from "../../store/index.ts";

/** Document offsets of a 1-based line/column range (end column one past the end). */
export function toOffsets(doc: Text, d: Diagnostic): { from: number; to: number } {
  const clampLine = (n: number) => doc.line(Math.min(Math.max(1, n), doc.lines));
  const a = clampLine(d.range.start.line);
  const b = clampLine(d.range.end.line);
  const from = Math.min(a.to, a.from + Math.max(0, d.range.start.column - 1));
  let to = Math.min(b.to, b.from + Math.max(0, d.range.end.column - 1));
  if (to <= from) to = a.to > from ? a.to : Math.min(doc.length, from + 1);
  return { from, to };
}

/** Syntax colours from the theme's CSS variables, so light and dark both read well. */
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "var(--syntax-keyword)", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--syntax-string)" },
  { tag: tags.comment, color: "var(--syntax-comment)", fontStyle: "italic" },
  { tag: [tags.variableName, tags.number], color: "var(--syntax-variable)" },
]);

/** Editor chrome from the theme's CSS variables (CodeMirror's own styles would win over a stylesheet). */
const chrome = EditorView.theme({
  ".cm-selectionBackground, &.cm-focused .cm-selectionBackground": {
    background: "color-mix(in srgb, var(--accent) 30%, transparent)",
  },
  ".cm-tooltip": { background: "var(--panel)", color: "var(--ink)", border: "1px solid var(--line)" },
});

/** Underlines parse errors and lint findings, checked in the worker as the text changes. */
const dockerfileLinter = linter(
  async (view) => {
    const diagnostics = await useAppStore.getState().checkDockerfile(view.state.doc.toString());
    return diagnostics.map(
      (d): CmDiagnostic => ({
        ...toOffsets(view.state.doc, d),
        severity: d.severity,
        message: d.message,
        source: d.source,
      }),
    );
  },
  { delay: 300 },
);

/** The Dockerfile editor: CodeMirror 6 with highlighting and line numbers; Ctrl/Cmd+Enter builds. */
export function DockerfileEditor({ onBuild }: { onBuild: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const text = useAppStore((s) => s.editor.text);
  const loaded = useAppStore((s) => s.editor.loaded);
  const setDockerfile = useAppStore((s) => s.setDockerfile);
  const build = useRef(onBuild);
  build.current = onBuild;

  useEffect(() => {
    if (!host.current || !loaded) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: useAppStore.getState().editor.text,
        extensions: [
          lineNumbers(),
          lintGutter(),
          dockerfileLinter,
          history(),
          highlightActiveLine(),
          StreamLanguage.define(dockerFile),
          syntaxHighlighting(highlight),
          chrome,
          keymap.of([
            {
              key: "Mod-Enter",
              run: () => {
                build.current();
                return true;
              },
            },
            ...defaultKeymap,
            ...historyKeymap,
          ]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": "Dockerfile", "aria-multiline": "true" }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) setDockerfile(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, [loaded, setDockerfile]);

  // Text replaced from outside (a shared link, a lesson) flows into the editor.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== text) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    }
  }, [text]);

  return <div className="editor" ref={host} />;
}
