import { useAppStore } from "../../store/index.ts";
import { layerTransfer, OUTCOME_WORDS, outcomeText } from "./transfer-text.ts";
import "./registry.css";

/** What the image's newest pull or push did with this layer: received, sent, already there or mounted. */
export function LayerTransferBadge({ layer }: { layer: number }) {
  const image = useAppStore((s) => s.explorer.image);
  const history = useAppStore((s) => s.registry.history);
  if (!image || history.image !== image.image.id) return null;
  const t = layerTransfer(history.records, layer, image.layers.length);
  if (!t) return null;
  const { record, blob } = t;
  const where = record.kind === "pull" ? `pull from ${record.reference}` : `push to ${record.reference}`;
  return (
    <span
      className={`badge badge-transfer badge-${blob.outcome}`}
      data-testid="layer-transfer"
      title={`Last ${where}: ${OUTCOME_WORDS[blob.outcome]}, ${blob.bytesMoved} bytes crossed the wire`}
    >
      {outcomeText(blob.outcome, blob.size)}
    </span>
  );
}
