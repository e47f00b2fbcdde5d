import { type CSSProperties, useEffect, useState } from "react";
import { BottomPanel } from "./features/build/BottomPanel.tsx";
import { RunButton } from "./features/container/RunButton.tsx";
import { DetailsPane } from "./features/details/DetailsPane.tsx";
import { DockerfileEditor } from "./features/editor/DockerfileEditor.tsx";
import { ShareButton } from "./features/editor/ShareButton.tsx";
import { FilesPane } from "./features/files/FilesPane.tsx";
import { ExportControl } from "./features/images/ExportControl.tsx";
import { ImagePicker, ImportControl, ImportStatus } from "./features/images/ImportControl.tsx";
import { PullControl, PushControl } from "./features/registry/RegistryControls.tsx";
import { RegistryStatus } from "./features/registry/RegistryStatus.tsx";
import { LayerStack } from "./features/stack/LayerStack.tsx";
import { StorageNotices } from "./features/storage/StorageNotices.tsx";
import { StoragePanel } from "./features/storage/StoragePanel.tsx";
import { useAppStore } from "./store/index.ts";

/** The panes a phone shows one at a time, in the order of the tab bar. */
const PANES = [
  { id: "editor", label: "Dockerfile" },
  { id: "stack", label: "Layers" },
  { id: "files", label: "Files" },
  { id: "details", label: "Details" },
  { id: "lessons", label: "Lessons" },
] as const;
type PaneId = (typeof PANES)[number]["id"];

export function App() {
  // Which pane a phone-width screen shows (wider screens show them all and hide the tab bar).
  const [pane, setPane] = useState<PaneId>("editor");
  // Whether a phone-width screen shows the top bar's tools (wider screens always show them).
  const [menuOpen, setMenuOpen] = useState(false);
  const setBottomTab = useAppStore((s) => s.setBottomTab);
  const theme = useAppStore((s) => s.ui.theme);
  const setTheme = useAppStore((s) => s.setTheme);
  const loadDockerfile = useAppStore((s) => s.loadDockerfile);
  const refreshLibrary = useAppStore((s) => s.refreshLibrary);
  const restoreTerminal = useAppStore((s) => s.restoreTerminal);
  const loadContext = useAppStore((s) => s.loadContext);
  const runBuild = useAppStore((s) => s.runBuild);
  const building = useAppStore((s) => s.build.running);
  const terminalOpen = useAppStore((s) => s.ui.bottomTab === "terminal" && s.terminal.id !== undefined);
  const terminalId = useAppStore((s) => s.terminal.id);
  const bottomHeight = useAppStore((s) => s.ui.bottomHeight);
  useEffect(() => {
    // On a first visit (nothing stored yet) the example is built at once, so the stack is there to see.
    void Promise.all([loadDockerfile(), loadContext(), refreshLibrary()]).then(() => {
      const s = useAppStore.getState();
      if (s.explorer.library?.images.length === 0) void runBuild({ auto: true });
      else void restoreTerminal();
    });
  }, [loadDockerfile, loadContext, refreshLibrary, runBuild, restoreTerminal]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  // A terminal attached (Run, or a container's terminal opened again) is what the learner wants to
  // see: a phone, which shows one pane at a time, turns to the bottom panel that holds it.
  useEffect(() => {
    if (terminalId !== undefined) setPane("lessons");
  }, [terminalId]);
  useEffect(() => {
    if (!menuOpen) return;
    // Escape folds the tools again and gives focus back to Menu, as a disclosure menu does.
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setMenuOpen(false);
      document.querySelector<HTMLButtonElement>(".topbar-menu")?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  const build = () => void runBuild();

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          <span className="logo" aria-hidden="true">
            ▤
          </span>{" "}
          LayerLab
        </h1>
        <ImagePicker />
        {/* A phone's width shows the image picker and folds the other tools behind Menu. */}
        <button
          type="button"
          className="topbar-menu button-quiet"
          aria-expanded={menuOpen}
          aria-controls="topbar-tools"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <div id="topbar-tools" className="topbar-tools" data-open={menuOpen ? "true" : undefined}>
          <ImportControl />
          <ExportControl />
          <PullControl />
          <StoragePanel />
          <button
            type="button"
            className="button-quiet"
            aria-label={theme === "dark" ? "Use light theme" : "Use dark theme"}
            onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          >
            {theme === "dark" ? "☀" : "☾"}
          </button>
        </div>
      </header>
      <ImportStatus />
      <RegistryStatus />
      <StorageNotices />
      <nav className="pane-tabs" aria-label="Panes">
        {PANES.map((p) => {
          // With a terminal attached, the bottom panel's tab is the terminal's: it returns to it.
          const toTerminal = p.id === "lessons" && terminalId !== undefined;
          return (
            <button
              key={p.id}
              type="button"
              aria-pressed={pane === p.id}
              onClick={() => {
                setPane(p.id);
                if (p.id === "lessons") setBottomTab(toTerminal ? "terminal" : "lessons");
              }}
            >
              {toTerminal ? "Terminal" : p.label}
            </button>
          );
        })}
      </nav>
      <main
        className="workspace"
        data-pane={pane}
        data-terminal={terminalOpen ? "open" : undefined}
        style={bottomHeight ? ({ "--bottom-height": `${bottomHeight}px` } as CSSProperties) : undefined}
      >
        <section className="pane pane-editor" aria-labelledby="editor-title">
          <div className="pane-head">
            <h2 id="editor-title">Dockerfile</h2>
            <span className="pane-actions">
              <ShareButton />
              <button
                type="button"
                className="button-primary"
                onClick={build}
                disabled={building}
                title="Build (Ctrl+Enter)"
              >
                Build
              </button>
            </span>
          </div>
          <DockerfileEditor onBuild={build} />
        </section>
        <section className="pane pane-stack" aria-labelledby="stack-title">
          <div className="pane-head">
            <h2 id="stack-title">Layers</h2>
            <span className="pane-actions">
              <PushControl />
              <RunButton />
            </span>
          </div>
          <LayerStack />
        </section>
        <FilesPane />
        <DetailsPane />
        <BottomPanel />
      </main>
    </div>
  );
}
