import { buildImage } from "../core/builder/builder.ts";
import { BuildCache, type CacheRecord } from "../core/builder/cache.ts";
import { contextFromFiles } from "../core/builder/context.ts";
import type { ImageResolver } from "../core/builder/types.ts";
import { synthesizeContent } from "../core/catalog/synthesize.ts";
import type { Digest } from "../core/digest.ts";
import { LayerLabError } from "../core/errors.ts";
import { Containers } from "../core/explore/containers.ts";
import { editorDiagnostics } from "../core/explore/diagnostics.ts";
import { Explorer, type SyntheticContent } from "../core/explore/explorer.ts";
import { Shells } from "../core/explore/shells.ts";
import { storeContentReader } from "../core/fs/container-store.ts";
import { exportImage } from "../core/image/export.ts";
import { importArchive, WHOLE_DIGEST_BUDGET_BYTES, WHOLE_DIGEST_MAX_BYTES } from "../core/image/import.ts";
import { buildFactFromEvents, gatherLessonFacts } from "../core/lessons/facts.ts";
import { type BuildFact, LESSONS } from "../core/lessons/lessons.ts";
import { deleteImage, summarizeLibrary } from "../core/library/library.ts";
import type { Store } from "../core/store/types.ts";
import { createIngestPool, type IngestPort } from "./ingest-pool.ts";
import type { MethodName, Progress, StorageStats, WorkerMethods } from "./protocol.ts";

/** What a handler gets besides its params: progress reporting and cancellation. */
export interface CallContext {
  progress(p: Progress): void;
  /** Streams one event of a long call to the page. */
  emit(event: unknown): void;
  signal: AbortSignal;
}

type Handlers = {
  [M in MethodName]: (
    params: WorkerMethods[M]["params"],
    ctx: CallContext,
  ) => Promise<WorkerMethods[M]["result"]>;
};

const CACHE_KEY = "build-cache";
/** Cached steps kept across reloads (each holds its step's filesystem snapshot). */
const CACHE_KEEP = 40;

/** Reads the quota where the platform has one (browsers, in a worker or a page). */
async function estimateQuota(): Promise<Pick<StorageStats, "usage" | "quota" | "persisted">> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!storage?.estimate) return {};
  const { usage, quota } = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : undefined;
  return { usage, quota, persisted };
}

