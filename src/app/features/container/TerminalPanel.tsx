import { useAppStore } from "../../store/index.ts";
import { ContainerChanges } from "./ContainerChanges.tsx";
import { ContainerList } from "./ContainerList.tsx";
import { Terminal } from "./Terminal.tsx";

/** The Terminal tab: the shell of the attached container, its docker diff, and the containers. */
export function TerminalPanel() {
  const attached = useAppStore((s) => s.terminal.id);
  const error = useAppStore((s) => s.terminal.error);
  return (
    <div className="terminal-panel">
      <div className="terminal-main">
        {attached ? (
          <Terminal />
        ) : (
          <p className="muted">Press Run on an image for a container with a shell in it (docker run -it).</p>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </div>
      <div className="terminal-side">
        {attached && <ContainerChanges />}
        <ContainerList />
      </div>
    </div>
  );
}
