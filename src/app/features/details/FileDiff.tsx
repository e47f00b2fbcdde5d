import { useEffect, useState } from "react";
import { looksLikeText } from "../../../core/view/hex.ts";
import { type DiffLine, diffLines } from "../../../core/view/line-diff.ts";
import { useAppStore } from "../../store/index.ts";
import { workerClient } from "../../store/worker.ts";

/** A line diff of the open file against its version in another layer of the image. */
export function FileDiff({ path, layer }: { path: string; layer: number }) {
  const image = useAppStore((s) => s.explorer.image);
  const file = useAppStore((s) => s.explorer.file);
  const [other, setOther] = useState<number>();
  const [lines, setLines] = useState<DiffLine[]>();
  const [note, setNote] = useState<string>();
  useEffect(() => {
    setLines(undefined);
    setNote(undefined);
    if (other === undefined || !image || !file) return;
    let live = true;
    const whole = { offset: 0, length: 1 << 20 };
    workerClient()
      .call("image.file", { id: image.image.id, layer: other, path, ...whole })
      .then(
        (then) => {
          if (!live) return;
          if (!looksLikeText(then.bytes) || !looksLikeText(file.bytes)) {
            setNote("Binary content: compare their digests above.");
            return;
          }
          const dec = new TextDecoder();
          setLines(diffLines(dec.decode(then.bytes), dec.decode(file.bytes)));
        },
        () => live && setNote(`/${path} does not exist in layer ${other + 1}.`),
      );
    return () => {
      live = false;
    };
  }, [other, image, file, path]);
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