/** The worker's methods over one opened store; plain functions, testable in Node. */
export function createHandlers(
  store: Store,
  options: {
    synthetic?: SyntheticContent;
    builtins?: ImageResolver;
    /**
     * The workers that ingest layers into the same store, for imports on several cores (started
     * on the first call and kept for later imports: an import does not end them).
     */
    ingestWorkers?: () => IngestPort[];
  } = {},
): Handlers {
  // Built-in teaching bases carry large contents as seeds: their bytes are made when read.
  const synthetic: SyntheticContent =
    options.synthetic ??
    ((seed, size, offset, length) => synthesizeContent(seed, size).slice(offset, offset + length));
  const explorer = new Explorer(store, synthetic);
  const readContent = storeContentReader(store, async (ref, size) =>
    ref.kind === "synthetic" ? synthetic(ref.seed, size, 0, size) : new Uint8Array(0),
  );
  const containers = new Containers(store, explorer, readContent);
  const shells = new Shells(containers, explorer, readContent);
  /** A container edit made outside its shell: the shell's view starts again from the layer. */
  const edited = <T>(id: string, p: Promise<T>): Promise<T> => p.finally(() => shells.invalidate(id));
  // Docker's build cache: steps are reused across builds while their inputs are unchanged. It is
  // kept in the store's settings (the newest steps), so a reload still builds from the cache.
  const cacheReady = (async () => {
    const cache = new BuildCache();
    const saved = (await store.meta.get("kv", CACHE_KEY))?.value as CacheRecord[] | undefined;
    if (Array.isArray(saved)) cache.restore(saved);
    return cache;
  })();

  /** The last builds, kept for the lessons (they survive a reload in the store's settings). */
  async function recordBuild(fact: BuildFact): Promise<void> {
    const prev = ((await store.meta.get("kv", "builds"))?.value as BuildFact[] | undefined) ?? [];
    await store.meta.put("kv", { id: "builds", value: [...prev, fact].slice(-10) });
  }
  async function stats(): Promise<StorageStats> {
    const [b, images, layers, containers, quota] = await Promise.all([
      store.blobs.stats(),
      store.meta.list("images"),
      store.meta.list("layers"),
      store.meta.list("containers"),
      estimateQuota(),
    ]);
    return {
      blobs: b.count,
      bytes: b.bytes,
      images: images.length,
      layers: layers.length,
      containers: containers.length,
      ...quota,
    };
  }
  return {
    "storage.stats": () => stats(),
    "storage.clear": async () => {
      await store.clear();
      (await cacheReady).clear();
      explorer.invalidate();
      return stats();
    },
    "dockerfile.check": async ({ text }) => editorDiagnostics(text),
    "library.list": async () =>
      summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers")),
    "image.view": ({ id }) => explorer.image(id),
    "image.tree": ({ id, layer, mode }) => explorer.tree(id, layer, mode),
    "image.file": ({ id, layer, path, offset, length }) => explorer.file(id, layer, path, offset, length),
    "image.build": async ({ dockerfile, context, tag, buildArgs, target, noCache }, ctx) => {
      const t0 = performance.now();
      const cache = await cacheReady;
      const r = await buildImage({
        dockerfile,
        context: contextFromFiles(context),
        store,
        builtins: options.builtins,
        tags: tag ? [tag] : [],
        buildArgs,
        target,
        noCache,
        cache,
        signal: ctx.signal,
        onEvent: (e) => ctx.emit(e),
      });
      explorer.invalidate(r.id);
      const image = await explorer.image(r.id);
      const size = image.layers.reduce((n, l) => n + l.size, 0);
      await recordBuild(buildFactFromEvents(r.events, r.id, size, image.image.names[0]));
      await store.meta.put("kv", { id: CACHE_KEY, value: cache.entries().slice(-CACHE_KEEP) });
      return {
        id: r.id,
        names: image.image.names,
        size,
        layers: image.layers.length,
        cachedSteps: r.cachedSteps,
        totalSteps: r.totalSteps,
        ms: performance.now() - t0,
      };
    },
    "image.efficiency": ({ id }) => explorer.efficiency(id),
    "image.export": async ({ id, format }, ctx) => {
      // A Blob of parts: the browser may keep a large one on disk rather than in memory.
      const parts: Uint8Array[] = [];
      let done = 0;
      for await (const chunk of exportImage(store, id as Digest, { format, signal: ctx.signal })) {
        parts.push(chunk);
        done += chunk.byteLength;
        ctx.progress({ phase: "export", done });
      }
      return new Blob(parts as BlobPart[], { type: "application/x-tar" });
    },
    "image.delete": async ({ id }) => {
      explorer.invalidate(id);
      return deleteImage(store, id as Digest);
    },
    "archive.import": async ({ file, name, platform }, ctx) => {
      const total = file.size;
      let last = 0;
      // A Blob lets the importer read each layer from its own slice, several at once: on other
      // cores when this worker may start helpers.
      const workers = options.ingestWorkers?.() ?? [];
      const pool = workers.length
        ? createIngestPool(workers, file, {
            signal: ctx.signal,
            // However many helpers there are, this import's layers read whole fit the budget.
            wholeDigestMaxBytes: Math.min(
              WHOLE_DIGEST_MAX_BYTES,
              Math.floor(WHOLE_DIGEST_BUDGET_BYTES / workers.length),
            ),
          })
        : undefined;
      const r = await importArchive(store, file, {
        // Twice as many entries as workers: while this thread stores what a worker left it, the
        // next layer already waits in the pool to start the moment a worker is free.
        ...(pool ? { ingestEntry: pool.run, concurrency: 2 * workers.length } : {}),
        platform,
        signal: ctx.signal,
        totalBytes: total,
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < 100 && p.bytesRead < total) return;
          last = now;
          ctx.progress({
            phase: "import",
            done: p.bytesRead,
            total,
            detail: `${name}: ${p.layersDone} layer${p.layersDone === 1 ? "" : "s"}${p.entry ? `, ${p.entry}` : ""}`,
          });
        },
      });
      return {
        images: r.images.map((i) => ({
          id: i.record.id,
          names: i.record.names,
          layers: i.layers.length,
          warnings: i.warnings.map((w) => `${w.entry}: ${w.message}`),
        })),
        blobsAdded: r.blobsAdded,
        bytesAdded: r.bytesAdded,
        bytesShared: r.bytesShared,
        bytesRead: r.bytesRead,
      };
    },
    "container.list": ({ image }) => containers.list(image),
    "container.ensure": ({ image }) => containers.ensure(image),
    "container.create": ({ image, name }) => containers.create(image, name),
    "container.apply": ({ id, op }) => edited(id, containers.apply(id, op)),
    "container.undo": ({ id }) => edited(id, containers.undoLast(id)),
    "container.reset": ({ id }) => edited(id, containers.reset(id)),
    "container.remove": async ({ id }) => {
      await edited(id, containers.remove(id));
      return undefined;
    },
    "container.commit": ({ id, tag }) => edited(id, containers.commit(id, tag)),
    "container.stop": ({ id }) => shells.stop(id),
    "container.start": ({ id }) => shells.start(id),
    "container.diff": ({ id }) => shells.diff(id),
    "shell.open": ({ id }) => shells.open(id),
    "shell.exec": async ({ id, line }, ctx) => {
      const r = await shells.exec(id, line, ctx.signal);
      // Output goes out in pieces, so the page can write one while the next is on its way.
      for (const [stream, text] of [
        ["stdout", r.stdout],
        ["stderr", r.stderr],
      ] as const) {
        for (const piece of splitOutput(text)) ctx.emit({ kind: "output", stream, text: piece });
      }
      return { exitCode: r.exitCode, cwd: r.cwd, container: r.container };
    },
    "shell.complete": ({ id, before }) => shells.complete(id, before),
    "container.tree": ({ id }) => containers.tree(id),
    "container.file": ({ id, path, offset, length }) => containers.file(id, path, offset, length),
    "lessons.check": async () => {
      const builds = ((await store.meta.get("kv", "builds"))?.value as BuildFact[] | undefined) ?? [];
      const facts = await gatherLessonFacts(store, explorer, containers, builds);
      return Object.fromEntries(LESSONS.map((l) => [l.id, l.check(facts)]));
    },
    "kv.get": async ({ key }) => (await store.meta.get("kv", key))?.value,
    "kv.set": async ({ key, value }) => {
      await store.meta.put("kv", { id: key, value });
      return undefined;
    },
  };
}

const OUTPUT_PIECE = 64 * 1024;

/** Splits output into pieces of at most 64 KiB, at a line end where there is one. */
export function splitOutput(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + OUTPUT_PIECE);
    if (end < text.length) {
      const nl = text.lastIndexOf("\n", end - 1);
      if (nl >= i) end = nl + 1;
    }
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** Turns any failure into the plain error shape the protocol carries. */
export function toWireError(err: unknown): { code: string; message: string } {
  if (err instanceof LayerLabError) return { code: err.code, message: err.message };
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}
