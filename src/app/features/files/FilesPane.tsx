import { useAppStore } from "../../store/index.ts";
import { ALL_KINDS } from "../../store/tree-slice.ts";
import { NewEntry } from "../container/FileActions.tsx";
import { FileTree, KIND_SYMBOL } from "./FileTree.tsx";
import { RawLayer } from "./RawLayer.tsx";

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
  const rawOpen = useAppStore((s) => s.raw.open);
  const setRawOpen = useAppStore((s) => s.setRawOpen);
  const isContainer = selectedLayer === "container";
  // The container layer has no tar until it is committed, so it has no raw view.
  const raw = rawOpen && !isContainer;
  const showTree = (mode: "changes" | "merged") => {
    setRawOpen(false);
    setMode(mode);
  };

  return (
    <section className="pane pane-files" aria-labelledby="files-title">
      <div className="pane-head">
        <h2 id="files-title">Files</h2>
        <fieldset className="segmented" aria-label="Show">
          <label>
            <input
              type="radio"
              name="tree-mode"
              checked={tree.mode === "changes" && !isContainer && !raw}
              disabled={isContainer}
              onChange={() => showTree("changes")}
            />
            This layer's changes
          </label>
          <label>
            <input
              type="radio"
              name="tree-mode"
              checked={(tree.mode === "merged" && !raw) || isContainer}
              onChange={() => showTree("merged")}
            />
            Merged up to this layer
          </label>
          <label title="The layer's tar entries as stored, whiteouts and all">
            <input
              type="radio"
              name="tree-mode"
              checked={raw}
              disabled={isContainer}
              onChange={() => setRawOpen(true)}
            />
            Raw
          </label>
        </fieldset>
      </div>
      {isContainer && snapshot && <NewEntry />}
      {raw ? (
        <RawLayer />
      ) : (
        <>
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
        </>
      )}
    </section>
  );
}
