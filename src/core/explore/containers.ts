import { chainIds, storeImage, storeLayer, writeLayerTar } from "../builder/image-out.ts";
import type { BuildImageConfig } from "../builder/types.ts";
import type { Digest } from "../digest.ts";
import { LayerLabError } from "../errors.ts";
import type { ContainerFs, ContainerLayerData, ContentReader } from "../fs/container.ts";
import { createContainerFs } from "../fs/container.ts";
import { loadContainer, saveContainer } from "../fs/container-store.ts";
import { cleanPath } from "../fs/paths.ts";
import type { ContainerRecord, Store } from "../store/types.ts";
import { buildTreeSnapshot, type TreeInput, type TreeSnapshot } from "../view/tree.ts";
import type { Explorer, FileView } from "./explorer.ts";

/** One edit of the container layer, as the UI asks for it. Paths are absolute or relative to `/`. */
export type ContainerOp =
  | { kind: "write"; path: string; text: string }
  | { kind: "mkdir"; path: string }
  | { kind: "rm"; path: string }
  | { kind: "rename"; from: string; to: string }
  | { kind: "chmod"; path: string; mode: number }
  | { kind: "chown"; path: string; uid: number; gid: number }
  | { kind: "symlink"; target: string; path: string };

/** A container as listed: its image, and what its layer holds. */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  createdAt: number;
  added: number;
  modified: number;
  removed: number;
  /** Bytes of the files written in the container layer. */
  bytes: number;
  /** Whether there is a change to undo. */
  canUndo: boolean;
  /** `running` until stopped (`exited`), as `docker ps -a` says. */
  state: "running" | "exited";
}

const UNDO_DEPTH = 20;

/** The left half of a name: adjectives of the kind Docker's name generator uses. */
const ADJECTIVES = (
  "admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring brave busy " +
  "charming clever compassionate competent condescending confident cool cranky crazy dazzling determined " +
  "distracted dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent festive " +
  "flamboyant focused friendly frosty funny gallant gifted goofy gracious great happy hardcore heuristic " +
  "hopeful hungry infallible inspiring intelligent interesting jolly jovial keen kind laughing loving lucid " +
  "magical modest musing mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful " +
  "pedantic pensive practical priceless quirky quizzical recursing relaxed reverent romantic sad serene " +
  "sharp silly sleepy stoic strange stupefied suspicious sweet tender thirsty trusting unruffled upbeat " +
  "vibrant vigilant vigorous wizardly wonderful xenodochial youthful zealous zen"
).split(" ");

/** The right half: scientists and engineers, as in Docker's generator. */
const SURNAMES = (
  "agnesi albattani allen almeida antonelli archimedes ardinghelli aryabhata austin babbage banach " +
  "banzai bardeen bartik bassi beaver bell benz bhabha bhaskara black blackburn blackwell bohr booth " +
  "borg bose bouman boyd brahmagupta brattain brown buck burnell cannon carson cartwright carver cerf " +
  "chandrasekhar chaplygin chatelet chatterjee chaum chebyshev clarke cohen colden cori cray curie " +
  "curran darwin davinci dewdney dhawan diffie dijkstra dirac driscoll dubinsky easley edison einstein " +
  "elbakyan elgamal elion ellis engelbart euclid euler faraday feistel fermat fermi feynman franklin " +
  "gagarin galileo galois ganguly gates gauss germain goldberg goldstine goldwasser golick goodall gould " +
  "greider grothendieck haibt hamilton haslett hawking heisenberg hellman hermann herschel hertz heyrovsky " +
  "hodgkin hofstadter hoover hopper hugle hypatia ishizaka jackson jang jemison jennings jepsen johnson " +
  "joliot jones kalam kapitsa kare keldysh keller kepler khayyam khorana kilby kirch knuth kowalevski " +
  "lalande lamarr lamport leakey leavitt lederberg lehmann lewin lichterman liskov lovelace lumiere " +
  "mahavira margulis matsumoto maxwell mayer mccarthy mcclintock mclaren mclean mcnulty meitner mendel " +
  "mendeleev meninsky merkle mestorf mirzakhani montalcini moore morse moser murdock napier nash neumann " +
  "newton nightingale nobel noether northcutt noyce panini pare pascal pasteur payne perlman pike " +
  "poincare poitras proskuriakova ptolemy raman ramanujan rhodes ride ritchie robinson roentgen rosalind " +
  "rubin saha sammet sanderson satoshi shamir shannon shaw shirley shockley shtern sinoussi snyder " +
  "solomon spence stonebraker sutherland swanson swartz swirles taussig tesla tharp thompson torvalds " +
  "tu turing varahamihira vaughan villani visvesvaraya volhard wescoff wilbur wiles williams williamson " +
  "wilson wing wozniak wright wu yalow yonath zhukovsky"
).split(" ");

