import type { BuildEvent } from "../builder/types.ts";
import type { Containers } from "../explore/containers.ts";
import type { Explorer } from "../explore/explorer.ts";
import { dockerChanges } from "../fs/docker-diff.ts";
import { computeEfficiency } from "../fs/efficiency.ts";
import { summarizeLibrary } from "../library/library.ts";
import type { TransferRecord } from "../registry/transfer.ts";
import type { Store } from "../store/types.ts";
import type { BuildFact, ContainerFact, ImageFact, LessonFacts, TransferFact } from "./lessons.ts";

/** Folds a build's streamed events into the record the lessons read. */
export function buildFactFromEvents(
  events: readonly BuildEvent[],
  image: string,
  size: number,
  name?: string,
): BuildFact {
  const steps = new Map<
    number,
    {
      instruction: string;
      cached: boolean;
      emptyLayer: boolean;
      layerSize?: number;
      reason?: string;
      stage?: string;
      diffId?: string;
    }
  >();
  for (const e of events) {
    if (e.kind === "step")
      steps.set(e.step, { instruction: e.instruction, cached: false, emptyLayer: true, stage: e.stage });
    else if (e.kind === "step-done") {
      const s = steps.get(e.step);
      if (s)
        Object.assign(s, {
          cached: e.cached,
          emptyLayer: e.emptyLayer,
          layerSize: e.layerSize,
          reason: e.reason,
          ...(e.diffId ? { diffId: e.diffId } : {}),
        });
    }
  }
  return { image, name, size, steps: [...steps.values()] };
}

/**
 * Gathers what the lessons check: the images (the newest few with their waste and whiteouts, and
 * whether their merged trees hold the `probes` paths), builds and containers.
 */
export async function gatherLessonFacts(
  store: Store,
  explorer: Explorer,
  containers: Containers,
  builds: BuildFact[],
  newest = 6,
  probes: readonly string[] = [],
): Promise<LessonFacts> {
  const lib = summarizeLibrary(await store.meta.list("images"), await store.meta.list("layers"));
  const images: ImageFact[] = [];
  for (const img of lib.images.slice(-newest)) {
    const view = await explorer.image(img.id);
    const fact: ImageFact = {
      id: img.id,
      name: img.names[0] ?? img.id.slice(7, 19),
      source: img.source,
      layers: img.layers.map((l, i) => ({
        id: l.id,
        size: l.size,
        sharedWith: l.sharedWith,
        createdBy: view.history.find((h) => h.layer === i)?.createdBy ?? "",
      })),
      emptyHistory: view.history.filter((h) => h.emptyLayer).length,
    };
    const stack = await explorer.stack(img.id);
    fact.whiteouts = stack.layers.flatMap((l) =>
      l.changeset.whiteouts.map((w) => ({ layer: l.index, path: w.path, opaque: w.opaque })),
    );
    if (probes.length > 0)
      fact.present = Object.fromEntries(probes.map((p) => [p, stack.top.get(p) !== undefined]));
    const eff = computeEfficiency(stack);
    fact.wastedBytes = eff.wastedBytes;
    const top = eff.inefficiencies.find((w) => w.occurrences.some((o) => o.action === "removed"));
    if (top) {
      const written = top.occurrences.find((o) => o.action === "written");
      const removed = top.occurrences.find((o) => o.action === "removed");
      fact.topWaste = {
        path: top.path,
        bytes: top.wastedBytes,
        writtenIn: written?.layer ?? 0,
        removedIn: removed?.layer,
      };
    }
    images.push(fact);
  }
  const cs = await containers.list();
  const facts: ContainerFact[] = [];
  for (const c of cs) {
    const fact: ContainerFact = {
      name: c.name,
      image: c.image,
      added: c.added,
      modified: c.modified,
      removed: c.removed,
    };
    fact.commands = (await containers.record(c.id))?.history?.length ?? 0;
    try {
      const { fs } = await containers.layer(c.id);
      fact.changes = [];
      for (const d of dockerChanges(fs)) {
        const row: NonNullable<ContainerFact["changes"]>[number] = { kind: d.kind, path: d.path };
        if (d.kind === "D") {
          const low = fs.image.get(d.path.slice(1));
          if (low) row.layer = (low.hardlinkTarget ?? low).layer;
        } else {
          const st = await fs.lstat(d.path);
          row.type = st.type;
          row.size = st.isFile ? st.size : 0;
        }
        fact.changes.push(row);
      }
    } catch {
      // A container whose image is gone has no layer to read: its counts are what there is.
    }
    facts.push(fact);
  }
  const names = new Map(lib.images.map((i) => [i.id as string, i.names[0] ?? i.id.slice(7, 19)]));
  const records = (await store.meta.list("kv"))
    .filter((r) => r.id.startsWith("registry-transfers:"))
    .flatMap((r) => (Array.isArray(r.value) ? (r.value as TransferRecord[]) : []));
  const transfers = records
    .sort((a, b) => a.finishedAt - b.finishedAt)
    .map((t) => transferFact(t, names.get(t.image) ?? t.reference));
  return { images, builds, containers: facts, savedBytes: lib.savedBytes, transfers };
}

/** What a lesson reads of one recorded pull or push. */
export function transferFact(t: TransferRecord, image: string): TransferFact {
  const layers = t.blobs.filter((b) => b.role === "layer");
  const moved = layers.filter((b) => b.outcome === "sent" || b.outcome === "received");
  return {
    direction: t.kind,
    image,
    target: t.reference,
    layersSent: moved.length,
    layersTotal: layers.length,
    bytesSent: moved.reduce((n, b) => n + b.size, 0),
    layersSkipped: layers.length - moved.length,
    configMoved: t.blobs.some(
      (b) => b.role === "config" && (b.outcome === "sent" || b.outcome === "received"),
    ),
    manifest: t.manifestDigest,
    at: t.finishedAt,
  };
}
