import { useEffect } from "react";
import { DockerfileEditor } from "./features/editor/DockerfileEditor.tsx";
import { Lessons } from "./features/lessons/Lessons.tsx";
import { LayerStack, type StackRow } from "./features/stack/LayerStack.tsx";
import { StoragePanel } from "./features/storage/StoragePanel.tsx";
import { useAppStore } from "./store/index.ts";

export function App() {
  const theme = useAppStore((s) => s.ui.theme);
  const setTheme = useAppStore((s) => s.setTheme);
  const loadDockerfile = useAppStore((s) => s.loadDockerfile);
  useEffect(() => {
    void loadDockerfile();
  }, [loadDockerfile]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const rows: StackRow[] = [
    { id: "container", title: "Container layer", instruction: "your edits", writable: true },
  ];
  const build = () => {};

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          <span className="logo" aria-hidden="true">
            ▤
          </span>{" "}
          LayerLab
        </h1>
        <StoragePanel />
        <button
          type="button"
          className="button-quiet"
          aria-label={theme === "dark" ? "Use light theme" : "Use dark theme"}
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
        >
          {theme === "dark" ? "☀" : "☾"}
        </button>
      </header>
      <main className="workspace">
        <section className="pane pane-editor" aria-labelledby="editor-title">
          <div className="pane-head">
            <h2 id="editor-title">Dockerfile</h2>
            <button type="button" className="button-primary" onClick={build} title="Build (Ctrl+Enter)">
              Build
            </button>
          </div>
          <DockerfileEditor onBuild={build} />
        </section>
        <section className="pane pane-stack" aria-labelledby="stack-title">
          <div className="pane-head">
            <h2 id="stack-title">Layers</h2>
          </div>
          <LayerStack rows={rows} />
        </section>
        <section className="pane pane-files" aria-labelledby="files-title">
          <div className="pane-head">
            <h2 id="files-title">Files</h2>
          </div>
          <div role="tree" aria-label="Files" className="tree" />
        </section>
        <section className="pane pane-details" aria-labelledby="details-title">
          <div className="pane-head">
            <h2 id="details-title">Details</h2>
          </div>
          <p className="muted">Select a layer or a file to see its details.</p>
        </section>
        <Lessons />
      </main>
    </div>
  );
}
