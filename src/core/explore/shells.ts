/**
 * Terminals attached to containers: each running container has at most one shell session in
 * memory (its mirrored filesystem, cwd and environment); the container's layer and the command
 * history are saved with the container after every command, so both survive a reload. A running
 * command does not: it lives only in the page that started it.
 */
import type { Owner } from "../builder/bash-fs.ts";
import type { PackageCatalog } from "../builder/types.ts";
import { FsError, LayerLabError } from "../errors.ts";
import type { ContainerFs, ContentReader } from "../fs/container.ts";
import { type DockerDiffPage, dockerChanges } from "../fs/docker-diff.ts";
import {
  completePath,
  execLine,
  imageGone,
  type MirroredLayerFs,
  mirrorContainer,
  type ShellStart,
  startOf,
} from "./container-shell.ts";
import type { ContainerSummary, Containers } from "./containers.ts";
import type { Explorer } from "./explorer.ts";

/** What the terminal shows when it opens: the prompt's parts, what would have started, the history. */
export interface ShellInfo {
  id: string;
  name: string;
  user: string;
  uid: number;
  cwd: string;
  home: string;
  /** Entrypoint + Cmd of the image (what `docker run` without a command would have started). */
  command: string;
  history: string[];
  state: "running" | "exited";
}

/** What one command line did. */
export interface ShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  cwd: string;
  container: ContainerSummary;
}

interface Session {
  fs: ContainerFs;
  lfs: MirroredLayerFs;
  start: ShellStart;
  cwd: string;
  env: Record<string, string>;
  owner: Owner;
}

const HISTORY_KEEP = 500;

/** The shells of every container, over the containers service. */
export class Shells {
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(
    private readonly containers: Containers,
    private readonly explorer: Explorer,
    private readonly read: ContentReader,
    private readonly options: { now?: () => number; packages?: PackageCatalog } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Forgets a container's session (after an edit outside the shell, a stop or a removal). */
  invalidate(id: string): void {
    this.sessions.delete(id);
  }

  private async session(id: string): Promise<Session> {
    const { record, fs } = await this.layerOf(id);
    let p = this.sessions.get(id);
    if (p) {
      const s = await p.catch(() => undefined);
      // Undo replaces the container's filesystem: the shell then starts from the new one.
      if (s && s.fs === fs) return s;
      if (s) {
        const lfs = mirrorContainer(fs, this.read, Math.floor(this.now() / 1000));
        const next = { ...s, fs, lfs };
        this.sessions.set(id, Promise.resolve(next));
        return next;
      }
    }
    p = (async () => {
      const view = await this.explorer.image(record.image).catch(() => {
        throw imageGone(record.name, record.image);
      });
      const lfs = mirrorContainer(fs, this.read, Math.floor(this.now() / 1000));
      // The container's own --user/--workdir win over the image's config, as in `docker run`.
      const config = {
        ...view.config.config,
        ...(record.user ? { User: record.user } : {}),
        ...(record.workingDir ? { WorkingDir: record.workingDir } : {}),
      };
      const start = await startOf(lfs, config, record.id.slice(0, 12));
      return {
        fs,
        lfs,
        start,
        cwd: start.cwd,
        env: { ...start.env },
        owner: { uid: start.uid, gid: start.gid },
      };
    })();
    p.catch(() => this.sessions.delete(id));
    this.sessions.set(id, p);
    return p;
  }

  private async layerOf(id: string) {
    return this.containers.layer(id).catch(async (err: unknown) => {
      const rec = await this.containers.record(id);
      if (rec && !(await this.explorer.image(rec.image).catch(() => undefined)))
        throw imageGone(rec.name, rec.image);
      throw err;
    });
  }

  /** Opens (or reopens) the container's terminal. */
  async open(id: string): Promise<ShellInfo> {
    const { record } = await this.layerOf(id);
    const s = await this.session(id);
    return {
      id,
      name: record.name,
      user: s.start.user,
      uid: s.start.uid,
      cwd: s.cwd,
      home: s.env.HOME ?? "/",
      command: s.start.command,
      history: record.history ?? [],
      state: record.state ?? "running",
    };
  }

  /**
   * Runs one command line (or, with `argv`, one program as `docker run IMAGE ARGV...` starts it,
   * with no shell around it). Its writes are in the container layer when it returns (saved, with
   * the line added to the history); a stopped container refuses, as Docker does.
   */
  async exec(id: string, line: string, signal?: AbortSignal, argv?: string[]): Promise<ShellResult> {
    const { record } = await this.layerOf(id);
    if ((record.state ?? "running") !== "running") {
      throw new LayerLabError(
        "USAGE",
        `container ${record.name} is not running: start it again to use its shell`,
      );
    }
    const s = await this.session(id);
    s.lfs.epoch = Math.floor(this.now() / 1000);
    const r = await execLine(s.lfs, {
      line,
      ...(argv ? { argv } : {}),
      cwd: s.cwd,
      env: s.env,
      owner: s.owner,
      ...(this.options.packages ? { packages: this.options.packages } : {}),
      ...(signal ? { signal } : {}),
    });
    s.cwd = r.cwd;
    s.env = r.env;
    const history = [...(record.history ?? [])];
    if (line.trim() && history.at(-1) !== line) history.push(line);
    // One save: the layer (when the command changed it) and the history together.
    const container = await this.containers.updateRecord(
      id,
      { history: history.slice(-HISTORY_KEEP) },
      s.lfs.stepChanged,
    );
    if (s.lfs.mirrorError) {
      const err = s.lfs.mirrorError;
      s.lfs.mirrorError = undefined;
      this.invalidate(id);
      throw new FsError("EIO", "/", `the container layer did not take a removal: ${String(err)}`);
    }
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, cwd: r.cwd, container };
  }

  /** Completes the path before the cursor. */
  async complete(
    id: string,
    before: string,
  ): Promise<{ word: string; candidates: string[]; common: string }> {
    const s = await this.session(id);
    return completePath(s.lfs, s.cwd, before);
  }

  /** `docker diff` of the container: its first `limit` lines (all without one) and the total. */
  async diff(id: string, limit?: number): Promise<DockerDiffPage> {
    const { fs } = await this.layerOf(id);
    const all = dockerChanges(fs);
    return { changes: limit === undefined ? all : all.slice(0, Math.max(0, limit)), total: all.length };
  }

  /** `docker stop`: the shell ends; the layer stays. */
  async stop(id: string): Promise<ContainerSummary> {
    this.invalidate(id);
    return this.containers.updateRecord(id, { state: "exited" });
  }

  /** `docker start`: running again over the same layer, in a fresh shell. */
  async start(id: string): Promise<ContainerSummary> {
    this.invalidate(id);
    return this.containers.updateRecord(id, { state: "running" });
  }
}
