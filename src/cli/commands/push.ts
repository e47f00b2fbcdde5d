import { LayerLabError } from "../../core/errors.ts";
import { type ImportedImage, importArchive } from "../../core/image/import.ts";
import { pushImage } from "../../core/registry/push.ts";
import { formatReference } from "../../core/registry/reference.ts";
import { openArchiveFile } from "../archive-file.ts";
import { type CliIo, type Command, UsageError } from "../command.ts";
import { openTempFileStore } from "../file-store.ts";
import {
  EXIT,
  EXIT_HELP,
  layerPrinter,
  parseRegistryArgs,
  referenceArg,
  registryExit,
  registryOptions,
  summarize,
} from "../registry-flags.ts";

function chooseImage(images: ImportedImage[], name: string | undefined): ImportedImage {
  if (!name) {
    if (images.length === 1) return images[0]!;
    const all = images.map((i) => i.record.names[0] ?? i.record.id).join(", ");
    throw new UsageError(`the archive holds ${images.length} images; pick one with --image (${all})`);
  }
  const hit = images.find(
    (im) =>
      im.record.names.includes(name) ||
      im.record.id.startsWith(name) ||
      im.record.id.slice(7).startsWith(name),
  );
  if (!hit) throw new LayerLabError("NOT_FOUND", `no image named '${name}' in the archive`);
  return hit;
}

export const push: Command = {
  name: "push",
  summary: "push an image archive to a registry, sending only the layers it lacks",
  usage:
    "layerlab push ARCHIVE REF [--image NAME] [--platform OS/ARCH[/VARIANT]] [--json]\n" +
    "       [--username USER --password-stdin] [--insecure-registry HOST:PORT]...\n" +
    "       (REF is NAME[:TAG] or NAME@sha256:...; credentials otherwise from $DOCKER_CONFIG/config.json\n" +
    "       or ~/.docker/config.json; loopback registries are reached over plain HTTP;\n" +
    "       ARCHIVE may be gzip- or zstd-compressed)\n" +
    `       ${EXIT_HELP}`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, bools, positional } = parseRegistryArgs(args, ["image", "platform"]);
    if (positional.length !== 2) throw new UsageError("give an image archive and a target reference");
    const ref = referenceArg(positional[1]!);
    // By byte ranges when it is a plain tar: layers are read in parallel and kept where they are in
    // the archive. A compressed archive streams, its layers copied to the temporary store.
    const archive = await openArchiveFile(positional[0]!, io.cwd, { byRanges: true });
    const options = await registryOptions(flags, bools, ref);
    const platform = flags.get("platform")?.[0];
    const store = openTempFileStore();
    try {
      // File digests are not needed to push, only the layers' own.
      const imported = await importArchive(store, archive.source, {
        ...(platform ? { platform } : {}),
        hashFiles: false,
        // A push moves blobs: their digests are checked, their contents never decompressed.
        blobsOnly: true,
      });
      const image = chooseImage(imported.images, flags.get("image")?.[0]);
      let result: Awaited<ReturnType<typeof pushImage>>;
      try {
        result = await pushImage(store, image.record.id, ref, {
          ...options,
          onProgress: layerPrinter(io, "pushed"),
        });
      } catch (err) {
        return registryExit(err, io, "push");
      }
      const t = result.transfer;
      if (bools.has("json")) {
        io.out(
          `${JSON.stringify({ reference: formatReference(ref), manifestDigest: t.manifestDigest, image: image.record.id, transfer: t }, null, 2)}\n`,
        );
      }
      io.err(`pushed ${formatReference(ref)} (${t.manifestDigest}): ${summarize(t)}\n`);
      return EXIT.ok;
    } finally {
      store.close();
    }
  },
};
