import { shortDigest } from "../../../core/digest.ts";
import { INSTRUCTION_KEYWORDS } from "../../../core/dockerfile/parser.ts";
import { formatBytes } from "../../../core/format.ts";
import type { HistoryRow } from "../../../worker/protocol.ts";
import { useAppStore } from "../../store/index.ts";
import { ContainerBar } from "../container/ContainerBar.tsx";
import { LayerTransferBadge } from "../registry/LayerTransferBadge.tsx";

/** The instruction text people wrote, from a history `created_by` (as `docker history` shows it). */
export function instructionOf(createdBy: string): string {
  let t = createdBy.replace(/\s*# buildkit$/, "");
  t = t.replace(/^\/bin\/sh -c #\(nop\)\s*/, "");
  t = t.replace(/^\/bin\/sh -c /, "RUN ");
  t = t.replace(/^RUN \/bin\/sh -c /, "RUN ");
  t = t.replace(/^RUN \|\d+ [^ ]+=\S* (?:[^ ]+=\S* )*\/bin\/sh -c /, "RUN ");
  return t.trim() || "(no history)";
}

const KEYWORDS = new Set(INSTRUCTION_KEYWORDS);

/** The instruction keyword of a history line, or what the layer is when it names none. */
function keyword(text: string, layer: number): string {
  const k = /^[A-Z]+\b/.exec(text)?.[0];
  if (k && KEYWORDS.has(k)) return k;
  return layer === 0 ? "base" : "layer";
}

type Row = HistoryRow & { at: number };

/**
 * The stack picture from the document LayerLab grew from, made live: the writable container
 * layer on top, then each read-only layer down to the base; metadata-only history entries are
 * thin rows between them.
 */
export function LayerStack() {
  const selected = useAppStore((s) => s.ui.selectedLayer);
  const select = useAppStore((s) => s.selectLayer);
  const image = useAppStore((s) => s.explorer.image);
  const library = useAppStore((s) => s.explorer.library);
  const shared = new Map(
    library?.images.find((i) => i.id === image?.image.id)?.layers.map((l) => [l.id, l.sharedWith]) ?? [],
  );
  const rows: Row[] = image ? image.history.map((h, at) => ({ ...h, at })).reverse() : [];
  const max = Math.max(1, ...rows.map((r) => r.size ?? 0));
  const standIn = image?.image.notes?.standIn;
  // One list item per layer: metadata-only entries ride with the layer just below them (those
  // older than every layer, with the base).
  const groups: { layer: Row; above: Row[]; below: Row[] }[] = [];
  let pending: Row[] = [];
  for (const r of rows) {
    if (r.emptyLayer) pending.push(r);
    else {
      groups.push({ layer: r, above: pending, below: [] });
      pending = [];
    }
  }
  if (pending.length && groups.length) groups.at(-1)!.below.push(...pending);

  return (
    <>
      <ul className="stack" aria-label="Layer stack">
        <li className="stack-row writable" aria-current={selected === "container" ? "true" : undefined}>
          <button type="button" className="stack-button" onClick={() => select("container")}>
            <span className="stack-title">Container layer</span>
            <span className="stack-kind">writable</span>
            <code className="stack-instruction">copy-up on write · whiteouts on delete</code>
          </button>
          {image && selected === "container" && <ContainerBar />}
        </li>
        {groups.map(({ layer: r, above, below }) => {
          const text = instructionOf(r.createdBy);
          const n = r.layer!;
          const isBase = n === 0;
          const sharedWith = r.diffId ? (shared.get(r.diffId) ?? 0) : 0;
          return (
            <li key={`l${n}`} className="stack-row" aria-current={selected === n ? "true" : undefined}>
              {above.map((m) => (
                <MetaRow key={`h${m.at}`} text={instructionOf(m.createdBy)} />
              ))}
              <button type="button" className="stack-button" onClick={() => select(n)}>
                <span className="stack-title">
                  Layer {n + 1}: {keyword(text, n)}
                  {isBase && standIn && (
                    <span className="badge badge-standin" title={standIn}>
                      stand-in
                    </span>
                  )}
                </span>
                <span className="stack-kind">read-only</span>
                <code className="stack-instruction" title={r.createdBy}>
                  {text}
                </code>
                <span className="stack-facts">
                  <span className="stack-size">{formatBytes(r.size ?? 0)}</span>
                  {r.diffId && <code title={`diffId ${r.diffId}`}>{shortDigest(r.diffId)}</code>}
                  {sharedWith > 0 && (
                    <span className="badge">
                      shared with {sharedWith} image{sharedWith === 1 ? "" : "s"}
                    </span>
                  )}
                  <LayerTransferBadge layer={n} />
                </span>
                <span className="stack-bar" aria-hidden="true">
                  <span style={{ width: `${Math.max(1, ((r.size ?? 0) / max) * 100)}%` }} />
                </span>
              </button>
              {below.map((m) => (
                <MetaRow key={`h${m.at}`} text={instructionOf(m.createdBy)} />
              ))}
            </li>
          );
        })}
      </ul>
      {!image && (
        <p className="stack-empty muted">
          No image yet: build the Dockerfile, or import an image archive, to see its layers here.
        </p>
      )}
    </>
  );
}

/** A history entry that made no layer (ENV, CMD, LABEL...): a thin row beside the layers. */
function MetaRow({ text }: { text: string }) {
  return (
    <span className="stack-meta" title="Changes only the image config: no layer, no files">
      <code>{text}</code>
      <span className="stack-kind">no layer</span>
    </span>
  );
}
