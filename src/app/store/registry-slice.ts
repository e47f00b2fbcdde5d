import type { StateCreator } from "zustand";
import { EMBEDDED_REGISTRY_HOST } from "../../core/registry/endpoints.ts";
import { WorkerCallError, type WorkerClient } from "../../worker/client.ts";
import type {
  RegistryEvent,
  RegistryLogin,
  RegistryLoginSummary,
  TransferRecord,
} from "../../worker/protocol.ts";
import { embeddedRegistryReady } from "../embedded-registry.ts";
import type { AppState } from "./index.ts";
import { workerClient } from "./worker.ts";

/** One blob of the transfer under way, as its last event left it. */
export interface BlobRow {
  role: RegistryEvent["role"];
  /** The layer's position, bottom first (layers only). */
  index?: number;
  digest: string;
  size: number;
  /** Bytes moved so far (0 when it was already there or mounted). */
  bytes: number;
  state: RegistryEvent["state"];
  outcome?: RegistryEvent["outcome"];
}

/** The pull or push under way, or the last one and how it ended. */
export interface RegistryTransfer {
  kind: "pull" | "push";
  reference: string;
  /** The image pushed (push), or pulled once it is stored (pull). */
  image?: string;
  running: boolean;
  startedAt: number;
  /** Layers bottom first, then the config and the manifest. */
  blobs: BlobRow[];
  /** Bytes that crossed the wire so far. */
  bytesMoved: number;
  bytesPerSecond: number;
  /** The finished transfer, as kept with the image. */
  record?: TransferRecord;
  error?: string;
  cancelled?: boolean;
}

/** What a pull or push is given besides its reference. */
export interface RegistryRequestOptions {
  login?: RegistryLogin;
  allowHttp?: boolean;
  platform?: string;
}

/** Registry pulls and pushes, the selected image's transfer history, and the logins held. */
export interface RegistrySlice {
  registry: {
    transfer?: RegistryTransfer;
    /** The transfers kept with `image`, oldest first. */
    history: { image?: string; records: TransferRecord[] };
    logins: RegistryLoginSummary[];
    /** Which form is open (view state: one at a time, so one `Image reference` field shows). */
    form?: "pull" | "push";
  };
  /** Opens the Pull or Push form (closing the other), or closes it. */
  openRegistryForm(form: "pull" | "push" | undefined): void;
  /** Pulls `reference` into the store; true when the image is stored (and then selected). */
  pullFromRegistry(reference: string, options?: RegistryRequestOptions): Promise<boolean>;
  /** Pushes stored image `image` to `reference`; true when the registry has it. */
  pushToRegistry(image: string, reference: string, options?: RegistryRequestOptions): Promise<boolean>;
  cancelTransfer(): void;
  /** Hides how the last transfer ended. */
  dismissTransfer(): void;
  /** Reads the transfers kept with an image (for the layer badges and the transfer list). */
  loadTransfers(image: string | undefined): Promise<void>;
  loadLogins(): Promise<void>;
  forgetLogin(registry: string): Promise<void>;
}

/** Where an event goes in the rows: layers by position, then the config, then the manifest. */
function rowOrder(r: Pick<BlobRow, "role" | "index">): number {
  if (r.role === "layer") return r.index ?? 0;
  return r.role === "config" ? 1e6 : 1e6 + 1;
}

/** The rows after one blob event: its row replaced (or added in place). */
export function applyBlobEvent(rows: readonly BlobRow[], e: RegistryEvent): BlobRow[] {
  const row: BlobRow = {
    role: e.role,
    ...(e.index !== undefined ? { index: e.index } : {}),
    digest: e.digest,
    size: e.size,
    bytes: e.bytes,
    state: e.state,
    ...(e.outcome ? { outcome: e.outcome } : {}),
  };
  const same = (r: BlobRow) => r.role === row.role && r.digest === row.digest && r.index === row.index;
  const out = rows.some(same) ? rows.map((r) => (same(r) ? row : r)) : [...rows, row];
  return out.sort((a, b) => rowOrder(a) - rowOrder(b));
}

/** The page draws a transfer's progress at most this often (see onEvent). */
export const PROGRESS_DRAW_MS = 250;

