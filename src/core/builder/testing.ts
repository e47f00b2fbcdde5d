/**
 * Small in-memory fakes for the builder's tests: a base image resolver with a busybox-like root
 * filesystem (no Store import needed) and helpers to read a built image back.
 */
import type { Digest } from "../digest.ts";
import type { Changeset, FileEntry } from "../fs/types.ts";
import type { ImageConfig } from "../image/oci.ts";
import type { Store } from "../store/types.ts";
import { LayerFs } from "./layer-fs.ts";
import { chainResolvers, storeContentReader, storeResolver } from "./resolver.ts";
import type { BaseImage, BuildImageConfig, ImageResolver, PackageCatalog } from "./types.ts";

const enc = new TextEncoder();

function file(path: string, text: string, mode = 0o644): FileEntry {
  const bytes = enc.encode(text);
  return {
    path,
    type: "file",
    mode,
    uid: 0,
    gid: 0,
    size: bytes.byteLength,
    mtime: 0,
    content: { kind: "inline", bytes },
  };
}

function dir(path: string, mode = 0o755): FileEntry {
  return { path, type: "dir", mode, uid: 0, gid: 0, size: 0, mtime: 0 };
}

/** The applets of the reference tools folder's make-busybox-base.sh, plus tr. */
const APPLETS =
  "ls mkdir echo cat rm touch cp mv ln chmod chown printf sed grep tar gzip head tail wc sort find true false test env id seq tr".split(
    " ",
  );

/** A busybox-like base: /bin/sh, /etc/passwd with root and app, /opt/data with two files. */
export function fakeBaseChangeset(): Changeset {
  return {
    entries: [
      dir("bin"),
      file("bin/busybox", "busybox", 0o755),
      {
        path: "bin/sh",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
        linkname: "busybox",
      },
      ...APPLETS.map(
        (a): FileEntry => ({
          path: `bin/${a}`,
          type: "symlink",
          mode: 0o777,
          uid: 0,
          gid: 0,
          size: 0,
          mtime: 0,
          linkname: "busybox",
        }),
      ),
      dir("etc"),
      file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
      file("etc/group", "root:x:0:\napp:x:1000:\n"),
      dir("home"),
      dir("opt"),
      dir("opt/data"),
      file("opt/data/a", "one\n"),
      dir("opt/data/sub"),
      file("opt/data/sub/b", "two\n"),
      file("opt/keep", "keep\n"),
      dir("root", 0o700),
      dir("tmp", 0o1777),
    ],
    whiteouts: [],
  };
}

/** A resolver that knows one fake image by name (plus whatever the store holds). */
export function fakeResolver(
  store: Store,
  name = "base:latest",
  extra: Partial<BaseImage> = {},
  entries: FileEntry[] = [],
): ImageResolver {
  const fake: ImageResolver = {
    readContent: storeContentReader(store),
    async resolve(ref) {
      if (ref !== name && `${ref}:latest` !== name) return undefined;
      const cs = fakeBaseChangeset();
      cs.entries.push(...entries);
      const config: BuildImageConfig = {
        architecture: "amd64",
        os: "linux",
        config: {
          Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          Cmd: ["/bin/sh"],
        },
        rootfs: {
          type: "layers",
          diff_ids: ["sha256:0000000000000000000000000000000000000000000000000000000000000001" as Digest],
        },
        history: [{ created_by: "fake base" }],
      };
      return {
        ref,
        config,
        layers: [{ diffId: config.rootfs.diff_ids[0] as Digest, changeset: cs }],
        ...extra,
      };
    },
  };
  return chainResolvers(storeResolver(store), fake);
}

/** What a Debian-like image needs for the apt-get tests: the command in /usr/bin. */
export function aptEntries(): FileEntry[] {
  return [
    dir("usr"),
    dir("usr/bin"),
    file("usr/bin/apt-get", "apt", 0o755),
    dir("var"),
    dir("var/lib"),
    dir("var/lib/apt"),
    dir("var/lib/apt/lists"),
  ];
}

/** A tiny package catalog for tests: `hello` installs two files; update writes one list. */
export function fakeCatalog(): PackageCatalog {
  const list = (path: string, size: number): FileEntry => ({
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
    content: { kind: "synthetic", seed: size },
  });
  return {
    update: () => ({
      files: [list("var/lib/apt/lists/deb_main_Packages", 5000)],
      output: "Get:1 fake main Packages\nReading package lists...\n",
    }),
    cacheFiles: () => [list("var/cache/apt/pkgcache.bin", 3000)],
    plan(names) {
      const known = names.filter((n) => n === "hello");
      return {
        packages: known.map((n) => ({
          name: n,
          version: "1.0",
          archiveSize: 1200,
          archiveFile: `${n}_1.0_amd64.deb`,
          files: [list("usr/bin/hello", 2000), list("usr/share/doc/hello/copyright", 300)],
        })),
        unknown: names.filter((n) => n !== "hello"),
      };
    },
  };
}

/** The config of a stored image. */
export async function readConfig(store: Store, id: Digest): Promise<ImageConfig & BuildImageConfig> {
  const rec = await store.meta.get("images", id);
  if (!rec) throw new Error(`no image ${id}`);
  const bytes = await store.blobs.get(rec.config);
  return JSON.parse(new TextDecoder().decode(bytes)) as BuildImageConfig;
}

/** The merged root filesystem of a stored image, as a LayerFs. */
export async function mergedFs(store: Store, id: Digest): Promise<LayerFs> {
  const img = await storeResolver(store).resolve(id);
  if (!img) throw new Error(`no image ${id}`);
  const fs = new LayerFs(storeContentReader(store));
  for (const l of img.layers) fs.applyChangeset(l.changeset);
  return fs;
}

/** The text of a file in a LayerFs. */
export async function readText(fs: LayerFs, path: string): Promise<string> {
  const r = fs.resolve(path, true);
  if (!r.node) throw new Error(`no file ${path}`);
  return new TextDecoder().decode(await fs.contentOf(r.node));
}
