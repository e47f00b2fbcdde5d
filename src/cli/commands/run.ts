import { resolve } from "node:path";
import { Containers } from "../../core/explore/containers.ts";
import { Explorer } from "../../core/explore/explorer.ts";
import { Shells } from "../../core/explore/shells.ts";
import { storeContentReader } from "../../core/fs/container-store.ts";
import { formatDockerDiff } from "../../core/fs/docker-diff.ts";
import { exportImage } from "../../core/image/export.ts";
import { type CliIo, type Command, parseArgs, UsageError } from "../command.ts";
import { writeFileWhole } from "../write-file.ts";
import { importFile, importFlags } from "./inspect.ts";

export const run: Command = {
  name: "run",
  summary: "run a command in a fresh container over an image archive, then print its changes as docker diff",
  usage:
    "layerlab run ARCHIVE [--platform OS/ARCH] [-u USER] [-w DIR] [--commit OUT.tar [-t NAME]] -- COMMAND [ARGS...]\n" +
    "  The command runs as `docker run IMAGE COMMAND ARGS...` starts it (no shell around it: give\n" +
    "  `sh -c '...'` for one), in LayerLab's simulated shell with the image's Env, WorkingDir and User.\n" +
    "  Its output is printed, then the container layer's changes as `docker diff` prints them (A/C/D).\n" +
    "  -u/--user and -w/--workdir override the image's User and WorkingDir, as in docker run.\n" +
    "  With --commit, the image plus the container layer is written as a new docker-archive.\n" +
    "  ARCHIVE may be gzip- or zstd-compressed (docker save | gzip), as docker load accepts.\n" +
    "  The exit code is the command's.",
  async run(args: string[], io: CliIo): Promise<number> {
    const dash = args.indexOf("--");
    if (dash < 0) throw new UsageError("give the command after --, e.g. layerlab run image.tar -- ls /");
    const argv = args.slice(dash + 1);
    if (argv.length === 0) throw new UsageError("no command after --");
    const { flags, positional } = parseArgs(args.slice(0, dash), {
      flags: ["platform", "commit", "tag", "max-layer-size", "user", "workdir"],
      short: { "-t": "tag", "-u": "user", "-w": "workdir" },
    });
    if (positional.length !== 1) throw new UsageError("give exactly one image archive");
    const tag = flags.get("tag")?.[0];
    const commitTo = flags.get("commit")?.[0];
    if (tag && !commitTo)
      throw new UsageError("-t NAME names the committed image: give --commit OUT.tar too");
    const { store, result } = await importFile(positional[0]!, io, importFlags(flags));
    if (result.images.length !== 1) {
      const all = result.images.map((i) => i.record.names[0] ?? i.record.id).join(", ");
      throw new UsageError(`the archive holds ${result.images.length} images (${all}); export one alone`);
    }
    const image = result.images[0]!.record;
    const explorer = new Explorer(store);
    const read = storeContentReader(store);
    const containers = new Containers(store, explorer, read);
    const shells = new Shells(containers, explorer, read);
    const user = flags.get("user")?.[0];
    const workingDir = flags.get("workdir")?.[0];
    const c = await containers.create(image.id, undefined, {
      ...(user ? { user } : {}),
      ...(workingDir ? { workingDir } : {}),
    });
    const r = await shells.exec(c.id, argv.join(" "), undefined, argv);
    io.out(r.stdout);
    io.err(r.stderr);
    io.err(`# docker diff ${c.name} (exit code ${r.exitCode})\n`);
    io.out(formatDockerDiff((await shells.diff(c.id)).changes));
    if (commitTo) {
      const name = tag ? (tag.includes(":") ? tag : `${tag}:latest`) : "";
      const committed = await containers.commit(c.id, name);
      const target = resolve(io.cwd, commitTo);
      await writeFileWhole(
        target,
        exportImage(store, committed.image, { format: "docker", ...(name ? { names: [name] } : {}) }),
      );
      io.err(`committed ${c.name} as ${name || committed.image.slice(0, 19)}: wrote ${commitTo}\n`);
    }
    return r.exitCode;
  },
};
