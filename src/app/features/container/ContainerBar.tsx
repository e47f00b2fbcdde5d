import { useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import { useAppStore } from "../../store/index.ts";

/** Under the container layer in the stack: which container, what its layer holds, and commit / undo / reset. */
export function ContainerBar() {
  const container = useAppStore((s) => s.explorer.container);
  const containers = useAppStore((s) => s.explorer.containers);
  const error = useAppStore((s) => s.explorer.containerError);
  const image = useAppStore((s) => s.explorer.image);
  const selectContainer = useAppStore((s) => s.selectContainer);
  const newContainer = useAppStore((s) => s.newContainer);
  const undo = useAppStore((s) => s.undoContainer);
  const reset = useAppStore((s) => s.resetContainer);
  const commit = useAppStore((s) => s.commitContainer);
  const selectLayer = useAppStore((s) => s.selectLayer);
  const [tag, setTag] = useState("");
  if (!image) return null;
  if (!container) {
    return (
      <div className="container-bar">
        <button type="button" className="button-quiet" onClick={() => selectLayer("container")}>
          Open the container layer
        </button>
      </div>
    );
  }
  const changes = container.added + container.modified + container.removed;
  return (
    <fieldset className="container-bar" aria-label="Container layer actions">
      <div className="container-row">
        <label>
          Container{" "}
          <select value={container.id} onChange={(e) => void selectContainer(e.target.value)}>
            {containers.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="button-quiet" onClick={() => void newContainer()}>
          New container
        </button>
      </div>
      <p className="container-summary" data-testid="container-summary">
        {changes === 0
          ? "No changes yet: edit, create or delete files to write to this layer."
          : `${container.added} added, ${container.modified} copied up, ${container.removed} whiteout${container.removed === 1 ? "" : "s"} · ${formatBytes(container.bytes)}`}
      </p>
      <form
        className="container-row"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await commit(tag || `${(image.image.names[0] ?? "image").split(":")[0]}:committed`)) setTag("");
        }}
      >
        <input
          aria-label="New image name"
          placeholder="name:tag, e.g. demo:edited"
          value={tag}
          onChange={(e) => setTag(e.target.value)}
        />
        <button type="submit" className="button-primary" disabled={changes === 0}>
          Commit
        </button>
        <button
          type="button"
          className="button-quiet"
          disabled={!container.canUndo}
          onClick={() => void undo()}
        >
          Undo
        </button>
        <button type="button" className="button-quiet" disabled={changes === 0} onClick={() => void reset()}>
          Reset
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
