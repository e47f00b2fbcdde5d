import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { defaultHighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { dockerFile } from "@codemirror/legacy-modes/mode/dockerfile";
import { EditorState } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { useEffect, useRef } from "react";
import { useAppStore } from "../../store/index.ts";

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
          history(),
          highlightActiveLine(),
          StreamLanguage.define(dockerFile),
          syntaxHighlighting(defaultHighlightStyle),
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