/** Bytes per second over a transfer so far (0 before any time has passed). */
export function transferSpeed(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 1000) / ms : 0;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The registry slice; `client` is the worker's and `now` the clock (tests pass their own). */
export function createRegistrySlice(
  client: () => WorkerClient = workerClient,
  now: () => number = Date.now,
): StateCreator<AppState, [], [], RegistrySlice> {
  let abort: AbortController | undefined;
  let historyRequest = 0;
  return (set, get) => {
    const patchTransfer = (p: Partial<RegistryTransfer>) =>
      set((s) => ({
        registry: {
          ...s.registry,
          ...(s.registry.transfer ? { transfer: { ...s.registry.transfer, ...p } } : {}),
        },
      }));
    /**
     * Blob events since the page last drew the transfer. A pull of three layers at once sends a
     * few dozen a second; drawing each one cost the page's main thread seconds of a pull, on the
     * cores the pull's own workers need. So the page applies them at most every PROGRESS_DRAW_MS
     * (the first at once, the rest together), and all of them before the transfer's end.
     */
    let pending: RegistryEvent[] = [];
    let lastDrawn = Number.NEGATIVE_INFINITY;
    let drawTimer: ReturnType<typeof setTimeout> | undefined;
    const drawPending = () => {
      if (drawTimer !== undefined) clearTimeout(drawTimer);
      drawTimer = undefined;
      if (pending.length === 0) return;
      const events = pending;
      pending = [];
      lastDrawn = now();
      set((s) => {
        const t = s.registry.transfer;
        if (!t) return s;
        const blobs = events.reduce(applyBlobEvent, t.blobs);
        const bytesMoved = blobs.reduce((n, b) => n + b.bytes, 0);
        return {
          registry: {
            ...s.registry,
            transfer: {
              ...t,
              blobs,
              bytesMoved,
              bytesPerSecond: transferSpeed(bytesMoved, now() - t.startedAt),
            },
          },
        };
      });
    };
    const onEvent = (e: unknown) => {
      const event = e as RegistryEvent;
      if (event?.kind !== "blob") return;
      pending.push(event);
      const wait = lastDrawn + PROGRESS_DRAW_MS - now();
      if (wait <= 0) drawPending();
      else drawTimer ??= setTimeout(drawPending, wait);
    };
    /** Runs one transfer call: state while it runs, then its record or its error. */
    async function run<T extends { transfer: TransferRecord }>(
      kind: RegistryTransfer["kind"],
      reference: string,
      image: string | undefined,
      call: (signal: AbortSignal) => Promise<T>,
    ): Promise<T | undefined> {
      abort?.abort();
      const ac = new AbortController();
      abort = ac;
      pending = [];
      lastDrawn = Number.NEGATIVE_INFINITY;
      set((s) => ({
        registry: {
          ...s.registry,
          transfer: {
            kind,
            reference,
            ...(image ? { image } : {}),
            running: true,
            startedAt: now(),
            blobs: [],
            bytesMoved: 0,
            bytesPerSecond: 0,
          },
        },
      }));
      try {
        // The embedded registry is a Service Worker: the worker's requests reach it only once it
        // is active (on a first visit it may still be installing).
        if (reference.trim().toLowerCase().startsWith(`${EMBEDDED_REGISTRY_HOST}/`))
          await embeddedRegistryReady();
        const r = await call(ac.signal);
        drawPending();
        const ms = r.transfer.finishedAt - r.transfer.startedAt;
        const moved = r.transfer.blobs.reduce((n, b) => n + b.bytesMoved, 0);
        patchTransfer({
          running: false,
          record: r.transfer,
          image: r.transfer.image,
          bytesMoved: moved,
          bytesPerSecond: transferSpeed(moved, ms),
        });
        return r;
      } catch (err) {
        drawPending();
        const cancelled = err instanceof WorkerCallError && err.code === "CANCELLED";
        patchTransfer({ running: false, error: message(err), cancelled });
        get().noteStorageError(err);
        return undefined;
      } finally {
        if (abort === ac) abort = undefined;
        void get().loadLogins();
        if (reference.trim().toLowerCase().startsWith(`${EMBEDDED_REGISTRY_HOST}/`))
          void get().refreshEmbeddedRegistry();
      }
    }
    const params = (o: RegistryRequestOptions) => ({
      ...(o.login ? { login: o.login } : {}),
      ...(o.allowHttp ? { allowHttp: true } : {}),
    });

    return {
      registry: { history: { records: [] }, logins: [] },

      async pullFromRegistry(reference, options = {}) {
        const r = await run("pull", reference, undefined, (signal) =>
          client().call(
            "registry.pull",
            { reference, ...(options.platform ? { platform: options.platform } : {}), ...params(options) },
            { signal, onEvent },
          ),
        );
        void get().refreshStorage();
        if (!r) return false;
        await get().refreshLibrary();
        await get().selectImage(r.image);
        await get().loadTransfers(r.image);
        return true;
      },

      async pushToRegistry(image, reference, options = {}) {
        const r = await run("push", reference, image, (signal) =>
          client().call("registry.push", { image, reference, ...params(options) }, { signal, onEvent }),
        );
        // A layer stored only as a tar was compressed for the push and kept: the store grew.
        void get().refreshStorage();
        if (!r) return false;
        if (get().ui.selectedImage === image) await get().loadTransfers(image);
        return true;
      },

      cancelTransfer() {
        abort?.abort();
      },

      openRegistryForm(form) {
        set((s) => ({ registry: { ...s.registry, form } }));
      },

      dismissTransfer() {
        set((s) => ({ registry: { ...s.registry, transfer: undefined } }));
      },

      async loadTransfers(image) {
        const req = ++historyRequest;
        if (!image) {
          set((s) => ({ registry: { ...s.registry, history: { records: [] } } }));
          return;
        }
        try {
          const records = await client().call("registry.transfers", { image });
          if (req !== historyRequest) return;
          set((s) => ({ registry: { ...s.registry, history: { image, records } } }));
        } catch {
          if (req === historyRequest)
            set((s) => ({ registry: { ...s.registry, history: { image, records: [] } } }));
        }
      },

      async loadLogins() {
        try {
          const logins = await client().call("registry.logins", undefined);
          set((s) => ({ registry: { ...s.registry, logins } }));
        } catch {
          // The list only tells whom the worker signs in as: without it the forms still work.
        }
      },

      async forgetLogin(registry) {
        await client().call("registry.forget", { registry });
        await get().loadLogins();
      },
    };
  };
}
