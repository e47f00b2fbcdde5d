import { resolve } from "node:path";
import { type ExportFormat, exportImage } from "../../core/image/export.ts";
import { pullImage } from "../../core/registry/pull.ts";
import { formatReference } from "../../core/registry/reference.ts";
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
import { writeFileWhole } from "../write-file.ts";

export const pull: Command = {
  name: "pull",
  summary: "pull an image from a registry and write it as a docker-archive or OCI layout archive",
  usage:
    "layerlab pull REF -o OUT.tar [--platform OS/ARCH[/VARIANT]] [--format docker|oci] [--json]\n" +
    "       [--username USER --password-stdin] [--insecure-registry HOST:PORT]...\n" +
    "       (credentials otherwise from $DOCKER_CONFIG/config.json or ~/.docker/config.json;\n" +
    "       loopback registries are reached over plain HTTP)\n" +
    `       ${EXIT_HELP}`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, bools, positional } = parseRegistryArgs(args, ["output", "platform", "format"], {
      "-o": "output",
    });
    if (positional.length !== 1) throw new UsageError("give exactly one image reference");
    const output = flags.get("output")?.[0];
    if (!output) throw new UsageError("-o OUT.tar is required");
    const format = (flags.get("format")?.[0] ?? "docker") as ExportFormat;
    if (format !== "docker" && format !== "oci")
      throw new UsageError(`--format must be docker or oci, not '${format}'`);
    const ref = referenceArg(positional[0]!);
    const platform = flags.get("platform")?.[0];
    const store = openTempFileStore();
    const target = resolve(io.cwd, output);
    try {
      let result: Awaited<ReturnType<typeof pullImage>>;
      try {
        result = await pullImage(store, ref, {
          ...(await registryOptions(flags, bools, ref)),
          ...(platform ? { platform } : {}),
          // Writing an archive needs the layers' digests, not every file's.
          hashFiles: false,
          // An OCI archive keeps the layers as pulled: their digests are checked as they stream and
          // nothing is decompressed. A docker-archive holds the tars, whose sizes come from reading them.
          ...(format === "oci" ? { blobsOnly: true } : {}),
          onProgress: layerPrinter(io, "pulled"),
        });
      } catch (err) {
        return registryExit(err, io, "pull");
      }
      await writeFileWhole(
        target,
        exportImage(store, result.record.id, { format, names: result.record.names }),
      );
      const t = result.transfer;
      if (bools.has("json")) {
        io.out(
          `${JSON.stringify(
            {
              reference: formatReference(ref),
              manifestDigest: t.manifestDigest,
              image: result.record.id,
              platform: result.record.platform,
              output,
              format,
              transfer: t,
            },
            null,
            2,
          )}\n`,
        );
      }
      io.err(`pulled ${formatReference(ref)} (${t.manifestDigest}): ${summarize(t)}\n`);
      io.err(`wrote ${result.record.names[0] ?? result.record.id} as a ${format} archive to ${output}\n`);
      return EXIT.ok;
    } finally {
      store.close();
    }
  },
};
