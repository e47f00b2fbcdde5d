import { useAppStore } from "../../store/index.ts";
import type { UiSlice } from "../../store/ui-slice.ts";
import { TerminalPanel } from "../container/TerminalPanel.tsx";
import { ContextPanel } from "../context/ContextPanel.tsx";
import { Lessons } from "../lessons/Lessons.tsx";
import { BuildLog } from "./BuildLog.tsx";
import { ResizeHandle } from "./ResizeHandle.tsx";

const TABS: { id: UiSlice["ui"]["bottomTab"]; label: string }[] = [
  { id: "lessons", label: "Lessons" },
  { id: "context", label: "Build context" },
  { id: "log", label: "Build log" },
  { id: "terminal", label: "Terminal" },
];

/** Under the editor: the lessons, the build context, and the build log. */
export function BottomPanel() {
  const tab = useAppStore((s) => s.ui.bottomTab);
  const setTab = useAppStore((s) => s.setBottomTab);
  const running = useAppStore((s) => s.build.running);
  return (
    <div className="pane pane-bottom">
      <ResizeHandle />
      <div className="pane-head">
        <div role="tablist" aria-label="Build and lessons" className="tabs">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`bottom-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls="bottom-panel"
              onClick={() => setTab(t.id)}
            >
              {t.label}
              {t.id === "log" && running ? " ●" : ""}
            </button>
          ))}
        </div>
      </div>
      <div role="tabpanel" id="bottom-panel" aria-labelledby={`bottom-tab-${tab}`} className="details-body">
        {tab === "lessons" && <Lessons />}
        {tab === "context" && <ContextPanel />}
        {tab === "log" && <BuildLog />}
        {tab === "terminal" && <TerminalPanel />}
      </div>
    </div>
  );
}
