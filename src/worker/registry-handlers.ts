/**
 * The worker's registry methods: pull and push with the core client over the page's store, with a
 * progress event per blob, cancellation, and credentials held for the session (or remembered in
 * the store's settings when the person asks).
 */
import type { Digest } from "../core/digest.ts";
import { LayerLabError } from "../core/errors.ts";
import type { Credentials, CredentialsProvider } from "../core/registry/auth.ts";
import type { RegistryClientOptions } from "../core/registry/client.ts";
import { RegistryError } from "../core/registry/errors.ts";
import {
  type LayerPiecesOptions,
  type PullOptions,
  pullImage,
  type TransferProgress,
} from "../core/registry/pull.ts";
import { pushImage } from "../core/registry/push.ts";
import { parseReference, registryHost } from "../core/registry/reference.ts";
import { readTransfers } from "../core/registry/transfer.ts";
import type { Store } from "../core/store/types.ts";
import type { CallContext } from "./handlers.ts";
import { canTransferStreams, createStreamIngest, type IngestPort } from "./ingest-pool.ts";
import type {
  RegistryCallOptions,
  RegistryEvent,
  RegistryLoginSummary,
  StoreChanged,
  WorkerMethods,
} from "./protocol.ts";

/** The settings key of remembered registry credentials (registry → user name and password). */
export const REMEMBERED_LOGINS_KEY = "registry-credentials";

/** A moving blob reports at most this often; a change of state always reports at once. */
const PROGRESS_EVERY_MS = 100;

/**
 * The page pulls layers by byte range, each range taken with `Response.blob()`: the browser
 * keeps the bytes in its blob storage without this thread reading them, a helper reads them once
 * to verify and index the layer, and IndexedDB adopts the Blob they compose (as an import's File
 * slice), rather than the bytes crossing this thread, then a helper, then IndexedDB in 1 MiB
 * chunks. Progress moves a range at a time. A layer is held whole in blob storage until it is
 * stored, so only layers up to `maxLayerBytes` go this way (one per helper at a time); larger
 * ones stream.
 *
 * Each range has a fixed cost (a request, a Blob read back out of blob storage, one more part
 * of the Blob IndexedDB writes), so on a fast link ranges are large: up to 32 MiB. The registry
 * bench on loopback, probes of the 500 MB image on disk: 8.6-9.2 s with ranges of 4 MiB,
 * 7.2-7.6 s with 16 MiB, 6.1-6.3 s with 32 MiB, 6.1-6.6 s with a layer a range. But a range is
 * also a step of the progress bar, and on a link of 2 MB/s 32 MiB is 16 s without one: so ranges
 * start at 2 MiB and are sized to take about two seconds at the rate the last ones came. Half a
 * second was tried first: on loopback, where the two cores are busy and two or three ranges come
 * at once, it made more and smaller ranges (49 GETs for the ten layers of 500 MB against 36 with
 * two seconds; 20 with 32 MiB ranges) and the pull slower (6.6 s on disk either way, 7.1 s in
 * memory against 6.1 s, back to back in the bench; src/bench/README.md).
 */
export const PAGE_LAYER_PIECES: LayerPiecesOptions = {
  pieceBytes: 32 * 2 ** 20,
  minPieceBytes: 2 * 2 ** 20,
  pieceSeconds: 2,
  maxLayerBytes: 64 * 2 ** 20,
};

type RegistryMethods = Pick<
  WorkerMethods,
  "registry.pull" | "registry.push" | "registry.transfers" | "registry.logins" | "registry.forget"
>;

/** What the registry methods need from the worker around them. */
export interface RegistryHandlerOptions {
  store: Store;
  /** Runs a write of the store holding the store lock (handlers.ts's `write`). */
  write<T>(operation: string, run: () => Promise<T>): Promise<T>;
  changed(change: StoreChanged): void;
  /** Where a registry host is reached from here (the page's proxy, the embedded registry). */
  endpoint?: (host: string) => string | undefined;
  /** The fetch registry requests go through (default the global one; see fetch-relay.ts). */
  fetch?: typeof fetch;
  /**
   * The import's helper workers (handlers.ts's `ingestWorkers`): a pull hands each layer to one
   * of them as it streams, where the platform can transfer a stream to a worker.
   */
  ingestWorkers?: () => IngestPort[];
  /** Retries and backoff (tests shorten them; the page keeps the client's defaults). */
  retry?: Pick<RegistryClientOptions, "retries" | "backoffMs" | "maxBackoffMs">;
  /** How layers are fetched by range (default PAGE_LAYER_PIECES; tests make the ranges small). */
  layerPieces?: LayerPiecesOptions;
  /**
   * URLs a helper worker may fetch itself (see LayerPiecesOptions.handOff): not those only the
   * page can reach (the embedded registry, through fetch-relay.ts). Without it, this thread
   * fetches every range.
   */
  helperFetches?: (url: string) => boolean;
}

