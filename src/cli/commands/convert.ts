import { resolve } from "node:path";
import { LayerLabError } from "../../core/errors.ts";
import { type ExportFormat, exportImage } from "../../core/image/export.ts";
import type { ImportedImage } from "../../core/image/import.ts";
import { type CliIo, type Command, parseArgs, UsageError } from "../command.ts";
import { writeFileWhole } from "../write-file.ts";
import { importFile, importFlags } from "./inspect.ts";

/** Finds the image NAME means: a full name, a name without its registry, or an ID prefix. */
function chooseImage(
  images: ImportedImage[],
  name: string | undefined,
): { image: ImportedImage; names?: string[] } {
  if (!name) {
    if (images.length === 1) return { image: images[0]! };
    const all = images.map((i) => i.record.names[0] ?? i.record.id).join(", ");
    throw new UsageError(`the archive holds ${images.length} images; pick one with --image (${all})`);
  }
  const strip = (n: string) => n.replace(/^docker\.io\/(library\/)?/, "");
  for (const im of images) {
    const hit = im.record.names.find((n) => n === name || strip(n) === strip(name));
    if (hit) return { image: im, names: [name] };
  }
  const byId = images.filter((im) => im.record.id.startsWith(name) || im.record.id.slice(7).startsWith(name));
  if (byId.length === 1) return { image: byId[0]! };
  throw new LayerLabError("NOT_FOUND", `no image named '${name}' in the archive`);
}

export const convert: Command = {
  name: "convert",
  summary: "read an image archive and write one image back as a docker-archive or OCI layout archive",
  usage:
    "layerlab convert IN.tar -o OUT.tar [--format docker|oci] [--image NAME] [--platform OS/ARCH] [--max-layer-size SIZE]\n" +
    "       (IN.tar may be gzip- or zstd-compressed; OUT.tar is written uncompressed)",
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, positional } = parseArgs(args, {
      flags: ["output", "format", "image", "platform", "max-layer-size"],
      short: { "-o": "output" },
    });
    if (positional.length !== 1) throw new UsageError("give exactly one input archive");
    const output = flags.get("output")?.[0];
    if (!output) throw new UsageError("-o OUT is required");
    const format = (flags.get("format")?.[0] ?? "docker") as ExportFormat;
    if (format !== "docker" && format !== "oci")
      throw new UsageError(`--format must be docker or oci, not '${format}'`);
    const { store, result } = await importFile(positional[0]!, io, importFlags(flags));
    const { image, names } = chooseImage(result.images, flags.get("image")?.[0]);
    const target = resolve(io.cwd, output);
    await writeFileWhole(
      target,
      exportImage(store, image.record.id, { format, ...(names ? { names } : {}) }),
    );
    io.err(`wrote ${image.record.names[0] ?? image.record.id} as a ${format} archive to ${output}\n`);
    return 0;
  },
};
