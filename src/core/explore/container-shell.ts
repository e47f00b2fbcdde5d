/**
 * `docker run -it IMAGE /bin/sh` in the page: a shell attached to a container, running the same
 * simulated shell RUN uses (just-bash with LayerLab's commands) over the container's merged view.
 *
 * The shell works on a LayerFs (the builder's filesystem, so every RUN command behaves the same)
 * whose every write is mirrored, as it happens, into the container layer (`ContainerFs.put` /
 * `rm`): copy-up, whiteouts and opaque directories follow overlayfs, and the image's read-only
 * layers never change. Writes are checked against POSIX permissions for the container's user, so a
 * non-root USER gets EACCES where a real container would.
 */
import type { FsStat } from "just-bash";
import { BashFs, type Owner } from "../builder/bash-fs.ts";
import { entryOfNode, type FsNode, LayerFs } from "../builder/layer-fs.ts";
import { type RunOutcome, runCommand } from "../builder/run.ts";
import type { PackageCatalog } from "../builder/types.ts";
import { homeOf, resolveUser } from "../builder/user-lookup.ts";
import { FsError, LayerLabError } from "../errors.ts";
import type { ContainerFs, ContentReader } from "../fs/container.ts";
import { cleanPath as toRel } from "../fs/paths.ts";
import type { FileEntry } from "../fs/types.ts";
import type { ContainerConfig } from "../image/oci.ts";

/** A LayerFs whose changes also land in a container layer (once `target` is set). */
export class MirroredLayerFs extends LayerFs {
  target: ContainerFs | undefined;
  /** The first failure to mirror a removal (the two views disagreed), reported by the session. */
  mirrorError: unknown;
  /** Nested calls (removeTree inside putNode, recursion) are mirrored once, by the outer call. */
  private depth = 0;

  override putNode(path: string, node: FsNode, contentChanged = true): void {
    this.depth++;
    try {
      super.putNode(path, node, contentChanged);
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.target?.put(entryOf(path, node));
  }

  override updateNode(path: string, node: FsNode): void {
    super.updateNode(path, node);
    if (this.depth === 0) this.target?.put(entryOf(path, node));
  }

  override removeTree(path: string): void {
    const existed = this.nodeAt(path) !== undefined;
    this.depth++;
    try {
      super.removeTree(path);
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && existed && this.target) {
      this.target.rm(`/${path}`, { recursive: true, force: true }).catch((err: unknown) => {
        this.mirrorError ??= err;
      });
    }
  }
}

function entryOf(path: string, n: FsNode): FileEntry {
  const e = entryOfNode(path, n);
  // Inline bytes are the contents; a digest beside them would go stale as the shell rewrites them.
  if (n.data) delete e.digest;
  return e;
}

/** EACCES, worded as Node (and so just-bash's commands) word it. */
function accessError(op: string, path: string): FsError {
  return new FsError("EACCES", path, undefined, op);
}

/** EPERM for what only the owner (or root) may do. */
function notOwnerError(op: string, path: string): FsError {
  return new FsError("EPERM", path, undefined, op);
}

// just-bash blocks timers and clocks while a script runs (defense in depth against scripts); this
// host code keeps the originals, taken when the module loads, to let the thread breathe.
const hostNow: () => number = performance.now.bind(performance);
const hostSetTimeout: (fn: () => void, ms: number) => unknown = setTimeout.bind(globalThis);
const HostChannel: typeof MessageChannel | undefined = globalThis.MessageChannel;

/**
 * One turn of the event loop. A message on a fresh channel, not setTimeout(0): timers set from
 * timers are clamped to 4 ms after a few levels, which a long command would pay every time.
 */
function yieldToEventLoop(): Promise<void> {
  if (!HostChannel) return new Promise<void>((resolve) => hostSetTimeout(resolve, 0));
  return new Promise<void>((resolve) => {
    const ch = new HostChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
    ch.port2.close();
  });
}

/**
 * The shell's filesystem with POSIX permission checks for a non-root user: creating or removing
 * a name needs write and search permission on its directory, writing a file needs write
 * permission on it, chmod and utimes need ownership, chown needs root.
 */
export class PermissionedBashFs extends BashFs {
  private lastYield = 0;

  /**
   * Lets the thread's other tasks run every few milliseconds: just-bash only awaits promises that
   * are already settled, and a Ctrl+C (the cancel message) can only arrive between tasks.
   */
  private async breathe(): Promise<void> {
    const now = hostNow();
    if (now - this.lastYield < 25) return;
    this.lastYield = now;
    await yieldToEventLoop();
  }

  override async exists(path: string): Promise<boolean> {
    await this.breathe();
    return super.exists(path);
  }

  override async stat(path: string): Promise<FsStat> {
    await this.breathe();
    return super.stat(path);
  }

  override async readFileBuffer(path: string): Promise<Uint8Array> {
    await this.breathe();
    return super.readFileBuffer(path);
  }

