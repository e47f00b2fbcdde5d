import { useAppStore } from "../../store/index.ts";
import type { UiSlice } from "../../store/ui-slice.ts";
import { EmbeddedRegistryPanel } from "../images/EmbeddedRegistryPanel.tsx";
import { ImageLibrary } from "../images/ImageLibrary.tsx";
import { TransferHistory } from "../registry/TransferHistory.tsx";
import { EfficiencyView } from "./EfficiencyView.tsx";
import { FileDetails } from "./FileDetails.tsx";
import { ConfigView, HistoryTable } from "./HistoryTable.tsx";

const TABS: { id: UiSlice["ui"]["detailsTab"]; label: string }[] = [
  { id: "file", label: "File" },
  { id: "history", label: "History" },
  { id: "config", label: "Config" },
  { id: "efficiency", label: "Efficiency" },
  { id: "images", label: "Images" },
  { id: "transfers", label: "Transfers" },
];

/** Details of what is selected: a file, the image's history and config, the image library. */
export function DetailsPane() {
  const tab = useAppStore((s) => s.ui.detailsTab);
  const setTab = useAppStore((s) => s.setDetailsTab);
  return (
    <section className="pane pane-details" aria-labelledby="details-title">
      <div className="pane-head">
        <h2 id="details-title">Details</h2>
        <div role="tablist" aria-label="Details" className="tabs">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls="details-panel"
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </div>
      <div role="tabpanel" id="details-panel" aria-labelledby={`tab-${tab}`} className="details-body">
        {tab === "file" && <FileDetails />}
        {tab === "history" && <HistoryTable />}
        {tab === "config" && <ConfigView />}
        {tab === "efficiency" && <EfficiencyView />}
        {tab === "images" && (
          <>
            <ImageLibrary />
            <EmbeddedRegistryPanel />
          </>
        )}
        {tab === "transfers" && <TransferHistory />}
      </div>
    </section>
  );
}