/** The registry methods, as plain functions over the store (tested in Node against a real registry). */
export function createRegistryHandlers(options: RegistryHandlerOptions): {
  [M in keyof RegistryMethods]: (
    params: RegistryMethods[M]["params"],
    ctx: CallContext,
  ) => Promise<RegistryMethods[M]["result"]>;
} {
  const { store } = options;
  // This session's credentials: the worker lives as long as the tab, and so do they.
  const session = new Map<string, Credentials>();

  async function remembered(): Promise<Record<string, Credentials>> {
    const v = (await store.meta.get("kv", REMEMBERED_LOGINS_KEY))?.value;
    return v && typeof v === "object" ? (v as Record<string, Credentials>) : {};
  }
  async function setRemembered(registry: string, creds: Credentials | undefined): Promise<void> {
    const all = await remembered();
    if (creds) all[registry] = { username: creds.username, password: creds.password };
    else if (registry in all) delete all[registry];
    else return;
    await store.meta.put("kv", { id: REMEMBERED_LOGINS_KEY, value: all });
  }
  const credentials: CredentialsProvider = {
    get: async (registry) => session.get(registry) ?? (await remembered())[registry],
  };

  /** The client options of one call: its credentials taken in, plain HTTP where allowed. */
  function clientOptions(domain: string, call: RegistryCallOptions): RegistryClientOptions {
    if (call.login) session.set(domain, { username: call.login.username, password: call.login.password });
    return {
      credentials,
      ...(call.allowHttp ? { insecureHosts: [registryHost(domain)] } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...options.retry,
    };
  }

  let transferable: boolean | undefined;
  /**
   * A pull's layers on the helper workers, one layer each at a time: this thread then only reads
   * the network and relays the bytes, while the helpers hash, decompress, index and store them on
   * the other cores (it did all of that itself before, and was the pull's bottleneck).
   */
  function helpersFor(): Pick<PullOptions, "ingestLayer" | "concurrency" | "layerPieces"> {
    const layerPieces = options.layerPieces ?? PAGE_LAYER_PIECES;
    if (!options.ingestWorkers) return { layerPieces };
    transferable ??= canTransferStreams();
    const workers = transferable ? options.ingestWorkers() : [];
    if (!workers.length) return { layerPieces };
    return {
      ingestLayer: createStreamIngest(workers),
      // A layer per helper being read, and as many more being stored (see serveIngest's release)
      // or waiting for a helper, at most two: each holds a connection of the six the page has
      // per host, and the helpers' ranges need the rest.
      concurrency: workers.length + Math.min(2, workers.length),
      // The helpers fetch the ranges themselves where they can: the Blobs then never live here.
      layerPieces: options.helperFetches ? { ...layerPieces, handOff: options.helperFetches } : layerPieces,
    };
  }

  /** After a transfer that worked: keep the login when asked to, forget a remembered one when not. */
  async function settleLogin(domain: string, call: RegistryCallOptions): Promise<void> {
    if (!call.login) return;
    await setRemembered(domain, call.login.remember ? call.login : undefined);
  }

  return {
    "registry.pull": async ({ reference, platform, ...call }, ctx) => {
      const ref = parseReference(reference);
      return options.write(`the pull of ${reference}`, () =>
        explainNetwork(async () => {
          const r = await pullImage(store, ref, {
            ...clientOptions(ref.domain, call),
            ...helpersFor(),
            ...(platform ? { platform } : {}),
            signal: ctx.signal,
            onProgress: reporter(ctx),
          });
          await settleLogin(ref.domain, call);
          options.changed({ kind: "image", id: r.record.id });
          return { image: r.record.id, names: r.record.names, transfer: r.transfer };
        }),
      );
    },
    "registry.push": async ({ image, reference, ...call }, ctx) => {
      const ref = parseReference(reference);
      return options.write(`the push to ${reference}`, () =>
        explainNetwork(async () => {
          const r = await pushImage(store, image as Digest, ref, {
            ...clientOptions(ref.domain, call),
            signal: ctx.signal,
            onProgress: reporter(ctx),
          });
          await settleLogin(ref.domain, call);
          return { manifestDigest: r.manifestDigest, transfer: r.transfer };
        }),
      );
    },
    "registry.transfers": ({ image }) => readTransfers(store.meta, image as Digest),
    "registry.logins": async () => {
      const kept = await remembered();
      const out = new Map<string, RegistryLoginSummary>();
      for (const [registry, c] of Object.entries(kept))
        out.set(registry, { registry, username: c.username, remembered: true });
      for (const [registry, c] of session)
        if (!out.has(registry)) out.set(registry, { registry, username: c.username, remembered: false });
      return [...out.values()].sort((a, b) => a.registry.localeCompare(b.registry));
    },
    "registry.forget": async ({ registry }) => {
      session.delete(registry);
      await setRemembered(registry, undefined);
      return undefined;
    },
  };
}

/**
 * Sends each blob's progress as an event: every change of state at once, moving bytes at most
 * every 100 ms per blob (a fast registry would otherwise flood the page with messages).
 */
function reporter(ctx: CallContext): (p: TransferProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const key = `${p.role}:${p.digest}`;
    const now = Date.now();
    if (p.state === "moving" && p.bytes < p.size && now - (last.get(key) ?? 0) < PROGRESS_EVERY_MS) return;
    last.set(key, now);
    const event: RegistryEvent = { kind: "blob", ...p };
    ctx.emit(event);
  };
}

/**
 * A registry the page cannot reach: the core's message already names CORS and the proxy; this
 * adds where the registry's side is explained.
 */
async function explainNetwork<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RegistryError && err.kind === "network") {
      throw new LayerLabError(
        err.code,
        `${err.message} The README's "Registries" section shows the CORS headers a registry needs and the proxy.`,
        { cause: err },
      );
    }
    throw err;
  }
}