  private allowed(node: FsNode, want: number): boolean {
    const { uid, gid } = this.owner;
    if (uid === 0) return true;
    const bits =
      node.uid === uid ? (node.mode >> 6) & 7 : node.gid === gid ? (node.mode >> 3) & 7 : node.mode & 7;
    return (bits & want) === want;
  }

  /** Write and search permission on the directory holding `path`. */
  private checkDir(path: string, op: string): void {
    if (this.owner.uid === 0) return;
    const rel = toRel(path);
    const i = rel.lastIndexOf("/");
    let dir: FsNode | undefined;
    try {
      dir = this.fs.resolve(i < 0 ? "" : rel.slice(0, i), true, op).node;
    } catch {
      return; // The operation itself reports the missing parent.
    }
    if (dir && !this.allowed(dir, 3)) throw accessError(op, path);
  }

  private existingNode(path: string, follow: boolean): FsNode | undefined {
    try {
      return this.fs.resolve(toRel(path), follow).node;
    } catch {
      return undefined;
    }
  }

  override async writeBytes(path: string, bytes: Uint8Array, mode?: number, added?: number): Promise<void> {
    await this.breathe();
    if (this.owner.uid !== 0 && !/^\/dev\//.test(`/${toRel(path)}`)) {
      const node = this.existingNode(path, true);
      if (node) {
        if (node.type === "file" && !this.allowed(node, 2)) throw accessError("open", path);
      } else this.checkDir(path, "open");
    }
    return super.writeBytes(path, bytes, mode, added);
  }

  override mkdirSync(path: string, recursive: boolean, mode?: number, owner?: Owner): void {
    if (!this.existingNode(path, true)) this.checkDir(path, "mkdir");
    super.mkdirSync(path, recursive, mode, owner);
  }

  override async rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
    if (this.existingNode(path, false)) this.checkDir(path, "rm");
    return super.rm(path, options);
  }

  override async mv(src: string, dest: string): Promise<void> {
    this.checkDir(src, "rename");
    this.checkDir(dest, "rename");
    return super.mv(src, dest);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    this.checkDir(linkPath, "symlink");
    return super.symlink(target, linkPath);
  }

  override async link(existingPath: string, newPath: string): Promise<void> {
    this.checkDir(newPath, "link");
    return super.link(existingPath, newPath);
  }

  override async chmod(path: string, mode: number): Promise<void> {
    const node = this.existingNode(path, true);
    if (node && this.owner.uid !== 0 && node.uid !== this.owner.uid) throw notOwnerError("chmod", path);
    return super.chmod(path, mode);
  }

  override chown(path: string, uid: number | undefined, gid: number | undefined, follow = true): void {
    if (this.owner.uid !== 0) throw notOwnerError("chown", path);
    super.chown(path, uid, gid, follow);
  }

  override async utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    const node = this.existingNode(path, true);
    if (node && this.owner.uid !== 0 && node.uid !== this.owner.uid && !this.allowed(node, 2))
      throw accessError("utime", path);
    return super.utimes(path, atime, mtime);
  }
}

/** Builds the shell's LayerFs from what the container sees now (the image plus its layer). */
export function mirrorContainer(fs: ContainerFs, read: ContentReader, epoch: number): MirroredLayerFs {
  const lfs = new MirroredLayerFs(read, epoch);
  const entries: FileEntry[] = [];
  let root: FileEntry | undefined;
  for (const n of fs.tree().walk()) {
    const e = n.hardlinkTarget ? { ...n.hardlinkTarget.entry, path: n.path } : { ...n.entry, path: n.path };
    if (n.path === "") root = e;
    else entries.push(e);
  }
  lfs.applyChangeset({ entries, whiteouts: [] });
  if (root)
    lfs.updateNode("", { ...(lfs.nodeAt("") as FsNode), mode: root.mode, uid: root.uid, gid: root.gid });
  lfs.target = fs;
  return lfs;
}

/** What a container starts with, from its image's config. */
export interface ShellStart {
  user: string;
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string>;
  /** Entrypoint + Cmd as Docker would have started them, e.g. `/bin/sh -c python3 /app/app.py`. */
  command: string;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Applies an image's config as `docker run` does: Env (PATH defaulted), WorkingDir (made when
 * missing), User resolved through the image's /etc/passwd, HOME from it, HOSTNAME the container's.
 */
