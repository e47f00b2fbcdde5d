/**
 * The page's side of the embedded registry (a Service Worker serving the OCI distribution API at
 * `/embedded-registry/` over a second IndexedDB database): registering it on load, waiting for
 * it only when it is needed, and asking it what it holds. The app works without it; only the
 * embedded registry is then unavailable, with a message saying why.
 */
import type { EmbeddedRegistryStatus } from "../core/registry/embedded.ts";
import {
  EMBEDDED_REGISTRY_CHANNEL,
  EMBEDDED_REGISTRY_PATH,
  EMBEDDED_REGISTRY_SW,
} from "../core/registry/endpoints.ts";

/** The dev server serves the worker from its source (the plugin lets it take scope `/`). */
const SCRIPT = import.meta.env.DEV ? "/src/sw/registry-sw.ts" : EMBEDDED_REGISTRY_SW;

let registering: Promise<void> | undefined;

/** Why the embedded registry cannot run here, or undefined when it can. */
export function embeddedRegistryUnsupported(): string | undefined {
  if (typeof navigator === "undefined" || !("serviceWorker" in navigator))
    return "this browser runs no Service Workers here (a private window, or a page not served from localhost or https)";
  return undefined;
}

/** Registers the Service Worker (once; on load). Never throws: the app runs without it. */
export function registerEmbeddedRegistry(): Promise<void> {
  if (!registering) {
    const why = embeddedRegistryUnsupported();
    registering = why
      ? Promise.reject(new Error(`The embedded registry is unavailable: ${why}.`))
      : navigator.serviceWorker
          .register(SCRIPT, { type: "module", scope: "/" })
          .then(() => undefined)
          .catch((err: unknown) => {
            throw new Error(
              `The embedded registry is unavailable: its Service Worker did not install (${err instanceof Error ? err.message : String(err)}).`,
            );
          });
    registering.catch(() => {});
  }
  return registering;
}

/**
 * Resolves once requests to `/embedded-registry/` are answered by the Service Worker: it is
 * active and controls this page (on a first visit, after it claims the page). Rejects with a
 * message saying why when it is unavailable or has not started within `timeoutMs`.
 */
export async function embeddedRegistryReady(timeoutMs = 20_000): Promise<void> {
  await registerEmbeddedRegistry();
  const container = navigator.serviceWorker;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `The embedded registry is unavailable: its Service Worker did not start within ${Math.round(timeoutMs / 1000)} s (reload the page to try again).`,
          ),
        ),
      timeoutMs,
    );
  });
  const controlled = (async () => {
    await container.ready;
    if (container.controller) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        if (!container.controller) return;
        container.removeEventListener("controllerchange", done);
        resolve();
      };
      container.addEventListener("controllerchange", done);
      done();
    });
  })();
  try {
    await Promise.race([controlled, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function call(method: "GET" | "POST", path: "status" | "clear"): Promise<EmbeddedRegistryStatus> {
  await embeddedRegistryReady();
  const res = await fetch(`${EMBEDDED_REGISTRY_PATH}/${path}`, { method, cache: "no-store" });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { errors?: { message?: string }[] } | undefined;
    throw new Error(body?.errors?.[0]?.message ?? `the embedded registry answered ${res.status}`);
  }
  return (await res.json()) as EmbeddedRegistryStatus;
}

/** What the embedded registry holds (blobs, bytes, repositories and their tags). */
export function readEmbeddedRegistry(): Promise<EmbeddedRegistryStatus> {
  return call("GET", "status");
}

/** Empties the embedded registry; what it holds afterwards. */
export function clearEmbeddedRegistry(): Promise<EmbeddedRegistryStatus> {
  return call("POST", "clear");
}

/** Calls `fn` whenever the embedded registry stores or removes something; returns a stop. */
export function watchEmbeddedRegistry(fn: () => void): () => void {
  if (typeof BroadcastChannel === "undefined") return () => {};
  const channel = new BroadcastChannel(EMBEDDED_REGISTRY_CHANNEL);
  channel.onmessage = () => fn();
  return () => channel.close();
}
