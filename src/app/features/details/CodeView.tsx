import { HighlightStyle, StreamLanguage, type StreamParser, syntaxHighlighting } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useRef } from "react";

const style = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.tagName, tags.definitionKeyword],
    color: "var(--syntax-keyword)",
    fontWeight: "600",
  },
  { tag: [tags.string, tags.special(tags.string), tags.attributeValue], color: "var(--syntax-string)" },
  { tag: [tags.comment, tags.meta], color: "var(--syntax-comment)", fontStyle: "italic" },
  { tag: [tags.variableName, tags.number, tags.atom, tags.propertyName], color: "var(--syntax-variable)" },
]);

/** Which legacy mode reads a file, by its name (loaded on demand, so the page stays light). */
function modeFor(path: string): (() => Promise<StreamParser<unknown>>) | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  if (name === "dockerfile" || ext === "dockerfile")
    return async () =>
      (await import("@codemirror/legacy-modes/mode/dockerfile")).dockerFile as StreamParser<unknown>;
  if (["sh", "bash", "profile", "bashrc"].includes(ext) || name === ".bashrc" || name === ".profile")
    return async () => (await import("@codemirror/legacy-modes/mode/shell")).shell as StreamParser<unknown>;
  if (ext === "py")
    return async () => (await import("@codemirror/legacy-modes/mode/python")).python as StreamParser<unknown>;
  if (ext === "yaml" || ext === "yml")
    return async () => (await import("@codemirror/legacy-modes/mode/yaml")).yaml as StreamParser<unknown>;
  if (ext === "toml")
    return async () => (await import("@codemirror/legacy-modes/mode/toml")).toml as StreamParser<unknown>;
  if (["js", "mjs", "cjs", "json"].includes(ext))
    return async () =>
      (await import("@codemirror/legacy-modes/mode/javascript")).javascript as StreamParser<unknown>;
  if (["xml", "html", "svg"].includes(ext))
    return async () => (await import("@codemirror/legacy-modes/mode/xml")).xml as StreamParser<unknown>;
  if (ext === "css")
    return async () => (await import("@codemirror/legacy-modes/mode/css")).css as StreamParser<unknown>;
  if (["conf", "cfg", "ini", "properties", "list", "sources"].includes(ext) || name === "os-release")
    return async () =>
      (await import("@codemirror/legacy-modes/mode/properties")).properties as StreamParser<unknown>;
  return undefined;
}

/** A read-only view of a text file with line numbers and, for common types, syntax colours. */
export function CodeView({ path, text }: { path: string; text: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    let view: EditorView | undefined;
    let live = true;
    const make = (parser?: StreamParser<unknown>) => {
      if (!live || !host.current) return;
      view = new EditorView({
        parent: host.current,
        state: EditorState.create({
          doc: text,
          extensions: [
            lineNumbers(),
            EditorState.readOnly.of(true),
            EditorView.editable.of(false),
            EditorView.lineWrapping,
            EditorView.contentAttributes.of({ "aria-label": `Content of /${path}` }),
            ...(parser ? [StreamLanguage.define(parser), syntaxHighlighting(style)] : []),
          ],
        }),
      });
    };
    const mode = modeFor(path);
    if (mode) mode().then(make, () => make());
    else make();
    return () => {
      live = false;
      view?.destroy();
    };
  }, [path, text]);
  return <div className="code-view" ref={host} />;
}
