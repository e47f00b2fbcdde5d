import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import "./styles.css";
import "./responsive.css";
import { registerEmbeddedRegistry } from "./embedded-registry.ts";
import { startUrlSync } from "./url-state.ts";

startUrlSync();
// The embedded registry's Service Worker installs in the background; nothing waits for it here.
void registerEmbeddedRegistry();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
