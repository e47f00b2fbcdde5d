import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import {
  type ChangeKind,
  findNode,
  KIND_BY_CODE,
  layoutTreeRows,
  nodePath,
  type TreeSnapshot,
  TYPE_BY_CODE,
} from "../../../core/view/tree.ts";
import { useAppStore } from "../../store/index.ts";
import { ALL_KINDS } from "../../store/tree-slice.ts";
import { useRowHeight } from "./useRowHeight.ts";

const OVERSCAN = 12;

/** Symbols say the change kind without relying on colour. */
export const KIND_SYMBOL: Record<ChangeKind, string> = {
  added: "+",
  modified: "~",
  removed: "−",
  unchanged: "·",
};

function countsText(snapshot: TreeSnapshot, id: number): string {
  const [a, m, r] = snapshot.changes.subarray(id * 3, id * 3 + 3);
  const parts = [a ? `${a} added` : "", m ? `${m} modified` : "", r ? `${r} removed` : ""].filter(Boolean);
  return parts.length ? `, inside: ${parts.join(", ")}` : "";
}

/** How many entries below a directory were added, modified and removed (symbols, not colour alone). */
function ChangeCounts({ snapshot, id }: { snapshot: TreeSnapshot; id: number }) {
  const [a, m, r] = snapshot.changes.subarray(id * 3, id * 3 + 3);
  if (!a && !m && !r) return null;
  return (
    <span className="tree-counts" aria-hidden="true">
      {a ? <span className="kind-added">+{a}</span> : null}
      {m ? <span className="kind-modified">~{m}</span> : null}
      {r ? <span className="kind-removed">−{r}</span> : null}
    </span>
  );
}

