import { openArchiveBlob } from "../core/archive/tar-stream.ts";
import { buildImage } from "../core/builder/builder.ts";
import { BuildCache, type CacheRecord } from "../core/builder/cache.ts";
import { contextFromFiles } from "../core/builder/context.ts";
import type { ImageResolver } from "../core/builder/types.ts";
import { synthesizeContent } from "../core/catalog/synthesize.ts";
import type { Digest } from "../core/digest.ts";
import { LayerLabError, StorageFullError } from "../core/errors.ts";
import { Containers } from "../core/explore/containers.ts";
import { editorDiagnostics } from "../core/explore/diagnostics.ts";
import { Explorer, type SyntheticContent } from "../core/explore/explorer.ts";
import { diffFileVersions } from "../core/explore/file-diff.ts";
import { Shells } from "../core/explore/shells.ts";
import { formatBytes } from "../core/format.ts";
import { storeContentReader } from "../core/fs/container-store.ts";
import { exportImage } from "../core/image/export.ts";
import {
  type ImportResult,
  importArchive,
  WHOLE_DIGEST_BUDGET_BYTES,
  WHOLE_DIGEST_MAX_BYTES,
} from "../core/image/import.ts";
import {
  describeRawLayer,
  listLayerEntries,
  type RawTarEntry,
  readRawImageDocuments,
} from "../core/image/raw-layer.ts";
import { buildFactFromEvents, gatherLessonFacts } from "../core/lessons/facts.ts";
import { validateCourse } from "../core/lessons/lesson-file.ts";
import {
  BUILTIN_COURSE,
  type BuildFact,
  compileLesson,
  lessonProbes,
  summarizeWork,
} from "../core/lessons/lessons.ts";
import { accountStorage, deleteImage, summarizeLibrary } from "../core/library/library.ts";
import type { LayerPiecesOptions } from "../core/registry/pull.ts";
import { findLostImages, verifyBlobs } from "../core/store/check.ts";
import { asStorageFull, isStorageFull } from "../core/store/faults.ts";
import { collectGarbage } from "../core/store/gc.ts";
import type { Store } from "../core/store/types.ts";
import { createIngestPool, type IngestPort } from "./ingest-pool.ts";
import { whenStoreIdle, withStoreLock } from "./locks.ts";
import type {
  ImportSummary,
  MethodName,
  Progress,
  RepairReport,
  StorageStats,
  StoreChanged,
  WireError,
  WorkerMethods,
} from "./protocol.ts";
import { createRegistryHandlers } from "./registry-handlers.ts";

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
/** How often, and how far apart, the load-time repair tries for the store lock. */
const REPAIR_ATTEMPTS = 10;
const REPAIR_RETRY_MS = 500;
/** At the load-time repair, an upload started this long ago is taken as a closed tab's. */
const STALE_AT_REPAIR_MS = 30_000;
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
    /** Told after each write that changed the library, for the other tabs (a BroadcastChannel). */
    onChanged?: (change: StoreChanged) => void;
    /** Where the worker reaches a registry host (the page's proxy and embedded registry). */
    registryEndpoint?: (host: string) => string | undefined;
    /** The fetch registry requests go through (the page's relay for the embedded registry). */
    registryFetch?: typeof fetch;
    /** How a pull fetches layers by range (default PAGE_LAYER_PIECES; tests make ranges small). */
    registryLayerPieces?: LayerPiecesOptions;
    /** URLs the helpers may fetch themselves (see RegistryHandlerOptions.helperFetches). */
    registryHelperFetches?: (url: string) => boolean;
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

  // Raw listings of the layers last looked at, so paging through one reads its tar once.
  const rawListings = new Map<string, Promise<RawTarEntry[]>>();
  const RAW_KEEP = 3;
  async function rawLayer(id: string, layer: number) {
    const image = await store.meta.get("images", id);
    if (!image) throw new LayerLabError("NOT_FOUND", `no image ${id} in the store`);
    const diffId = image.layers[layer];
    const rec = diffId && (await store.meta.get("layers", diffId));
    if (!rec) throw new LayerLabError("NOT_FOUND", `image ${id} has no layer ${layer}`);
    let listing = rawListings.get(rec.id);
    if (listing) rawListings.delete(rec.id);
    else {
      listing = listLayerEntries(store, rec);
      listing.catch(() => rawListings.delete(rec.id));
    }
    rawListings.set(rec.id, listing);
    while (rawListings.size > RAW_KEEP) rawListings.delete(rawListings.keys().next().value!);
    return { info: describeRawLayer(rec), entries: await listing };
  }

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
  /** Writes running in this worker: a failed one collects what it wrote only when it ran alone. */
  let writing = 0;
  /**
   * Runs one write of the store (an import, a build, a container edit) holding the store lock
   * shared. When the browser refuses to store more, what it wrote and nothing records is removed
   * and the error says what was needed, what the browser allows and what uses it.
   */
  async function write<T>(operation: string, needed: number | undefined, run: () => Promise<T>): Promise<T> {
    return withStoreLock("shared", async () => {
      const before = new Set<string>((await store.blobs.list()).map((b) => b.digest));
      writing++;
      try {
        return await run();
      } catch (err) {
        if (!isStorageFull(err)) throw err;
        if (writing === 1) {
          const added = (await store.blobs.list()).filter((b) => !before.has(b.digest));
          await collectGarbage(
            store,
            added.map((b) => b.digest),
          ).catch(() => undefined);
        }
        throw await explainStorageFull(err, operation, needed);
      } finally {
        writing--;
      }
    });
  }
  /** The refusal with the numbers a person needs: quota, usage, and what uses it. */
  async function explainStorageFull(
    err: unknown,
    operation: string,
    needed: number | undefined,
    upFront?: boolean,
  ) {
    const [quota, images, layers, blobs] = await Promise.all([
      estimateQuota().catch(() => ({}) as Awaited<ReturnType<typeof estimateQuota>>),
      store.meta.list("images"),
      store.meta.list("layers"),
      store.blobs.list(),
    ]);
    const account = accountStorage(images, layers, blobs);
    return asStorageFull(err, {
      operation,
      needed,
      ...(upFront ? { upFront } : {}),
      quota: quota.quota,
      usage: quota.usage,
      persisted: quota.persisted,
      using: account.images.map((i) => ({ name: i.name, bytes: i.bytes })),
      sharedBytes: account.sharedBytes,
    });
  }
  /** Takes out images whose bytes are gone, and collects what no record uses (under the lock). */
  async function repairNow(): Promise<RepairReport> {
    const lost = await findLostImages(store);
    if (lost.length) {
      const ids = new Set<string>(lost.map((l) => l.id));
      const gone = (await store.meta.list("containers")).filter((c) => ids.has(c.image));
      await store.meta.apply({ delete: { images: [...ids], containers: gone.map((c) => c.id) } });
      for (const id of ids) explorer.invalidate(id);
    }
    // Chunks of blobs a closed tab was writing. No tab writes now, but a tab may be deriving a
    // layer's tar as it reads a file (outside the lock), so only uploads idle a while go.
    const raw = store.blobs as { collectStaleUploads?: (olderThanMs?: number) => Promise<number> };
    await raw.collectStaleUploads?.(STALE_AT_REPAIR_MS);
    const collected = await collectGarbage(store);
    return { ran: true, lost, collected };
  }
  /** Runs a write that only helps later; a full store skips it rather than fail what came before. */
  async function keepUnlessFull(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      if (!isStorageFull(err)) throw err;
    }
  }
  const changed = (change: StoreChanged) => options.onChanged?.(change);
  const registry = createRegistryHandlers({
    store,
    write: (operation, run) => write(operation, undefined, run),
    changed,
    ...(options.registryEndpoint ? { endpoint: options.registryEndpoint } : {}),
    ...(options.registryFetch ? { fetch: options.registryFetch } : {}),
    ...(options.ingestWorkers ? { ingestWorkers: options.ingestWorkers } : {}),
    ...(options.registryLayerPieces ? { layerPieces: options.registryLayerPieces } : {}),
    ...(options.registryHelperFetches ? { helperFetches: options.registryHelperFetches } : {}),
  });

  return {
    "storage.stats": () => stats(),
    "storage.clear": async () => {
      await withStoreLock("exclusive", () => store.clear());
      (await cacheReady).clear();
      explorer.invalidate();
      changed({ kind: "cleared" });
      return stats();
    },
    "storage.repair": async () => {
      // Only while no tab writes: another tab's import has blobs no record names yet. A tab just
      // closed may hold the lock a moment longer, so it is tried a few times before giving up.
      let report: RepairReport | undefined;
      for (let attempt = 0; attempt < REPAIR_ATTEMPTS && !report; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, REPAIR_RETRY_MS));
        report = await whenStoreIdle(repairNow);
      }
      return report ?? { ran: false, lost: [], collected: { blobs: 0, bytes: 0, layers: 0 } };
    },
    "storage.check": async (_params, ctx) => {
      let last = 0;
      return verifyBlobs(store, {
        signal: ctx.signal,
        onProgress: (done, total, checked) => {
          const now = Date.now();
          if (now - last < 100 && done < total) return;
          last = now;
          ctx.progress({ phase: "check", done, total, detail: `${checked} blobs checked` });
        },
      });
    },
    "dockerfile.check": async ({ text }) => editorDiagnostics(text),
    "library.list": async () =>
      summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers")),
    "image.view": ({ id }) => explorer.image(id),
    "image.tree": ({ id, layer, mode }) => explorer.tree(id, layer, mode),
    "layer.raw": async ({ id, layer, start, count }) => {
      const { info, entries } = await rawLayer(id, layer);
      const from = Math.max(0, Math.min(start, entries.length));
      return {
        info,
        total: entries.length,
        start: from,
        entries: entries.slice(from, from + Math.max(0, count)),
      };
    },
    "image.raw": async ({ id }) => {
      const image = await store.meta.get("images", id);
      if (!image) throw new LayerLabError("NOT_FOUND", `no image ${id} in the store`);
      const docs = await readRawImageDocuments(store, image);
      const layers = [];
      for (const diffId of image.layers) {
        const rec = await store.meta.get("layers", diffId);
        layers.push({ digest: rec?.blob ?? diffId, diffId });
      }
      return { ...docs, layers };
    },
    "image.file": ({ id, layer, path, offset, length }) => explorer.file(id, layer, path, offset, length),
    "image.diff": ({ id, path, layer, other }) => diffFileVersions(explorer, id, path, layer, other),
    "image.build": ({ dockerfile, context, tag, buildArgs, target, noCache }, ctx) =>
      write(`the build${tag ? ` of ${tag}` : ""}`, undefined, async () => {
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
        // The image is stored: a full store may refuse the lessons' record and the saved cache
        // (both only help later), but not fail the build that made it.
        await keepUnlessFull(async () => {
          await recordBuild(buildFactFromEvents(r.events, r.id, size, image.image.names[0]));
          await store.meta.put("kv", { id: CACHE_KEY, value: cache.entries().slice(-CACHE_KEEP) });
        });
        changed({ kind: "image", id: r.id });
        return {
          id: r.id,
          names: image.image.names,
          size,
          layers: image.layers.length,
          cachedSteps: r.cachedSteps,
          totalSteps: r.totalSteps,
          ms: performance.now() - t0,
        };
      }),
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
      const r = await withStoreLock("exclusive", () => deleteImage(store, id as Digest));
      changed({ kind: "deleted", id });
      return r;
    },
    "archive.import": async ({ file, name, platform }, ctx) => {
      // Before anything is written: an archive larger than what the browser has left will not fit
      // (its layers are stored as they came, so the archive's size is about what it needs).
      const room = await estimateQuota().catch(() => ({}) as Awaited<ReturnType<typeof estimateQuota>>);
      if (room.quota !== undefined && room.usage !== undefined && file.size > room.quota - room.usage) {
        const refusal = new DOMException("the archive is larger than the storage left", "QuotaExceededError");
        throw await explainStorageFull(refusal, `the import of ${name}`, file.size, true);
      }
      return write(`the import of ${name}`, file.size, () => importInto(file, name, platform, ctx));
    },
    "container.list": ({ image }) => containers.list(image),
    "container.ensure": ({ image }) => write("a new container", undefined, () => containers.ensure(image)),
    "container.create": ({ image, name }) =>
      write("a new container", undefined, () => containers.create(image, name)),
    "container.apply": ({ id, op }) =>
      write("the change to the container layer", undefined, () => edited(id, containers.apply(id, op))),
    "container.undo": ({ id }) =>
      write("the undo in the container layer", undefined, () => edited(id, containers.undoLast(id))),
    "container.reset": ({ id }) =>
      write("the reset of the container layer", undefined, () => edited(id, containers.reset(id))),
    "container.remove": async ({ id }) => {
      await edited(id, containers.remove(id));
      return undefined;
    },
    "container.commit": ({ id, tag }) =>
      write(`the commit${tag ? ` of ${tag}` : ""}`, undefined, async () => {
        const r = await edited(id, containers.commit(id, tag));
        changed({ kind: "image", id: r.image });
        return r;
      }),
    "container.stop": ({ id }) => shells.stop(id),
    "container.start": ({ id }) => shells.start(id),
    "container.diff": ({ id, limit }) => shells.diff(id, limit),
    "shell.open": ({ id }) => shells.open(id),
    "shell.exec": async ({ id, line }, ctx) => {
      const r = await write("the command in the container", undefined, () =>
        shells.exec(id, line, ctx.signal),
      );
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
    "lessons.check": async (params) => {
      const builds = ((await store.meta.get("kv", "builds"))?.value as BuildFact[] | undefined) ?? [];
      // Teachers' courses come from the page: checked again here, as any input is.
      const courses = [
        BUILTIN_COURSE,
        ...(params?.courses ?? []).map((c) => validateCourse(c, `course ${c.id}`)),
      ];
      const lessons = courses.flatMap((c) =>
        c.lessons.map((l) => ({ key: `${c.id}/${l.id}`, lesson: compileLesson(l) })),
      );
      const probes = lessonProbes(courses.flatMap((c) => c.lessons));
      const facts = await gatherLessonFacts(store, explorer, containers, builds, 6, probes);
      return {
        results: Object.fromEntries(lessons.map(({ key, lesson }) => [key, lesson.check(facts)])),
        summary: summarizeWork(facts),
      };
    },
    ...registry,
    "kv.get": async ({ key }) => (await store.meta.get("kv", key))?.value,
    "kv.set": ({ key, value }) =>
      write(
        key === "context" ? "saving the build context" : `saving the setting ${key}`,
        undefined,
        async () => {
          await store.meta.put("kv", { id: key, value });
          return undefined;
        },
      ),
  };

  /** Imports an archive (the body of archive.import, inside its write). */
  async function importInto(file: Blob, name: string, platform: string | undefined, ctx: CallContext) {
    const total = file.size;
    let last = 0;
    const opened = await openArchiveBlob(file, name);
    const layersDone = (n: number) => `${n} layer${n === 1 ? "" : "s"}`;
    let r: ImportResult;
    if (opened.kind === "stream") {
      // A compressed archive can only be read in order, here: the tar it holds is never whole in
      // memory, and its size is unknown until the end, so progress is the compressed file read.
      r = await importArchive(store, opened.tar, {
        platform,
        signal: ctx.signal,
        onProgress: (p) => {
          const now = Date.now();
          const done = opened.fileBytesRead();
          if (now - last < 100 && done < total) return;
          last = now;
          ctx.progress({
            phase: "import",
            done,
            total,
            detail: `${name} (${opened.compression}-compressed, ${formatBytes(p.bytesRead)} unpacked): ${layersDone(p.layersDone)}${p.entry ? `, ${p.entry}` : ""}`,
          });
        },
      });
    } else {
      r = await importRanges(opened.file, name, platform, ctx);
    }
    const summary: ImportSummary = {
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
    for (const i of r.images) changed({ kind: "image", id: i.record.id });
    return summary;
  }

  /** Imports a plain tar by byte ranges of the file: entries in parallel, layers on helper workers. */
  async function importRanges(file: Blob, name: string, platform: string | undefined, ctx: CallContext) {
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
    return importArchive(store, file, {
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
  }
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
export function toWireError(err: unknown): WireError {
  if (err instanceof StorageFullError) return { code: err.code, message: err.message, storage: err.facts };
  if (err instanceof LayerLabError) return { code: err.code, message: err.message };
  // A DOMException from the platform may have an empty message: its name still says what it was.
  const e = err as { message?: string; name?: string };
  return { code: "INTERNAL", message: e?.message || e?.name || String(err) };
}
