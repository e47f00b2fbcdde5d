/**
 * A TypeScript port of the reference tools folder's image-changes.py and compare-changes.py, so the differential
 * tests against a real builder need neither python nor buildah: an image in the Store is normalised
 * to the same JSON (config fields a Dockerfile sets, each layer's file-level changes, the final tree
 * with modes, owners, sizes and content hashes) and compared the same way.
 */
import { readAll, readTar } from "../archive/tar-reader.ts";
import { sha256 } from "../digest.ts";
import type { Store } from "../store/types.ts";

/** One path of the normalised final tree. */
export interface NormEntry {
  type: "dir" | "symlink" | "hardlink" | "file";
  mode: string;
  uid: number;
  gid: number;
  sha256?: string;
  size?: number;
  target?: string;
}

/** image-changes.py's output. */
export interface NormalImage {
  config: Record<string, unknown>;
  changesets: Record<string, string>[];
  tree: Record<string, NormEntry>;
}

const RUNTIME = new Set(["dev", "proc", "sys", "run", "etc/hosts", "etc/hostname", "etc/resolv.conf"]);
const KEEP_CFG = [
  "Env",
  "Cmd",
  "Entrypoint",
  "WorkingDir",
  "User",
  "Labels",
  "ExposedPorts",
  "Volumes",
  "StopSignal",
  "Shell",
];

function pyOct(n: number): string {
  return `0o${(n & 0o7777).toString(8)}`;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as T;
  return out;
}

/** How `normaliseImage` reads a layer. */
export interface NormaliseOptions {
  /**
   * Writes an opaque marker the way a naive differ (buildah's vfs driver, the goldens' builder)
   * records the same change: a whiteout for each child the directory had below that is gone, and
   * "modified" for one made again. Both give the same tree; only the changesets' wording differs.
   */
  expandOpaque?: boolean;
}

/** Normalises a stored image as image-changes.py normalises an archive. */
export async function normaliseImage(
  store: Store,
  id: string,
  options: NormaliseOptions = {},
): Promise<NormalImage> {
  const rec = await store.meta.get("images", id);
  if (!rec) throw new Error(`no image ${id}`);
  const cfg = JSON.parse(new TextDecoder().decode(await store.blobs.get(rec.config))) as {
    config?: Record<string, unknown>;
  };
  const tree = new Map<string, NormEntry>();
  const changesets: Record<string, string>[] = [];
  const dropUnder = (prefix: string, self?: string): void => {
    for (const k of [...tree.keys()]) if (k === self || k.startsWith(prefix)) tree.delete(k);
  };
  for (const layerId of rec.layers) {
    const layer = await store.meta.get("layers", layerId);
    if (!layer) throw new Error(`no layer ${layerId}`);
    const cs: Record<string, string> = {};
    /** Each opaque directory's children in the layers below (expandOpaque). */
    const hidden = new Map<string, string[]>();
    for await (const { header, body } of readTar(store.blobs.stream(layerId))) {
      let p = header.name.startsWith("./") ? header.name.slice(2) : header.name;
      p = p.replace(/^\/+|\/+$/g, "");
      if (p === "" || RUNTIME.has(p.split("/")[0] as string) || RUNTIME.has(p)) continue;
      const slash = p.lastIndexOf("/");
      const d = slash < 0 ? "" : p.slice(0, slash);
      const base = p.slice(slash + 1);
      if (base === ".wh..wh..opq") {
        if (options.expandOpaque) {
          const kids = [...tree.keys()].filter(
            (k) => k.startsWith(`${d}/`) && !k.slice(d.length + 1).includes("/"),
          );
          hidden.set(d, kids);
        } else cs[`${d}/`] = "opaque";
        dropUnder(`${d}/`);
        continue;
      }
      if (base.startsWith(".wh.")) {
        const t = (d ? `${d}/` : "") + base.slice(4);
        dropUnder(`${t}/`, t);
        cs[t] = "deleted";
        continue;
      }
      const kind: NormEntry["type"] =
        header.type === "dir"
          ? "dir"
          : header.type === "symlink"
            ? "symlink"
            : header.type === "hardlink"
              ? "hardlink"
              : "file";
      const e: NormEntry = { type: kind, mode: pyOct(header.mode), uid: header.uid, gid: header.gid };
      if (kind === "file") {
        const data = header.type === "file" ? await readAll(body, 2 ** 31, p) : new Uint8Array(0);
        e.sha256 = (await sha256(data)).slice(7);
        e.size = header.type === "file" ? header.size : 0;
      }
      if (kind === "symlink" || kind === "hardlink") e.target = header.linkname;
      const prev = tree.get(p);
      if (e.type === "dir" && prev?.type === "dir" && prev.mode === e.mode && prev.uid === e.uid) {
        tree.set(p, e);
        continue;
      }
      cs[p] = prev ? "modified" : "added";
      if (prev?.type === "dir" && e.type !== "dir") dropUnder(`${p}/`);
      tree.set(p, e);
    }
    for (const kids of hidden.values()) {
      for (const k of kids) cs[k] = tree.has(k) ? "modified" : "deleted";
    }
    if (Object.keys(cs).length > 0) changesets.push(sortKeys(cs));
  }
  const c = cfg.config ?? {};
  const config: Record<string, unknown> = {};
  for (const k of KEEP_CFG) if (!isEmpty(c[k])) config[k] = c[k];
  if (config.Labels) {
    const l = Object.fromEntries(
      Object.entries(config.Labels as Record<string, string>).filter(([k]) => !k.startsWith("io.buildah")),
    );
    if (Object.keys(l).length > 0) config.Labels = l;
    else delete config.Labels;
  }
  return { config, changesets, tree: sortKeys(Object.fromEntries(tree)) };
}

function normForCompare(
  d: NormalImage,
): [Record<string, unknown>, Record<string, NormEntry>, Record<string, string>[]] {
  const cs: Record<string, string>[] = [];
  for (const c of d.changesets) {
    const f: Record<string, string> = {};
    for (const [p, k] of Object.entries(c)) {
      if ((k === "added" || k === "modified") && d.tree[p]?.type === "dir") continue;
      f[p] = k;
    }
    if (Object.keys(f).length > 0) cs.push(f);
  }
  return [d.config, d.tree, cs];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canon(o[k])]),
    );
  }
  return v;
}

/**
 * compare-changes.py: the config, the final tree, and the ordered file-level changesets after the
 * base (directory additions dropped, empty changesets dropped). Returns the differences, [] on a match.
 */
export function compareNormal(
  expected: NormalImage,
  actual: NormalImage,
  skipPaths: readonly string[] = [],
): string[] {
  const [ec, et, ecs] = normForCompare(expected);
  const [ac, at, acs] = normForCompare(actual);
  const problems: string[] = [];
  for (const k of [...new Set([...Object.keys(ec), ...Object.keys(ac)])].sort()) {
    if (!same(ec[k], ac[k]))
      problems.push(`config ${k}: expected ${JSON.stringify(ec[k])}, got ${JSON.stringify(ac[k])}`);
  }
  for (const p of [...new Set([...Object.keys(et), ...Object.keys(at)])].sort()) {
    if (skipPaths.includes(p)) continue;
    if (!same(et[p], at[p]))
      problems.push(`tree ${p}: expected ${JSON.stringify(et[p])}, got ${JSON.stringify(at[p])}`);
  }
  if (!same(ecs.slice(1), acs.slice(1))) {
    problems.push(
      `changesets after the base: expected ${JSON.stringify(ecs.slice(1))}, got ${JSON.stringify(acs.slice(1))}`,
    );
  }
  return problems;
}