/** A virtualized, keyboard-driven tree of one layer's changes or of the merged filesystem. */
export function FileTree({ snapshot, onOpen }: { snapshot: TreeSnapshot; onOpen?: (path: string) => void }) {
  const tree = useAppStore((s) => s.tree);
  const toggle = useAppStore((s) => s.toggleExpanded);
  const selectPath = useAppStore((s) => s.selectPath);
  const selectedPath = useAppStore((s) => s.ui.selectedPath);
  // While another layer's tree is on its way the rows on screen are about to move.
  const loading = useAppStore((s) => s.explorer.treeLoading);
  const scroller = useRef<HTMLDivElement>(null);
  const rowHeight = useRowHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const typeahead = useRef({ text: "", at: 0 });

  // The open directories and the selection are found by name, not through an index of every
  // path: a tree that gained 10,000 files arrives while the learner types in the terminal.
  const expandedIds = useMemo(() => {
    const s = new Set<number>();
    for (const p of tree.expanded) {
      const id = findNode(snapshot, p);
      if (id !== undefined) s.add(id);
    }
    return s;
  }, [tree.expanded, snapshot]);
  const rows = useMemo(
    () =>
      layoutTreeRows(snapshot, {
        expanded: expandedIds,
        sort: tree.sort,
        filter: tree.filter,
        kinds: tree.kinds.size === ALL_KINDS.length ? undefined : tree.kinds,
      }),
    [snapshot, expandedIds, tree.sort, tree.filter, tree.kinds],
  );
  const activeIndex = useMemo(() => {
    if (!selectedPath) return -1;
    const id = findNode(snapshot, selectedPath);
    return id === undefined ? -1 : rows.ids.indexOf(id);
  }, [selectedPath, snapshot, rows]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(rows.ids.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);

  const focusRow = (index: number) => {
    if (index < 0 || index >= rows.ids.length) return;
    selectPath(nodePath(snapshot, rows.ids[index]!));
    const el = scroller.current;
    if (el) {
      const top = index * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight)
        el.scrollTop = top + rowHeight - el.clientHeight;
    }
  };
  const isDir = (id: number) => snapshot.childStart[id + 1]! > snapshot.childStart[id]!;

  const onKeyDown = (e: KeyboardEvent) => {
    const i = activeIndex;
    const id = i >= 0 ? rows.ids[i]! : -1;
    switch (e.key) {
      case "ArrowDown":
        focusRow(Math.min(rows.ids.length - 1, i + 1));
        break;
      case "ArrowUp":
        focusRow(Math.max(0, i - 1));
        break;
      case "Home":
        focusRow(0);
        break;
      case "End":
        focusRow(rows.ids.length - 1);
        break;
      case "PageDown":
        focusRow(Math.min(rows.ids.length - 1, i + Math.floor(height / rowHeight)));
        break;
      case "PageUp":
        focusRow(Math.max(0, i - Math.floor(height / rowHeight)));
        break;
      case "ArrowRight":
        if (id >= 0 && isDir(id)) {
          if (!expandedIds.has(id)) toggle(nodePath(snapshot, id), true);
          else focusRow(i + 1);
        }
        break;
      case "ArrowLeft":
        if (id >= 0) {
          if (isDir(id) && expandedIds.has(id)) toggle(nodePath(snapshot, id), false);
          else {
            const p = snapshot.parent[id]!;
            if (p > 0) focusRow(rows.ids.indexOf(p));
          }
        }
        break;
      case "Enter":
        if (id >= 0) {
          if (isDir(id)) toggle(nodePath(snapshot, id));
          else onOpen?.(nodePath(snapshot, id));
        }
        break;
      default:
        if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
          const now = Date.now();
          const t = typeahead.current;
          t.text = now - t.at > 700 ? e.key.toLowerCase() : t.text + e.key.toLowerCase();
          t.at = now;
          const n = rows.ids.length;
          for (let k = 0; k < n; k++) {
            const j = (Math.max(0, i) + (t.text.length === 1 ? 1 : 0) + k) % n;
            if (snapshot.names[rows.ids[j]!]!.toLowerCase().startsWith(t.text)) {
              focusRow(j);
              break;
            }
          }
          break;
        }
        return;
    }
    e.preventDefault();
  };

  const items = [];
  for (let i = first; i < last; i++) {
    const id = rows.ids[i]!;
    const kind = KIND_BY_CODE[snapshot.kind[id]!]!;
    const type = TYPE_BY_CODE[snapshot.type[id]!]!;
    const dir = isDir(id);
    const open = rows.matched ? true : expandedIds.has(id);
    const path = nodePath(snapshot, id);
    items.push(
      // biome-ignore lint/a11y/useFocusableInteractive lint/a11y/useKeyWithClickEvents: the tree holds focus and handles keys and points at rows with aria-activedescendant
      <div
        // Keyed by path, not node id: a snapshot that gained files numbers its nodes anew, and the
        // rows on screen should be updated in place rather than made again.
        key={path}
        id={`tree-node-${id}`}
        role="treeitem"
        aria-level={rows.depth[i]! + 1}
        aria-expanded={dir ? open : undefined}
        aria-selected={i === activeIndex}
        aria-label={`${snapshot.names[id]}, ${kind}, ${formatBytes(snapshot.size[id]!)}${dir ? countsText(snapshot, id) : ""}`}
        className={`tree-row kind-${kind}${i === activeIndex ? " active" : ""}`}
        style={{ top: i * rowHeight, paddingLeft: 8 + rows.depth[i]! * 16 }}
        onClick={() => {
          selectPath(path);
          if (dir) toggle(path);
        }}
        onDoubleClick={() => !dir && onOpen?.(path)}
        title={path}
      >
        <span className="tree-twisty" aria-hidden="true">
          {dir ? (open ? "▾" : "▸") : ""}
        </span>
        <span className="tree-kind" aria-hidden="true">
          {KIND_SYMBOL[kind]}
        </span>
        <span className="tree-name">
          {snapshot.names[id]}
          {type === "symlink" && snapshot.links[id] !== undefined && (
            <span className="tree-link"> → {snapshot.links[id]}</span>
          )}
        </span>
        {dir && <ChangeCounts snapshot={snapshot} id={id} />}
        <span className="tree-size">{formatBytes(snapshot.size[id]!)}</span>
      </div>,
    );
  }

  return (
    <>
      {rows.matches !== undefined && (
        <p className="muted tree-matches" role="status" data-testid="tree-matches">
          {rows.matches === 1 ? "1 entry matches" : `${rows.matches} entries match`}
        </p>
      )}
      <div
        ref={scroller}
        role="tree"
        aria-label="Files"
        aria-busy={loading}
        aria-activedescendant={activeIndex >= 0 ? `tree-node-${rows.ids[activeIndex]}` : undefined}
        tabIndex={0}
        className="tree"
        onKeyDown={onKeyDown}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div className="tree-canvas" style={{ height: rows.ids.length * rowHeight }}>
          {items}
        </div>
        {rows.ids.length === 0 && <p className="muted tree-empty">Nothing here matches.</p>}
      </div>
    </>
  );
}
