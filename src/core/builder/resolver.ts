/**
 * Where FROM and COPY --from find images: the Store (imported archives, earlier builds, committed
 * containers) by name:tag, digest or ID prefix, then any further resolvers (built-in bases).
 */
import { synthesizeContent } from "../catalog/synthesize.ts";
import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import { storeContentReader } from "../image/changeset-tar.ts";
import { decodeLayerIndex } from "../image/layer-index.ts";
import { findImage } from "../library/library.ts";
import type { ImageRecord, Store } from "../store/types.ts";
import type { ContentReader } from "./layer-fs.ts";
import type { BaseImage, BuildImageConfig, ImageResolver } from "./types.ts";

/** Reads contents that need no store: inline bytes and synthetic seeds. */
export const basicContentReader: ContentReader = async (ref, size) => {
  if (ref.kind === "inline") return ref.bytes;
  if (ref.kind === "synthetic") return synthesizeContent(ref.seed, size);
  throw new LayerLabError("NOT_FOUND", `content in ${ref.kind} ${ref.blob} needs the store`);
};

/** Reads contents from the store (layer tars, blobs), inline bytes and synthetic seeds. */
export { storeContentReader } from "../image/changeset-tar.ts";

/** The spellings of a reference the store may hold it under (docker.io/library/x:tag is x:tag). */
export function referenceVariants(ref: string): string[] {
  const r = ref.trim();
  const out = [r];
  const stripped = r.replace(/^(docker\.io\/)?(library\/)?/, "").replace(/^localhost\//, "");
  if (stripped !== r) out.push(stripped);
  if (!r.includes("/")) out.push(`docker.io/library/${r}`, `localhost/${r}`);
  return out;
}

/** Resolves images stored in the Store. */
export function storeResolver(store: Store): ImageResolver {
  const readContent = storeContentReader(store);
  return {
    readContent,
    async resolve(ref) {
      const images = await store.meta.list("images");
      let rec: ImageRecord | undefined;
      const at = ref.indexOf("@sha256:");
      if (at >= 0) {
        // name@digest: the manifest digest (as registries name images) or the image ID.
        const digest = ref.slice(at + 1);
        rec = images.find((i) => i.manifest === digest || i.id === digest);
      }
      for (const v of rec ? [] : referenceVariants(ref)) {
        rec = findImage(images, v);
        if (rec) break;
      }
      if (!rec) return undefined;
      const cfgBytes = await store.blobs.get(rec.config);
      if (!cfgBytes)
        throw new LayerLabError(
          "NOT_FOUND",
          `${ref}: its config blob ${rec.config} is missing from the store`,
        );
      const config = JSON.parse(new TextDecoder().decode(cfgBytes)) as BuildImageConfig;
      const layers: BaseImage["layers"] = [];
      for (const id of rec.layers) {
        const l = await store.meta.get("layers", id);
        if (!l?.index)
          throw new LayerLabError("NOT_FOUND", `${ref}: layer ${id} has no entry index in the store`);
        const idx = await store.blobs.get(l.index);
        if (!idx) throw new LayerLabError("NOT_FOUND", `${ref}: the entry index of layer ${id} is missing`);
        const cs = decodeLayerIndex(idx, id as Digest);
        layers.push({ diffId: id, changeset: { entries: cs.entries, whiteouts: cs.whiteouts } });
      }
      const img: BaseImage = { ref, id: rec.id, config, layers };
      if (rec.notes?.standIn) img.standIn = rec.notes.standIn;
      return img;
    },
  };
}

/** Tries resolvers in order; contents are read by the first (the store reader covers all kinds). */
export function chainResolvers(...resolvers: ImageResolver[]): ImageResolver {
  const first = resolvers[0];
  if (!first) throw new LayerLabError("BUILD", "no image resolver");
  return {
    readContent: first.readContent,
    async resolve(ref, platform) {
      for (const r of resolvers) {
        const img = await r.resolve(ref, platform);
        if (img) return img;
      }
      return undefined;
    },
  };
}
