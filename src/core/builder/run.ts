/**
 * RUN in a simulated shell: just-bash interprets the command over the step's LayerFs, so every
 * file the command writes lands in the new layer. LayerLab adds the commands a container has that
 * just-bash lacks (chown, package managers); anything else missing exits 127, as in a container.
 */
import { Bash, type CustomCommand, defineCommand, getCommandNames } from "just-bash";
import { DEFAULT_PATH } from "../dockerfile/resolve.ts";
import { cleanPath } from "../fs/paths.ts";
import { BashFs, type Owner } from "./bash-fs.ts";
import { packageCommands } from "./commands/apt.ts";
import { lsCommand } from "./commands/ls.ts";
import { userCommands } from "./commands/users.ts";
import type { FsNode, LayerFs } from "./layer-fs.ts";
import type { PackageCatalog } from "./types.ts";
import { resolveUser } from "./user-lookup.ts";

/** What one RUN process produced. */
export interface RunOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The shell's environment when the command ended (`cd` shows in PWD), for a shell kept across commands. */
  env?: Record<string, string>;
}

/** How to run one command. */
export interface RunSpec {
  /** The argv BuildKit would exec: `["/bin/sh", "-c", script]` for the shell form. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  owner: Owner;
  packages?: PackageCatalog;
  signal?: AbortSignal;
  /** Makes the shell's filesystem (a container's terminal checks permissions in its own BashFs). */
  bashFs?: (fs: LayerFs, owner: Owner) => BashFs;
}

const SHELLS = new Set(["/bin/sh", "/bin/bash", "sh", "bash", "/usr/bin/bash", "/bin/ash", "/bin/dash"]);

