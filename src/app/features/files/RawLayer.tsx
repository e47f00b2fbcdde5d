import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import { formatMode } from "../../../core/image/raw-layer.ts";
import type { RawImageView, RawTarEntry } from "../../../worker/protocol.ts";
import { useAppStore } from "../../store/index.ts";
import { RAW_PAGE } from "../../store/raw-slice.ts";
import "./raw-layer.css";
import { useRowHeight } from "./useRowHeight.ts";

const OVERSCAN = 16;

function when(mtime: number): string {
  const d = new Date(Math.floor(mtime) * 1000).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 19)}`;
}

const MARKER_TEXT = { whiteout: "whiteout", opaque: "opaque marker" } as const;

/** One entry's header as a row: mode, owner, size, time, name (literally) and what it marks. */
function RawRow({
  e,
  index,
  total,
  active,
  onPick,
  row,
}: {
  row: number;
  total: number;
  e?: RawTarEntry;
  index: number;
  active: boolean;
  onPick(): void;
}) {
  if (!e) {
    return (
      <div className="raw-row muted" style={{ top: index * row }} aria-hidden="true">
        …
      </div>
    );
  }
  const size = e.type === "char" || e.type === "block" ? `${e.devmajor},${e.devminor}` : String(e.size);
  const link =
    e.type === "symlink" ? ` → ${e.linkname}` : e.type === "hardlink" ? ` link to ${e.linkname}` : "";
  const pax = e.pax ? Object.keys(e.pax).length : 0;
  return (
    // biome-ignore lint/a11y/useFocusableInteractive lint/a11y/useKeyWithClickEvents: the list holds focus and handles keys and points at rows with aria-activedescendant
    <div
      id={`raw-entry-${index}`}
      role="option"
      aria-posinset={index + 1}
      aria-setsize={total}
      aria-selected={active}
      aria-label={`${e.name}${link}${e.marker ? `, ${MARKER_TEXT[e.marker]}` : ""}, ${e.type}, ${formatMode(e.type, e.mode)}, ${e.uid}/${e.gid}, ${size} bytes${pax ? `, ${pax} PAX records` : ""}`}
      className={`raw-row${e.marker ? ` raw-${e.marker}` : ""}${active ? " active" : ""}`}
      style={{ top: index * row }}
      onClick={onPick}
      title={e.name}
    >
      <span className="raw-num">{index + 1}</span>
      <span className="raw-name">
        {e.name}
        {link && <span className="raw-link">{link}</span>}
        {e.marker && <span className={`raw-badge raw-badge-${e.marker}`}>{MARKER_TEXT[e.marker]}</span>}
        {pax > 0 && <span className="raw-badge">PAX {pax}</span>}
      </span>
      <span className="raw-mode">{formatMode(e.type, e.mode)}</span>
      <span className="raw-owner">
        {e.uid}/{e.gid}
      </span>
      <span className="raw-size">{size}</span>
      <span className="raw-time">{when(e.mtime)}</span>
    </div>
  );
}

/** Where a digest in the image's JSON leads: one of its layers, or another of its documents. */
type DigestTarget = { kind: "layer"; layer: number } | { kind: "doc"; doc: string; label: string };

/** The target of a digest (as `sha256:<hex>`, a `blobs/sha256/<hex>` path, or bare hex), if any. */
function targetOf(hex: string, image: RawImageView): DigestTarget | undefined {
  const d = `sha256:${hex}`;
  const layer = image.layers.findIndex((l) => l.digest === d || l.diffId === d);
  if (layer >= 0) return { kind: "layer", layer };
  if (image.manifest?.digest === d) return { kind: "doc", doc: "manifest", label: "the manifest" };
  if (image.config.digest === d) return { kind: "doc", doc: "config", label: "the config" };
  return undefined;
}

/**
 * Every digest in a JSON text that names one of the image's layers or documents becomes a link:
 * a layer's selects the layer, the manifest's and config's open that document.
 */
function linkDigests(
  text: string,
  image: RawImageView,
  onLayer: (layer: number) => void,
  onDoc: (doc: string) => void,
): ReactNode[] {
  const out: ReactNode[] = [];
  // Docker's manifest.json names blobs by path (blobs/sha256/<hex>, <hex>.json) rather than digest.
  const re = /(?:sha256[:/])?([0-9a-f]{64})/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const target = targetOf(m[1] as string, image);
    if (!target) continue;
    const d = m[0];
    out.push(text.slice(last, m.index));
    out.push(
      <button
        type="button"
        key={`${m.index}`}
        className="raw-digest"
        onClick={() => (target.kind === "layer" ? onLayer(target.layer) : onDoc(target.doc))}
        title={target.kind === "layer" ? `Show layer ${target.layer + 1}` : `Show ${target.label}`}
      >
        {d}
      </button>,
    );
    last = m.index + d.length;
  }
  out.push(text.slice(last));
  return out;
}

/** Why an image has no archive JSON, by where it came from. */
const NO_ARCHIVE_JSON: Record<RawImageView["source"], string> = {
  build:
    "Built in LayerLab: there is no archive index as stored. Export image writes an index.json (and a docker-archive a manifest.json) naming this image's manifest.",
  commit:
    "Committed in LayerLab: there is no archive index as stored. Export image writes an index.json (and a docker-archive a manifest.json) naming this image's manifest.",
  builtin:
    "A built-in teaching base: there is no archive index as stored. Export image writes an index.json naming this image's manifest.",
  pull: "Pulled from a registry: the manifest below is the one the registry served for this platform; no archive index came with it.",
  import:
    "The archive's index.json and manifest.json were not kept (imported before LayerLab kept them, or over 4 MiB).",
};

/** The image's JSON documents as stored, each folded away until asked for. */
function RawDocuments({ image }: { image: RawImageView }) {
  const selectLayer = useAppStore((s) => s.selectLayer);
  // Which documents are unfolded: view state of this pane only.
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const docs: { id: string; title: ReactNode; doc: { digest: string; text: string } | undefined }[] = [
    ...image.archive.map((a) => ({
      id: a.path,
      title: (
        <>
          {a.path} as stored in the archive <code>{a.digest.slice(0, 19)}…</code>
        </>
      ),
      doc: a,
    })),
    {
      id: "manifest",
      title: (
        <>
          Manifest JSON <code>{image.manifest?.digest.slice(0, 19)}…</code>
        </>
      ),
      doc: image.manifest,
    },
    {
      id: "config",
      title: (
        <>
          Config JSON <code>{image.config.digest.slice(0, 19)}…</code>
        </>
      ),
      doc: image.config,
    },
  ];
  const showDoc = (id: string) => {
    setOpen((o) => ({ ...o, [id]: true }));
    requestAnimationFrame(() => {
      const summary = document.getElementById(`raw-doc-${id}`)?.querySelector("summary");
      summary?.scrollIntoView({ block: "nearest" });
      summary?.focus();
    });
  };
  return (
    <div className="raw-docs">
      {image.archive.length === 0 && <p className="muted raw-note">{NO_ARCHIVE_JSON[image.source]}</p>}
      {docs.map(({ id, title, doc }) =>
        doc ? (
          <details
            key={id}
            id={`raw-doc-${id}`}
            open={open[id] ?? false}
            onToggle={(e) => {
              const now = e.currentTarget.open;
              setOpen((o) => (o[id] === now ? o : { ...o, [id]: now }));
            }}
          >
            <summary>{title}</summary>
            <pre>{linkDigests(doc.text, image, selectLayer, showDoc)}</pre>
          </details>
        ) : (
          <p key={id} className="muted">
            No {id} is stored for this image.
          </p>
        ),
      )}
    </div>
  );
}

/** Every header field of one entry, PAX records included. */
function EntryHeader({ e }: { e: RawTarEntry }) {
  return (
    <dl className="raw-header" aria-label="Tar header">
      <dt>name</dt>
      <dd>{e.name}</dd>
      <dt>type</dt>
      <dd>{e.type}</dd>
      <dt>mode</dt>
      <dd>
        {formatMode(e.type, e.mode)} ({e.mode.toString(8).padStart(4, "0")})
      </dd>
      <dt>uid/gid</dt>
      <dd>
        {e.uid}/{e.gid}
        {e.uname || e.gname ? ` (${e.uname || "-"}/${e.gname || "-"})` : ""}
      </dd>
      <dt>size</dt>
      <dd>{e.size} bytes</dd>
      <dt>mtime</dt>
      <dd>
        {e.mtime} ({when(e.mtime)} UTC)
      </dd>
      {e.linkname && (
        <>
          <dt>link target</dt>
          <dd>{e.linkname}</dd>
        </>
      )}
      <dt>offset</dt>
      <dd>{e.offset}</dd>
      {e.pax &&
        Object.entries(e.pax).map(([k, v]) => (
          <div key={k} className="raw-pax">
            <dt>PAX {k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/** The raw view of a layer: its facts, then its tar entries in archive order, virtualized. */
export function RawLayer() {
  const raw = useAppStore((s) => s.raw);
  const selectedImage = useAppStore((s) => s.ui.selectedImage);
  const selectedLayer = useAppStore((s) => s.ui.selectedLayer);
  const loadPage = useAppStore((s) => s.loadRawPage);
  const loadImage = useAppStore((s) => s.loadRawImage);
  const pick = useAppStore((s) => s.selectRawEntry);
  const scroller = useRef<HTMLDivElement>(null);
  const rowHeight = useRowHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const key =
    selectedImage && typeof selectedLayer === "number" ? `${selectedImage}:${selectedLayer}` : undefined;
  const shown = raw.key === key;
  const total = shown ? (raw.total ?? 0) : 0;

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new layer starts at the top
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [key]);
  useEffect(() => {
    if (key) void loadImage();
  }, [key, loadImage]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const firstPage = Math.floor(first / RAW_PAGE);
  const lastPage = Math.floor(Math.max(first, last - 1) / RAW_PAGE);
  useEffect(() => {
    if (!key) return;
    for (let p = firstPage; p <= lastPage; p++) void loadPage(p);
  }, [key, firstPage, lastPage, loadPage]);

  const entryAt = (i: number) => (shown ? raw.pages[Math.floor(i / RAW_PAGE)]?.[i % RAW_PAGE] : undefined);
  const active = shown ? raw.selected : undefined;
  const activeEntry = active !== undefined ? entryAt(active) : undefined;

  const focusRow = (i: number) => {
    if (total === 0) return;
    const at = Math.max(0, Math.min(total - 1, i));
    pick(at);
    const el = scroller.current;
    if (el) {
      const top = at * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight)
        el.scrollTop = top + rowHeight - el.clientHeight;
    }
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const i = active ?? -1;
    const pageRows = Math.max(1, Math.floor(height / rowHeight));
    const to =
      e.key === "ArrowDown"
        ? i + 1
        : e.key === "ArrowUp"
          ? i - 1
          : e.key === "Home"
            ? 0
            : e.key === "End"
              ? total - 1
              : e.key === "PageDown"
                ? i + pageRows
                : e.key === "PageUp"
                  ? i - pageRows
                  : undefined;
    if (to === undefined) return;
    focusRow(to);
    e.preventDefault();
  };

  if (!key) {
    return <p className="muted tree-empty">Select one of the image's layers to see its tar as stored.</p>;
  }
  const info = shown ? raw.info : undefined;
  const rows = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <RawRow
        key={i}
        index={i}
        row={rowHeight}
        total={total}
        e={entryAt(i)}
        active={i === active}
        onPick={() => pick(i)}
      />,
    );
  }
  return (
    <div className="raw-view">
      <div className="raw-top">
        <dl className="raw-facts" aria-label="Layer blob">
          <dt>digest</dt>
          <dd>
            <code>{info?.digest ?? "…"}</code>
          </dd>
          <dt>diffId</dt>
          <dd>
            <code>{info?.diffId ?? "…"}</code>
          </dd>
          <dt>media type</dt>
          <dd>
            <code>{info?.mediaType ?? "…"}</code>
          </dd>
          <dt>size</dt>
          <dd>
            {info
              ? `${formatBytes(info.blobSize)} stored, ${formatBytes(info.size)} as a tar (${info.blobSize} and ${info.size} bytes), ${total} entries`
              : "…"}
            {info?.regenerated && " (tar written again from the layer's index: its contents are synthesized)"}
          </dd>
        </dl>
        {raw.image && raw.imageKey === selectedImage && <RawDocuments image={raw.image} />}
        {shown && raw.error && (
          <p role="alert" className="raw-error">
            {raw.error}
          </p>
        )}
      </div>
      <div className="raw-columns" aria-hidden="true">
        <span className="raw-num">#</span>
        <span className="raw-name">name</span>
        <span className="raw-mode">mode</span>
        <span className="raw-owner">uid/gid</span>
        <span className="raw-size">size</span>
        <span className="raw-time">mtime (UTC)</span>
      </div>
      <div
        ref={scroller}
        role="listbox"
        aria-label="Raw tar entries"
        aria-busy={!info}
        aria-activedescendant={
          active !== undefined && active >= first && active < last ? `raw-entry-${active}` : undefined
        }
        tabIndex={0}
        className="raw-table"
        onKeyDown={onKeyDown}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div className="raw-canvas" style={{ height: total * rowHeight }}>
          {rows}
        </div>
        {info && total === 0 && <p className="muted tree-empty">This layer's tar has no entries.</p>}
      </div>
      {activeEntry && <EntryHeader e={activeEntry} />}
    </div>
  );
}
