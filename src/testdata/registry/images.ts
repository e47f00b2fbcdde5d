/**
 * Small generated images for the registry tests: each layer a tar of one file of seeded random
 * bytes (incompressible, so its size is predictable), gzipped; imported into a store through an
 * OCI archive exactly as a person's archive would be.
 */
import { collectBytes } from "../../core/archive/bytes.ts";
import { gzip } from "../../core/archive/compression.ts";
import { writeTar } from "../../core/archive/tar-writer.ts";
import { type Digest, sha256 } from "../../core/digest.ts";
import { importArchive } from "../../core/image/import.ts";
import {
  type ArchiveImage,
  memoryBlob,
  writeDockerArchive,
  writeOciArchive,
} from "../../core/image/layout-writer.ts";
import { MediaType } from "../../core/image/oci.ts";
import { prng } from "../../core/image/synthetic.ts";
import type { ImageRecord, Store } from "../../core/store/types.ts";

/** One layer: a seed and the bytes of its one file. */
export interface LayerSpec {
  seed: number;
  bytes: number;
}

const layerCache = new Map<string, Promise<{ tar: Uint8Array; gz: Uint8Array }>>();

/** The tar and gzip of a layer spec (the same spec always gives the same bytes). */
export function layerBytes(spec: LayerSpec): Promise<{ tar: Uint8Array; gz: Uint8Array }> {
  const key = `${spec.seed}:${spec.bytes}`;
  let p = layerCache.get(key);
  if (!p) {
    p = (async () => {
      const rnd = prng(spec.seed);
      const body = new Uint8Array(spec.bytes);
      for (let i = 0; i < body.length; i += 4) {
        const v = (rnd() * 2 ** 32) >>> 0;
        body[i] = v & 255;
        body[i + 1] = (v >>> 8) & 255;
        body[i + 2] = (v >>> 16) & 255;
        body[i + 3] = v >>> 24;
      }
      const tar = await collectBytes(
        writeTar([
          { name: `seed${spec.seed}`, type: "dir", mtime: 1_700_000_000 },
          { name: `seed${spec.seed}/data.bin`, body, mtime: 1_700_000_000 },
        ]),
      );
      const gz = await collectBytes(
        gzip(
          (async function* () {
            yield tar;
          })(),
          1,
        ),
      );
      return { tar, gz };
    })();
    layerCache.set(key, p);
  }
  return p;
}

/** The ArchiveImage of these layers (gzip), with a config naming their diffIds. */
export async function archiveImage(name: string, layers: LayerSpec[]): Promise<ArchiveImage> {
  const built = await Promise.all(layers.map(layerBytes));
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: await Promise.all(built.map((b) => sha256(b.tar))) },
    history: layers.map((l) => ({ created_by: `layer seed ${l.seed}` })),
  };
  return {
    names: [name],
    config: new TextEncoder().encode(JSON.stringify(config)),
    layers: await Promise.all(
      built.map(async (b) => ({ ...(await memoryBlob(b.gz)), mediaType: MediaType.ociLayerGzip })),
    ),
  };
}

/** The image's OCI archive bytes (for skopeo, and for import). */
export async function ociArchiveBytes(name: string, layers: LayerSpec[]): Promise<Uint8Array> {
  return collectBytes(writeOciArchive([await archiveImage(name, layers)]));
}

/** A docker-archive of the image: its layers as plain tars (as `docker save` writes them). */
export async function dockerArchiveBytes(name: string, layers: LayerSpec[]): Promise<Uint8Array> {
  const img = await archiveImage(name, layers);
  const built = await Promise.all(layers.map(layerBytes));
  const tars = await Promise.all(
    built.map(async (b) => ({ ...(await memoryBlob(b.tar)), mediaType: MediaType.ociLayer })),
  );
  return collectBytes(writeDockerArchive([{ ...img, layers: tars }]));
}

/** Imports a generated image into the store; returns its record. */
export async function storeImage(
  store: Store,
  name: string,
  layers: LayerSpec[],
  format: "oci" | "docker" = "oci",
): Promise<ImageRecord> {
  const bytes =
    format === "oci" ? await ociArchiveBytes(name, layers) : await dockerArchiveBytes(name, layers);
  const r = await importArchive(
    store,
    (async function* () {
      yield bytes;
    })(),
  );
  return r.images[0]!.record;
}

/** The manifest digest of a stored image. */
export function manifestOf(record: ImageRecord): Digest {
  return record.manifest!;
}
