import { useEffect, useState } from "react";
import { useAppStore } from "../../store/index.ts";

/** Edit, delete, rename and chmod a file of the container layer (shown with the open file). */
export function FileActions({ path, text, mode }: { path: string; text?: string; mode: number }) {
  const edit = useAppStore((s) => s.editContainer);
  const [draft, setDraft] = useState(text);
  const [rename, setRename] = useState(`/${path}`);
  const [chmod, setChmod] = useState(mode.toString(8).padStart(4, "0"));
  useEffect(() => {
    setDraft(text);
    setRename(`/${path}`);
    setChmod(mode.toString(8).padStart(4, "0"));
  }, [path, text, mode]);
  return (
    <div className="file-actions-container">
      {text !== undefined && (
        <>
          <textarea
            aria-label={`Edit /${path}`}
            value={draft ?? ""}
            spellCheck={false}
            onChange={(e) => setDraft(e.target.value)}
          />
          <div className="container-row">
            <button
              type="button"
              className="button-primary"
              disabled={draft === text}
              onClick={() => void edit({ kind: "write", path, text: draft ?? "" })}
            >
              Save
            </button>
            <span className="muted">Saving writes the file to the container layer (copy-up).</span>
          </div>
        </>
      )}
      <div className="container-row">
        <button
          type="button"
          className="button-quiet danger"
          aria-label={`Delete /${path}`}
          onClick={() => void edit({ kind: "rm", path })}
        >
          Delete
        </button>
        <input aria-label="Rename to" value={rename} onChange={(e) => setRename(e.target.value)} />
        <button
          type="button"
          className="button-quiet"
          disabled={rename === `/${path}`}
          onClick={() => void edit({ kind: "rename", from: path, to: rename })}
        >
          Rename
        </button>
        <input
          aria-label="Mode (octal)"
          className="mode-input"
          value={chmod}
          onChange={(e) => setChmod(e.target.value)}
        />
        <button
          type="button"
          className="button-quiet"
          disabled={!/^[0-7]{3,4}$/.test(chmod) || Number.parseInt(chmod, 8) === mode}
          onClick={() => void edit({ kind: "chmod", path, mode: Number.parseInt(chmod, 8) })}
        >
          Chmod
        </button>
      </div>
    </div>
  );
}

/** Create a file or a folder in the container layer (shown in the Files pane for the container). */
export function NewEntry() {
  const edit = useAppStore((s) => s.editContainer);
  const openFile = useAppStore((s) => s.openFile);
  const [name, setName] = useState("");
  const clean = name.trim().replace(/^\/+/, "");
  return (
    <form
      className="container-row new-entry"
      onSubmit={async (e) => {
        e.preventDefault();
        if (clean && (await edit({ kind: "write", path: clean, text: "" }))) {
          setName("");
          await openFile(clean);
        }
      }}
    >
      <input
        aria-label="New path in the container"
        placeholder="/path/of/new-file"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" className="button-quiet" disabled={!clean}>
        New file
      </button>
      <button
        type="button"
        className="button-quiet"
        disabled={!clean}
        onClick={async () => {
          if (await edit({ kind: "mkdir", path: clean })) setName("");
        }}
      >
        New folder
      </button>
    </form>
  );
}