export async function startOf(
  lfs: LayerFs,
  config: ContainerConfig | undefined,
  hostname: string,
): Promise<ShellStart> {
  const env: Record<string, string> = {};
  for (const kv of config?.Env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOSTNAME = hostname;
  env.TERM ??= "xterm";
  const userSpec = config?.User?.trim() ?? "";
  const ids = userSpec ? await resolveUser(lfs, userSpec, "user") : { uid: 0, gid: 0 };
  env.HOME ??= await homeOf(lfs, ids.uid);
  let user = String(ids.uid);
  try {
    const r = lfs.resolve("etc/passwd", true);
    if (r.node) {
      const text = new TextDecoder().decode(await lfs.contentOf(r.node));
      const row = text.split("\n").find((l) => l.split(":")[2] === String(ids.uid));
      if (row) user = row.split(":")[0] ?? user;
    }
  } catch {
    // No passwd file: the numeric id is the name, as `whoami` says in such images.
  }
  const cwd = config?.WorkingDir ? `/${toRel(config.WorkingDir)}` : "/";
  env.PWD = cwd;
  const argv = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
  return { user, uid: ids.uid, gid: ids.gid, cwd, env, command: argv.join(" ") };
}

const ERRNO_WORDS: Record<string, string> = {
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  ENOSPC: "No space left on device",
};

/** How to run one command line in a container's shell. */
export interface ShellExec {
  line: string;
  /** Run this argv as `docker run IMAGE ARGV...` does (no shell around it) instead of the line. */
  argv?: string[];
  cwd: string;
  env: Record<string, string>;
  owner: Owner;
  packages?: PackageCatalog;
  signal?: AbortSignal;
}

/** What a command line did; the shell's cwd and env afterwards. */
export interface ShellOutcome extends RunOutcome {
  cwd: string;
  env: Record<string, string>;
}

/**
 * Runs one command line with the RUN shell over the mirrored filesystem. A failing command is
 * data (its exit status and the shell's own error), never an exception; cancellation is too (130).
 */
export async function execLine(lfs: MirroredLayerFs, spec: ShellExec): Promise<ShellOutcome> {
  lfs.beginStep();
  let r: RunOutcome;
  try {
    r = await runCommand(lfs, {
      argv: spec.argv ?? ["/bin/sh", "-c", spec.line],
      env: spec.env,
      cwd: spec.cwd,
      owner: spec.owner,
      bashFs: (fs, owner) => new PermissionedBashFs(fs, owner),
      ...(spec.packages ? { packages: spec.packages } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
  } catch (err) {
    if (spec.signal?.aborted) r = { exitCode: 130, stdout: "", stderr: "^C\n" };
    else if (err instanceof FsError) {
      // A redirection just-bash lets through: bash's own words for it, and the line stops there.
      r = { exitCode: 1, stdout: "", stderr: `bash: ${err.path}: ${ERRNO_WORDS[err.code] ?? err.message}\n` };
    } else throw err;
  }
  // Interrupted: 130 (128 + SIGINT), as a shell reports a command Ctrl+C stopped.
  if (spec.signal?.aborted) r = { ...r, exitCode: 130 };
  const env = r.env ? { ...r.env } : spec.env;
  let cwd = env.PWD?.startsWith("/") ? env.PWD : spec.cwd;
  try {
    if (lfs.resolve(toRel(cwd), true).node?.type !== "dir") cwd = spec.cwd;
  } catch {
    cwd = spec.cwd;
  }
  return { ...r, env, cwd };
}

/**
 * Tab completion of the word before the cursor as a path (relative to `cwd`): the names that
 * start with it, directories with a trailing slash. `common` is what all of them share beyond the
 * typed word, so one Tab can insert it.
 */
export function completePath(
  lfs: LayerFs,
  cwd: string,
  before: string,
): { word: string; candidates: string[]; common: string } {
  const m = /(?:^|[\s;|&<>()])([^\s;|&<>()]*)$/.exec(before);
  const word = m?.[1] ?? "";
  const slash = word.lastIndexOf("/");
  const dirPart = slash < 0 ? "" : word.slice(0, slash + 1);
  const base = slash < 0 ? word : word.slice(slash + 1);
  const dirAbs = dirPart === "" ? cwd : dirPart.startsWith("/") ? dirPart : `${cwd}/${dirPart}`;
  let names: string[] = [];
  try {
    const r = lfs.resolve(toRel(dirAbs), true);
    if (r.node?.type === "dir")
      names = lfs.childrenOf(r.path).map((n) => `${r.path ? `${r.path}/` : ""}${n}`);
  } catch {
    names = [];
  }
  const candidates: string[] = [];
  for (const full of names) {
    const name = full.slice(full.lastIndexOf("/") + 1);
    if (!name.startsWith(base) || (base === "" && name.startsWith("."))) continue;
    let isDir = false;
    try {
      isDir = lfs.resolve(full, true).node?.type === "dir";
    } catch {
      isDir = false;
    }
    candidates.push(isDir ? `${name}/` : name);
  }
  candidates.sort();
  let common = candidates[0] ?? "";
  for (const c of candidates) while (!c.startsWith(common)) common = common.slice(0, -1);
  return { word, candidates, common: common.slice(base.length) };
}

/** A container whose image is gone cannot run; said in words, not as a stack trace. */
export function imageGone(name: string, image: string): LayerLabError {
  return new LayerLabError(
    "NOT_FOUND",
    `container ${name}: its image ${image.slice(0, 19)} was deleted, so it cannot run. Remove the container.`,
  );
}