/** The words of container names (for tests). */
export const NAME_WORDS: { readonly adjectives: readonly string[]; readonly surnames: readonly string[] } = {
  adjectives: ADJECTIVES,
  surnames: SURNAMES,
};

/** A uniform random integer below `n`, from the platform's cryptographic generator. */
function randomBelow(n: number): number {
  const x = new Uint32Array(1);
  globalThis.crypto.getRandomValues(x);
  return x[0]! % n;
}

/**
 * A Docker-style `adjective_surname` name chosen at random, as `docker run` names a container,
 * never one in `taken` (after a few collisions a digit is added, as Docker does when it retries).
 * `random(n)` gives an integer below n (tests pass their own).
 */
export function pickContainerName(
  taken: ReadonlySet<string>,
  random: (n: number) => number = randomBelow,
): string {
  for (let attempt = 0; ; attempt++) {
    const left = ADJECTIVES[random(ADJECTIVES.length)]!;
    const right = SURNAMES[random(SURNAMES.length)]!;
    // Steve Wozniak is not boring: Docker's generator skips this one pair.
    if (left === "boring" && right === "wozniak") continue;
    const name =
      attempt < 8 ? `${left}_${right}` : `${left}_${right}${random(10 ** Math.min(6, attempt - 7))}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * The live container layers: each container is a writable layer over an image; every edit goes
 * to its layer (copy-up, whiteouts, opaque directories) and is saved to the store at once, so it
 * survives a reload. Undo keeps the last edits in memory.
 */
export class Containers {
  private readonly open = new Map<string, Promise<{ record: ContainerRecord; fs: ContainerFs }>>();
  private readonly undo = new Map<string, ContainerLayerData[]>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    private readonly explorer: Explorer,
    private readonly read: ContentReader,
    private readonly now: () => number = Date.now,
    /** Where container names' randomness comes from (tests pass a seeded one). */
    private readonly random?: (n: number) => number,
  ) {}

  async list(image?: string): Promise<ContainerSummary[]> {
    const recs = (await this.store.meta.list("containers")).filter((c) => !image || c.image === image);
    recs.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return Promise.all(recs.map((r) => this.summary(r.id)));
  }

  /**
   * A new container (an empty writable layer) on top of an image; `options` overrides the image's
   * User and WorkingDir as `docker run --user/--workdir` do.
   */
  async create(
    image: string,
    name?: string,
    options: { user?: string; workingDir?: string } = {},
  ): Promise<ContainerSummary> {
    const view = await this.explorer.image(image);
    const existing = await this.store.meta.list("containers");
    const id = `c${this.now().toString(36)}${(++this.seq).toString(36)}`;
    const taken = new Set(existing.map((c) => c.name));
    const base = name?.trim() || pickContainerName(taken, this.random);
    const record: ContainerRecord = {
      id,
      name: base,
      image: view.image.id,
      createdAt: this.now(),
      state: "running",
      ...(options.user ? { user: options.user } : {}),
      ...(options.workingDir ? { workingDir: options.workingDir } : {}),
    };
    await this.store.meta.put("containers", record);
    return this.summary(id);
  }

  /** The container of an image most recently created, made when there is none. */
  async ensure(image: string): Promise<ContainerSummary> {
    const list = await this.list(image);
    return list.at(-1) ?? this.create(image);
  }

  async remove(id: string): Promise<void> {
    const { record } = await this.get(id);
    await this.store.meta.delete("containers", id);
    if (record.changes) await this.store.blobs.delete(record.changes);
    this.open.delete(id);
    this.undo.delete(id);
  }

  /** Applies one edit to the container layer and saves it. FsError for what POSIX would refuse. */
  async apply(id: string, op: ContainerOp): Promise<ContainerSummary> {
    const { record, fs } = await this.get(id);
    const before = fs.save();
    switch (op.kind) {
      case "write":
        await fs.writeFile(op.path, op.text);
        break;
      case "mkdir":
        await fs.mkdir(op.path, { recursive: true });
        break;
      case "rm":
        await fs.rm(op.path, { recursive: true });
        break;
      case "rename":
        await fs.rename(op.from, op.to);
        break;
      case "chmod":
        await fs.chmod(op.path, op.mode);
        break;
      case "chown":
        await fs.chown(op.path, op.uid, op.gid);
        break;
      case "symlink":
        await fs.symlink(op.target, op.path);
        break;
    }
    await this.save(record, fs);
    const stack = this.undo.get(id) ?? [];
    stack.push(before);
    if (stack.length > UNDO_DEPTH) stack.shift();
    this.undo.set(id, stack);
    return this.summary(id);
  }

  /** Takes back the last edit. */
  async undoLast(id: string): Promise<ContainerSummary> {
    const stack = this.undo.get(id);
    const prev = stack?.pop();
    if (!prev) throw new LayerLabError("NOT_FOUND", "nothing to undo");
    const { record, fs } = await this.get(id);
    const restored = createContainerFs(fs.image, this.read, { layer: fs.layer, now: this.now, state: prev });
    this.open.set(id, Promise.resolve({ record, fs: restored }));
    await this.save(record, restored);
    return this.summary(id);
  }

  /** Discards every change of the container layer. */
  async reset(id: string): Promise<ContainerSummary> {
    const { record, fs } = await this.get(id);
    const before = fs.save();
    fs.reset();
    await this.save(record, fs);
    const stack = this.undo.get(id) ?? [];
    stack.push(before);
    this.undo.set(id, stack);
    return this.summary(id);
  }

  /**
   * Commits the container layer as a new read-only layer on top of its image: a new image with
   * one more layer and history entry, tagged `tag`. The container is reset and moves onto it.
   */
  async commit(id: string, tag: string): Promise<{ image: Digest; container: ContainerSummary }> {
    const { record, fs } = await this.get(id);
    if (fs.isClean()) throw new LayerLabError("NOT_FOUND", "the container layer has no changes to commit");
    const view = await this.explorer.image(record.image);
    const { changeset, history } = await fs.commit({ createdBy: `layerlab commit ${record.name}` });
    const epoch = Math.floor(this.now() / 1000);
    const tar = await writeLayerTar(changeset, this.read, epoch);
    const layer = await storeLayer(this.store, tar);
    const parent = view.config as BuildImageConfig;
    const diffIds = [...view.layers.map((l) => l.id), layer.id];
    const config: BuildImageConfig = {
      ...parent,
      created: history.created,
      rootfs: { type: "layers", diff_ids: diffIds },
      history: [...(parent.history ?? []), history],
      config: { ...(parent.config ?? {}) },
    };
    const tags = tag.trim() ? [tag.includes(":") ? tag.trim() : `${tag.trim()}:latest`] : [];
    const { record: image } = await storeImage(this.store, config, [...view.layers, layer], tags, {
      committedFrom: record.name,
      chainId: (await chainIds(diffIds)).at(-1)!,
    });
    if (image.source !== "commit") await this.store.meta.put("images", { ...image, source: "commit" });
    // The committed changes now live in the image: the container starts clean on top of it.
    fs.reset();
    const moved: ContainerRecord = {
      id: record.id,
      name: record.name,
      image: image.id,
      createdAt: record.createdAt,
      ...(record.state ? { state: record.state } : {}),
      ...(record.history ? { history: record.history } : {}),
      ...(record.user ? { user: record.user } : {}),
      ...(record.workingDir ? { workingDir: record.workingDir } : {}),
    };
    await this.store.meta.put("containers", moved);
    if (record.changes) await this.store.blobs.delete(record.changes);
    this.open.delete(id);
    this.undo.delete(id);
    return { image: image.id, container: await this.summary(id) };
  }

  /** The container's files: the merged tree it sees, with its own changes marked and its whiteouts shown. */
  async tree(id: string): Promise<TreeSnapshot> {
    const { fs } = await this.get(id);
    const inputs: TreeInput[] = [];
    for (const n of fs.tree().walk()) {
      inputs.push({
        path: n.path,
        type: n.entry.type,
        size: n.entry.type === "file" ? n.entry.size : 0,
        kind: n.layer === fs.layer ? (n.lower ? "modified" : "added") : "unchanged",
        layer: n.layer,
        linkname: n.entry.linkname,
      });
    }
    for (const r of fs.diff().changes) {
      if (r.kind === "removed") {
        inputs.push({
          path: r.path,
          type: r.type,
          size: r.hiddenSize || r.size,
          kind: "removed",
          layer: fs.layer,
        });
      }
    }
    return buildTreeSnapshot(inputs);
  }

  /** A file as the container sees it, with where it came from. */
  async file(
    id: string,
    path: string,
    offset = 0,
    length = 64 * 1024,
  ): Promise<FileView & { copiedUpFrom?: number }> {
    const { fs } = await this.get(id);
    const p = cleanPath(path);
    const st = await fs.lstat(p);
    const node = fs.image.get(p);
    const shadows: number[] = [];
    for (let l = st.source === "container" ? node : node?.lower; l; l = l.lower)
      if (l.layer >= 0) shadows.push(l.layer);
    const bytes = st.isFile ? (await fs.readFile(p)).slice(offset, offset + length) : new Uint8Array(0);
    return {
      path: p,
      entry: {
        path: p,
        type: st.type,
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        size: st.size,
        mtime: st.mtime,
        linkname: st.linkname,
      },
      layer: st.layer,
      shadows,
      size: st.isFile ? st.size : 0,
      bytes,
      offset,
      copiedUpFrom: st.copiedUpFrom,
    };
  }

  private async summary(id: string): Promise<ContainerSummary> {
    const { record, fs } = await this.get(id);
    let added = 0;
    let modified = 0;
    let removed = 0;
    let bytes = 0;
    for (const r of fs.diff().changes) {
      if (r.kind === "added") added++;
      else if (r.kind === "modified") modified++;
      else if (r.kind === "removed") removed++;
      if (r.kind !== "removed" && r.type === "file") bytes += r.size;
    }
    return {
      id,
      name: record.name,
      image: record.image,
      createdAt: record.createdAt,
      added,
      modified,
      removed,
      bytes,
      canUndo: (this.undo.get(id)?.length ?? 0) > 0,
      state: record.state ?? "running",
    };
  }

  /** The container's record and its layer's filesystem, as the shell works on them. */
  layer(id: string): Promise<{ record: ContainerRecord; fs: ContainerFs }> {
    return this.get(id);
  }

  /** The stored record alone (no image needed): undefined when there is no such container. */
  record(id: string): Promise<ContainerRecord | undefined> {
    return this.store.meta.get("containers", id);
  }

  /** Saves the container layer as it is now (after the shell wrote to it). */
  async persist(id: string): Promise<ContainerSummary> {
    const { record, fs } = await this.get(id);
    await this.save(record, fs);
    return this.summary(id);
  }

  /**
   * Changes the record's state or history, keeping the open copy in step with the store; with
   * `layerChanged`, saves the container layer in the same write.
   */
  async updateRecord(
    id: string,
    patch: Partial<Pick<ContainerRecord, "state" | "history">>,
    layerChanged = false,
  ): Promise<ContainerSummary> {
    const entry = await this.get(id);
    entry.record = { ...entry.record, ...patch };
    if (layerChanged) await this.save(entry.record, entry.fs);
    else await this.store.meta.put("containers", entry.record);
    return this.summary(id);
  }

  /**
   * Saves the container layer. When the store refuses (full, or closed), the open copy, which
   * already holds the edit, is forgotten: the next read loads the layer as it was last saved.
   */
  private async save(record: ContainerRecord, fs: ContainerFs): Promise<void> {
    let saved: ContainerRecord;
    try {
      saved = await saveContainer(this.store, record, fs);
    } catch (err) {
      this.open.delete(record.id);
      throw err;
    }
    const entry = await this.open.get(record.id);
    if (entry) entry.record = saved;
  }

  private get(id: string): Promise<{ record: ContainerRecord; fs: ContainerFs }> {
    let p = this.open.get(id);
    if (!p) {
      p = (async () => {
        const record = await this.store.meta.get("containers", id);
        if (!record) throw new LayerLabError("NOT_FOUND", `no container ${id} in the store`);
        const stack = await this.explorer.stack(record.image);
        return loadContainer(this.store, id, stack.top, this.read, { now: this.now });
      })();
      p.catch(() => this.open.delete(id));
      this.open.set(id, p);
    }
    return p;
  }
}
