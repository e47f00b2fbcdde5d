import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { buildImage } from "../../core/builder/builder.ts";
import { builtinResolver } from "../../core/builder/builtins.ts";
import { BuildCache } from "../../core/builder/cache.ts";
import type { BuildContext, ContextEntry } from "../../core/builder/context.ts";
import { renderEvent } from "../../core/builder/log.ts";
import { DockerfileError } from "../../core/errors.ts";
import { exportImage } from "../../core/image/export.ts";
import { importArchive } from "../../core/image/import.ts";
import { openMemoryStore } from "../../core/store/memory.ts";
import { openArchiveFile } from "../archive-file.ts";
import { readCatalogFile } from "../catalog-files.ts";
import { type Command, parseArgs, UsageError } from "../command.ts";
import { writeFileWhole } from "../write-file.ts";

/** A build context over a directory: files are listed once, read when COPY needs them. */
export function contextFromDirectory(root: string): BuildContext {
  let listed: ContextEntry[] | undefined;
  const walk = async (dir: string, out: ContextEntry[]): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const st = await lstat(abs);
      const path = relative(root, abs).split("\\").join("/");
      if (st.isSymbolicLink())
        out.push({ path, type: "symlink", mode: 0o777, size: 0, target: await readlink(abs) });
      else if (st.isDirectory()) {
        out.push({ path, type: "dir", mode: st.mode & 0o7777, size: 0 });
        await walk(abs, out);
      } else if (st.isFile()) out.push({ path, type: "file", mode: st.mode & 0o7777, size: st.size });
    }
  };
  return {
    async list() {
      if (!listed) {
        const out: ContextEntry[] = [];
        await walk(root, out);
        listed = out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      }
      return listed;
    },
    async read(path) {
      return new Uint8Array(await readFile(join(root, path)));
    },
  };
}

export const build: Command = {
  name: "build",
  summary: "build a Dockerfile into an image archive (offline, like docker build)",
  usage:
    "layerlab build [-f Dockerfile] [-t name:tag] [--build-arg K=V]... [--target S] [--no-cache] [--load ARCHIVE]... -o OUT.tar CONTEXT\n" +
    "       (--load ARCHIVE: an image archive, gzip- or zstd-compressed or not, whose images FROM may name)",
  async run(args, io) {
    const p = parseArgs(args, {
      flags: ["file", "target", "output"],
      multi: ["tag", "build-arg", "load"],
      bools: ["no-cache", "quiet"],
      short: { "-f": "file", "-t": "tag", "-o": "output", "-q": "quiet" },
    });
    const [ctxArg, ...extra] = p.positional;
    if (!ctxArg) throw new UsageError("build needs a CONTEXT directory");
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const out = p.flags.get("output")?.[0];
    if (!out) throw new UsageError("build needs -o OUT.tar (the image is written as a docker-archive)");
    const abs = (x: string) => (isAbsolute(x) ? x : resolve(io.cwd, x));
    const ctxDir = abs(ctxArg);
    const dfPath = p.flags.get("file")?.[0]
      ? abs(p.flags.get("file")?.[0] as string)
      : join(ctxDir, "Dockerfile");
    let dockerfile: string;
    try {
      dockerfile = await readFile(dfPath, "utf8");
    } catch {
      io.err(`layerlab build: cannot read the Dockerfile ${dfPath}\n`);
      return 1;
    }
    const buildArgs: Record<string, string> = {};
    for (const kv of p.flags.get("build-arg") ?? []) {
      const i = kv.indexOf("=");
      if (i < 0) buildArgs[kv] = process.env[kv] ?? "";
      else buildArgs[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const store = openMemoryStore();
    for (const archive of p.flags.get("load") ?? []) {
      const r = await importArchive(store, (await openArchiveFile(archive, io.cwd)).source);
      for (const im of r.images) io.err(`loaded ${im.record.names.join(", ") || im.record.id}\n`);
    }
    const tags = p.flags.get("tag") ?? [];
    const quiet = p.bools.has("quiet");
    const target = p.flags.get("target")?.[0];
    let result: Awaited<ReturnType<typeof buildImage>>;
    try {
      result = await buildImage({
        dockerfile,
        context: contextFromDirectory(ctxDir),
        store,
        builtins: builtinResolver((f) => readCatalogFile(f).catch(() => undefined)),
        tags,
        buildArgs,
        ...(target ? { target } : {}),
        noCache: p.bools.has("no-cache"),
        cache: new BuildCache(),
        onEvent: (e) => {
          if (!quiet) {
            const line = renderEvent(e);
            if (line) io.err(line);
          }
        },
      });
    } catch (e) {
      if (!(e instanceof DockerfileError)) throw e;
      // Printed as `layerlab parse` prints it: the same verdict at the same place.
      const at = `${dfPath}:${e.range.start.line}:${e.range.start.column}`;
      io.err(`${at}: error: ${e.message.replace(/^line \d+, column \d+: /, "")}\n`);
      return 1;
    }
    // Streamed to OUT.partial and renamed: a full disk fails naming the file and leaves none.
    await writeFileWhole(
      abs(out),
      exportImage(store, result.id, { format: "docker", ...(tags.length ? { names: tags } : {}) }),
    );
    io.out(`${result.id}\n`);
    return 0;
  },
};
