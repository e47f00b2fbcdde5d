import { useEffect, useMemo, useState } from "react";
import { formatBytes } from "../../../core/format.ts";
import type { FileVersionDiff } from "../../../worker/protocol.ts";
import { type DiffRequest, sameDiff } from "../../store/details-slice.ts";
import { useAppStore } from "../../store/index.ts";

/** A sentence for a diff that has no lines to show, naming the layers it compared. */
function explain(result: FileVersionDiff, path: string, layer: number, other: number): string | undefined {
  switch (result.kind) {
    case "lines":
      return undefined;
    case "missing":
      return `/${path} does not exist in layer ${result.layer + 1}.`;
    case "not-a-file":
      return `/${path} is a ${result.type} in layer ${result.layer + 1}, not a file: there are no lines to compare.`;
    case "binary":
      return "Binary content: compare their digests above.";
    case "too-large":
      return `Over ${formatBytes(result.limit)} (this version has ${formatBytes(result.size)}): too large to diff line by line; compare their digests above.`;
    case "too-different":
      return `Too different to diff line by line: ${result.reason} (${result.oldLines} lines of layer ${other + 1} against ${result.newLines} of layer ${layer + 1}, past their common start and end).`;
  }
}

/** A line diff of the open file against its version in another layer of the image (worked out in the worker). */
export function FileDiff({ path, layer }: { path: string; layer: number }) {
  const image = useAppStore((s) => s.explorer.image);
  const diff = useAppStore((s) => s.details.diff);
  const diffFile = useAppStore((s) => s.diffFile);
  const [other, setOther] = useState<number>();
  const id = image?.image.id;
  const request = useMemo<DiffRequest | undefined>(
    () => (id && other !== undefined ? { id, path, layer, other } : undefined),
    [id, path, layer, other],
  );
  useEffect(() => {
    void diffFile(request);
  }, [request, diffFile]);
  // Only the answer for the versions chosen now (never a late one for an earlier choice).
  const current = request && sameDiff(diff.request, request) ? diff : undefined;
  const result = current?.result;
  const note =
    current?.error ?? (result && other !== undefined ? explain(result, path, layer, other) : undefined);
  const lines = result?.kind === "lines" ? result.lines : undefined;
  if (!image || image.layers.length < 2) return null;
  const choices = image.layers.map((_, i) => i).filter((i) => i !== layer);
  return (
    <div className="file-diff">
      <label>
        Compare with{" "}
        <select
          aria-label="Compare with layer"
          value={other ?? ""}
          onChange={(e) => setOther(e.target.value === "" ? undefined : Number(e.target.value))}
        >
          <option value="">choose a layer…</option>
          {choices.map((i) => (
            <option key={i} value={i}>
              layer {i + 1}
            </option>
          ))}
        </select>
      </label>
      {current && !result && !current.error && (
        <p role="status" className="muted">
          Comparing with layer {(other ?? 0) + 1}…
        </p>
      )}
      {note && <p className="muted">{note}</p>}
      {lines && (
        <section aria-label="Differences">
          {lines.every((l) => l.op === "same") ? (
            <p className="muted">Identical in layer {(other ?? 0) + 1}.</p>
          ) : (
            <pre className="file-text diff">
              {lines.map((l, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: lines of a diff are positional
                <span key={i} className={`diff-${l.op}`}>
                  {l.op === "add" ? "+ " : l.op === "del" ? "- " : "  "}
                  {l.text}
                  {"\n"}
                </span>
              ))}
            </pre>
          )}
        </section>
      )}
    </div>
  );
}
