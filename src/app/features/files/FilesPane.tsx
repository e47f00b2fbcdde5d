import { useAppStore } from "../../store/index.ts";
import { ALL_KINDS } from "../../store/tree-slice.ts";
import { NewEntry } from "../container/FileActions.tsx";
import { FileTree, KIND_SYMBOL } from "./FileTree.tsx";

/** The file tree with its controls: what to show, sort, and filters by path and change kind. */
export function FilesPane() {
  const tree = useAppStore((s) => s.tree);
  const snapshot = useAppStore((s) => s.explorer.snapshot);
  const loading = useAppStore((s) => s.explorer.treeLoading);
  const selectedLayer = useAppStore((s) => s.ui.selectedLayer);
  const setMode = useAppStore((s) => s.setTreeMode);
  const setSort = useAppStore((s) => s.setTreeSort);
  const setFilter = useAppStore((s) => s.setTreeFilter);
  const toggleKind = useAppStore((s) => s.toggleKind);
  const openFile = useAppStore((s) => s.openFile);
  const isContainer = selectedLayer === "container";

  return (
    <section className="pane pane-files" aria-labelledby="files-title">
      <div className="pane-head">
        <h2 id="files-title">Files</h2>
        <fieldset className="segmented" aria-label="Show">
          <label>
            <input
              type="radio"
              name="tree-mode"
              checked={tree.mode === "changes" && !isContainer}
              disabled={isContainer}
              onChange={() => setMode("changes")}
            />
            This layer's changes
          </label>
          <label>
            <input
              type="radio"
              name="tree-mode"
              checked={tree.mode === "merged" || isContainer}
              onChange={() => setMode("merged")}
            />
            Merged up to this layer
          </label>
        </fieldset>
      </div>
      {isContainer && snapshot && <NewEntry />}
      <div className="tree-toolbar">
        <input
          type="search"
          aria-label="Filter files by path"
          placeholder="Filter: python, *.pyc, usr/**/*.so"
          value={tree.filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <fieldset className="kind-filter" aria-label="Change kinds">
          {ALL_KINDS.map((k) => (
            <label key={k} className={`kind-${k}`}>
              <input type="checkbox" checked={tree.kinds.has(k)} onChange={() => toggleKind(k)} />
              <span aria-hidden="true">{KIND_SYMBOL[k]}</span> {k}
            </label>
          ))}
        </fieldset>
        <label className="sort">
          Sort{" "}
          <select value={tree.sort} onChange={(e) => setSort(e.target.value as "name" | "size")}>
            <option value="name">by name</option>
            <option value="size">by size</option>
          </select>
        </label>
      </div>
      {snapshot ? (
        <FileTree snapshot={snapshot} onOpen={(p) => void openFile(p)} />
      ) : (
        <div role="tree" aria-label="Files" className="tree" aria-busy={loading}>
          <p className="muted tree-empty">
            {loading ? "Loading files…" : "Select a layer to see its files."}
          </p>
        </div>
      )}
    </section>
  );
}
