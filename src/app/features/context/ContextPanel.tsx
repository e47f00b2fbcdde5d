import { useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import type { ContextFiles } from "../../store/context-slice.ts";
import { useAppStore } from "../../store/index.ts";

/** Reads a picked folder into context files, paths relative to the folder. */
async function readPicked(list: FileList): Promise<ContextFiles> {
  const files: ContextFiles = {};
  for (const f of Array.from(list)) {
    const rel = f.webkitRelativePath ? f.webkitRelativePath.split("/").slice(1).join("/") : f.name;
    if (rel) files[rel] = new Uint8Array(await f.arrayBuffer());
  }
  return files;
}

/** Reads a dropped file or folder (recursively) into context files under `prefix`. */
async function readEntry(entry: FileSystemEntry, prefix: string, out: ContextFiles): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out[prefix + entry.name] = new Uint8Array(await file.arrayBuffer());
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const e of batch) await readEntry(e, `${prefix}${entry.name}/`, out);
    }
  }
}

function byteSize(content: string | Uint8Array): number {
  return typeof content === "string" ? new TextEncoder().encode(content).byteLength : content.byteLength;
}

/** The build context: the files COPY and ADD see. Drop a folder, pick one, or write files here. */
export function ContextPanel() {
  const files = useAppStore((s) => s.context.files);
  const editing = useAppStore((s) => s.context.editing);
  const setFile = useAppStore((s) => s.setContextFile);
  const remove = useAppStore((s) => s.removeContextFile);
  const rename = useAppStore((s) => s.renameContextFile);
  const replace = useAppStore((s) => s.replaceContext);
  const edit = useAppStore((s) => s.editContextFile);
  const [newName, setNewName] = useState("");
  const names = Object.keys(files).sort();
  const current = editing !== undefined ? files[editing] : undefined;

  return (
    <section
      className="context"
      aria-label="Build context"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          e.stopPropagation();
        }
      }}
      onDrop={async (e) => {
        const items = Array.from(e.dataTransfer.items)
          .map((i) => i.webkitGetAsEntry())
          .filter((x): x is FileSystemEntry => x !== null);
        if (items.length === 0) return;
        e.preventDefault();
        e.stopPropagation();
        const out: ContextFiles = {};
        const only = items.length === 1 ? items[0] : undefined;
        if (only?.isDirectory) {
          // A single dropped folder is the context itself: its name is not part of the paths.
          const inner: ContextFiles = {};
          await readEntry(only, "", inner);
          const strip = `${only.name}/`;
          for (const [k, v] of Object.entries(inner))
            out[k.startsWith(strip) ? k.slice(strip.length) : k] = v;
        } else {
          for (const it of items) await readEntry(it, "", out);
        }
        replace(out);
      }}
    >
      <div className="context-bar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!newName.trim()) return;
            setFile(newName, "");
            edit(newName.trim());
            setNewName("");
          }}
        >
          <input
            aria-label="New context file name"
            placeholder="new file, e.g. src/main.py"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
          />
          <button type="submit" className="button-quiet">
            Add file
          </button>
        </form>
        <label className="button-quiet">
          Use a folder…
          <input
            type="file"
            className="visually-hidden"
            aria-label="Choose a build context folder"
            {...{ webkitdirectory: "" }}
            multiple
            onChange={async (e) => {
              if (e.target.files?.length) replace(await readPicked(e.target.files));
            }}
          />
        </label>
      </div>
      <ul className="context-files" aria-label="Context files">
        {names.map((n) => (
          <li key={n} aria-current={n === editing ? "true" : undefined}>
            <button type="button" className="link" onClick={() => edit(n)}>
              {n}
            </button>
            <span className="muted">{formatBytes(byteSize(files[n]!))}</span>
            <button
              type="button"
              className="button-quiet"
              aria-label={`Remove ${n}`}
              onClick={() => remove(n)}
            >
              ✕
            </button>
          </li>
        ))}
        {names.length === 0 && <li className="muted">Empty: drop a folder here or add a file.</li>}
      </ul>
      {editing !== undefined && current !== undefined && (
        <div className="context-editor">
          <label>
            Name{" "}
            <input
              aria-label="Context file name"
              defaultValue={editing}
              key={editing}
              onBlur={(e) => rename(editing, e.target.value)}
            />
          </label>
          {typeof current === "string" ? (
            <textarea
              aria-label={`Content of ${editing}`}
              value={current}
              spellCheck={false}
              onChange={(e) => setFile(editing, e.target.value)}
            />
          ) : (
            <p className="muted">
              Binary file, {formatBytes(current.byteLength)}.{" "}
              <button
                type="button"
                className="link"
                onClick={() => setFile(editing, new TextDecoder().decode(current))}
              >
                Edit as text
              </button>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
