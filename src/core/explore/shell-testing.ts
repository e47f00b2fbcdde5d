/**
 * A small test image for the container shell: a root filesystem with the shell and the
 * utilities as files (as a real image has them), an /app directory, a non-root user `app`, and a
 * second layer on top.
 */
import { storeImage, storeLayer, writeLayerTar } from "../builder/image-out.ts";
import type { BuildImageConfig } from "../builder/types.ts";
import type { Digest } from "../digest.ts";
import type { Changeset, FileEntry } from "../fs/types.ts";
import type { Store } from "../store/types.ts";

const encoder = new TextEncoder();

function file(path: string, text: string, extra: Partial<FileEntry> = {}): FileEntry {
  const bytes = encoder.encode(text);
  return {
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: bytes.length,
    mtime: 1_600_000_000,
    content: { kind: "inline", bytes },
    ...extra,
  };
}

function dir(path: string, extra: Partial<FileEntry> = {}): FileEntry {
  return { path, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000, ...extra };
}

/** The utilities a Debian-like image has as files in /bin. */
export const TEST_UTILITIES = [
  "sh",
  "bash",
  "cat",
  "chmod",
  "chown",
  "cp",
  "ln",
  "ls",
  "mkdir",
  "mv",
  "rm",
  "touch",
  "seq",
  "head",
  "grep",
  "wc",
  "pwd",
  "true",
  "false",
  "id",
  "whoami",
  "env",
];

/** The two layers of the test image. */
export function testImageLayers(): Changeset[] {
  const elf = "\x7fELF binary";
  const base: FileEntry[] = [
    dir("app"),
    file("app/README", "read me\n"),
    dir("app/src"),
    file("app/src/main.py", "print('hi')\n"),
    file("app/src/util.py", "x = 1\n"),
    dir("bin"),
    ...TEST_UTILITIES.map((n) => file(`bin/${n}`, elf, { mode: 0o755 })),
    dir("etc"),
    file("etc/group", "root:x:0:\napp:x:1000:\n"),
    file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
    dir("home"),
    dir("home/app", { uid: 1000, gid: 1000 }),
    dir("root", { mode: 0o700 }),
    dir("tmp", { mode: 0o1777 }),
    dir("usr"),
    dir("usr/bin"),
    file("usr/bin/python3", elf, { mode: 0o755 }),
  ];
  const top: FileEntry[] = [dir("app"), file("app/config.json", '{"debug":false}\n')];
  return [
    { entries: base, whiteouts: [] },
    { entries: top, whiteouts: [] },
  ];
}

/** Stores the test image (tagged `shell-test:latest`, or `shell-test:user` when `user` is given). */
export async function storeTestImage(store: Store, user = ""): Promise<Digest> {
  const layers = [];
  for (const cs of testImageLayers()) {
    layers.push(
      await storeLayer(
        store,
        await writeLayerTar(
          cs,
          async (ref) => (ref.kind === "inline" ? ref.bytes : new Uint8Array(0)),
          1_600_000_000,
        ),
      ),
    );
  }
  const config: BuildImageConfig = {
    architecture: "amd64",
    os: "linux",
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_ENV=test"],
      WorkingDir: "/app",
      Cmd: ["python3", "/app/src/main.py"],
      ...(user ? { User: user } : {}),
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.id) },
    history: [{ created_by: "test base" }, { created_by: "COPY config.json /app/" }],
  };
  const { record } = await storeImage(
    store,
    config,
    layers,
    [user ? "shell-test:user" : "shell-test:latest"],
    {},
  );
  return record.id;
}
