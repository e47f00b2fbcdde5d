import { useState } from "react";
import { shortDigest } from "../../../core/digest.ts";
import { formatBytes } from "../../../core/format.ts";
import { compareImages } from "../../../core/library/library.ts";
import type { LibrarySummary } from "../../../worker/protocol.ts";

type Layer = LibrarySummary["images"][number]["layers"][number];

function Cell({ layer }: { layer?: Layer }) {
  if (!layer) return <td className="muted">—</td>;
  return (
    <td>
      <code title={layer.id}>{shortDigest(layer.id)}</code> {formatBytes(layer.size)}
    </td>
  );
}

/** Two images side by side: their layers position by position, the shared ones stored once. */
export function ImageCompare({ library, first }: { library: LibrarySummary; first?: string }) {
  const ids = library.images.map((i) => i.id);
  const [a, setA] = useState<string | undefined>(first ?? ids[0]);
  const [b, setB] = useState<string | undefined>(ids.find((id) => id !== (first ?? ids[0])) ?? ids[0]);
  const ia = library.images.find((i) => i.id === a);
  const ib = library.images.find((i) => i.id === b);
  if (!ia || !ib) return null;
  const c = compareImages(ia, ib);
  const name = (i: typeof ia) => i.names[0] ?? shortDigest(i.id);
  const picker = (label: string, value: string, set: (v: string) => void) => (
    <select aria-label={label} value={value} onChange={(e) => set(e.target.value)}>
      {library.images.map((i) => (
        <option key={i.id} value={i.id}>
          {name(i)}
        </option>
      ))}
    </select>
  );
  return (
    <section className="compare" aria-label="Compare images">
      <h3>
        Compare {picker("First image", a!, setA)} with {picker("Second image", b!, setB)}
      </h3>
      <p data-testid="compare-summary">
        {formatBytes(c.sharedBytes)} shared (stored once) · only in {name(ia)}: {formatBytes(c.onlyA)} · only
        in {name(ib)}: {formatBytes(c.onlyB)}. With {name(ia)} already there, moving {name(ib)} transfers{" "}
        {formatBytes(c.onlyB)}.
      </p>
      <table className="history">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">{name(ia)}</th>
            <th scope="col">{name(ib)}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {c.rows.map((r, i) => (
            <tr key={`${r.a?.id ?? "-"}-${r.b?.id ?? "-"}`} className={r.shared ? "shared-row" : ""}>
              <td>{i + 1}</td>
              <Cell layer={r.a} />
              <Cell layer={r.b} />
              <td>{r.shared ? "shared" : "differs"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