function quote(arg: string): string {
  return /^[A-Za-z0-9_\-./=:@%+,]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function chownCommand(bfs: BashFs): CustomCommand {
  return defineCommand("chown", async (args, ctx) => {
    let recursive = false;
    let noDeref = false;
    const rest: string[] = [];
    for (const a of args) {
      if (a === "-R" || a === "--recursive") recursive = true;
      else if (a === "-h" || a === "--no-dereference") noDeref = true;
      else if (/^-[Rhv]+$/.test(a)) {
        if (a.includes("R")) recursive = true;
        if (a.includes("h")) noDeref = true;
      } else rest.push(a);
    }
    const [spec, ...paths] = rest;
    if (!spec || paths.length === 0) return { stdout: "", stderr: "chown: missing operand\n", exitCode: 1 };
    let ids: { uid?: number; gid?: number };
    try {
      if (spec.startsWith(":")) {
        const g = await resolveUser(bfs.fs, `0${spec}`, "chown");
        ids = { gid: g.gid };
      } else {
        const r = await resolveUser(bfs.fs, spec.replace(/\.$/, ""), "chown");
        ids = spec.includes(":") ? r : { uid: r.uid };
      }
    } catch {
      return { stdout: "", stderr: `chown: invalid user: '${spec}'\n`, exitCode: 1 };
    }
    let err = "";
    const apply = async (p: string, top: boolean): Promise<void> => {
      bfs.chown(p, ids.uid, ids.gid, top ? !noDeref : false);
      if (!recursive) return;
      const st = await bfs.lstat(p);
      if (!st.isDirectory) return;
      for (const name of await bfs.readdir(p)) await apply(`${p.replace(/\/$/, "")}/${name}`, false);
    };
    for (const p of paths) {
      try {
        await apply(bfs.resolvePath(ctx.cwd, p), true);
      } catch {
        err += `chown: ${p}: No such file or directory\n`;
      }
    }
    return { stdout: "", stderr: err, exitCode: err ? 1 : 0 };
  });
}

let shellCommands: Set<string> | undefined;

/** The executable files of the image's PATH directories, by name (the first one PATH finds). */
function pathExecutables(fs: LayerFs, path: string): Map<string, { dir: string; node: FsNode }> {
  const out = new Map<string, { dir: string; node: FsNode }>();
  for (const dir of path.split(":")) {
    if (!dir.startsWith("/")) continue;
    let real: string;
    try {
      const r = fs.resolve(cleanPath(dir), true);
      if (r.node?.type !== "dir") continue;
      real = r.path;
    } catch {
      continue;
    }
    for (const name of fs.childrenOf(real)) {
      if (out.has(name)) continue;
      try {
        const node = fs.resolve(`${real}/${name}`, true).node;
        if (node?.type === "file" && (node.mode & 0o111) !== 0) out.set(name, { dir, node });
      } catch {
        // A dangling link is not a command.
      }
    }
  }
  return out;
}

/**
 * Programs of the image the simulated shell cannot run: executables on PATH that are binaries
 * (synthesized or ELF contents), not just-bash commands or scripts. Each becomes a command that
 * says so and exits 126, instead of the shell trying to parse machine code as a script.
 */
function binaryStubs(exes: Map<string, { dir: string; node: FsNode }>, taken: Set<string>): CustomCommand[] {
  shellCommands ??= new Set(getCommandNames());
  const out: CustomCommand[] = [];
  for (const [name, { dir, node }] of exes) {
    if (taken.has(name) || shellCommands.has(name)) continue;
    const data = node.data;
    const binary = data ? data[0] === 0x7f && data[1] === 0x45 : node.ref?.kind !== "inline";
    // A script for another interpreter (#!/usr/bin/python3) cannot run either; shell scripts can.
    const head = data && !binary ? new TextDecoder().decode(data.subarray(0, 128)) : "";
    const interp = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
    const interpName = interp ? (interp[1]?.endsWith("/env") ? (interp[2] ?? "") : (interp[1] ?? "")) : "";
    const foreignScript = interp !== null && !/(^|\/)(sh|bash|ash|dash)$/.test(interpName);
    if (!binary && !foreignScript) continue;
    taken.add(name);
    const why =
      name === "apk"
        ? `it needs Alpine's package index, and no Alpine mirror was reachable when LayerLab's package catalog was gathered, so apk cannot be simulated with real data (apt-get, pip and npm can)`
        : binary
          ? `${dir}/${name} comes from the image's file list and its bytes are synthesized, not the real binary`
          : `${dir}/${name} is a script for ${interpName}, which LayerLab does not have`;
    out.push(
      defineCommand(name, async () => ({
        stdout: "",
        stderr: `${name}: LayerLab cannot run this program: ${why}. The shell and its utilities run; other programs only exist as files.\n`,
        exitCode: 126,
      })),
    );
  }
  return out;
}

/** Runs one RUN command over the filesystem; never throws for a failing command (that is data). */
export async function runCommand(fs: LayerFs, spec: RunSpec): Promise<RunOutcome> {
  const [exe = "", ...rest] = spec.argv;
  // The executable must exist in the image, as runc requires: FROM scratch has no /bin/sh.
  if (exe.startsWith("/")) {
    let found = false;
    try {
      found = fs.resolve(exe.slice(1), true).node !== undefined;
    } catch {
      found = false;
    }
    if (!found) {
      return {
        exitCode: 127,
        stdout: "",
        stderr: `runc run failed: unable to start container process: exec: "${exe}": stat ${exe}: no such file or directory\n`,
      };
    }
  }
  const bfs = spec.bashFs?.(fs, spec.owner) ?? new BashFs(fs, spec.owner);
  const exes = pathExecutables(fs, spec.env.PATH ?? DEFAULT_PATH);
  // LayerLab's own versions of programs the image has (a command the image lacks stays "not found").
  const own = [chownCommand(bfs), lsCommand(bfs), ...userCommands(bfs)].filter((c) => exes.has(c.name));
  const custom: CustomCommand[] = [...own, ...packageCommands(bfs, spec.packages)];
  custom.push(...binaryStubs(exes, new Set(custom.map((c) => c.name))));
  for (const c of custom) bfs.routed.add(c.name);
  const bash = new Bash({
    fs: bfs,
    cwd: spec.cwd,
    env: spec.env,
    customCommands: custom,
    processInfo: { uid: spec.owner.uid, gid: spec.owner.gid },
    executionLimits: {
      maxCommandCount: 1_000_000,
      maxLoopIterations: 1_000_000,
      maxOutputSize: 64 * 1024 * 1024,
    },
  });
  let script: string;
  if (SHELLS.has(exe) && rest[0] === "-c") script = rest[1] ?? "";
  else script = spec.argv.map(quote).join(" ");
  const r = await bash.exec(script, {
    cwd: spec.cwd,
    env: spec.env,
    replaceEnv: true,
    rawScript: true,
    ...(spec.signal ? { signal: spec.signal } : {}),
  });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, env: r.env };
}
