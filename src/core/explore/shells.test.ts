import { describe, expect, it } from "vitest";
import { readTar } from "../archive/tar-reader.ts";
import { type Digest, sha256 } from "../digest.ts";
import { storeContentReader } from "../fs/container-store.ts";
import { formatDockerDiff } from "../fs/docker-diff.ts";
import { openMemoryStore } from "../store/memory.ts";
import { Containers } from "./containers.ts";
import { Explorer } from "./explorer.ts";
import { storeTestImage } from "./shell-testing.ts";
import { Shells } from "./shells.ts";

async function setup(user = "") {
  const store = openMemoryStore();
  const image = await storeTestImage(store, user);
  const explorer = new Explorer(store);
  let t = 1_700_000_000_000;
  const now = () => (t += 1000);
  const read = storeContentReader(store);
  const containers = new Containers(store, explorer, read, now);
  const shells = new Shells(containers, explorer, read, { now });
  return { store, image, explorer, containers, shells, read };
}

/** The container layer as the overlay would store it: paths with kinds, whiteouts, opaque dirs. */
async function upper(containers: Containers, id: string): Promise<string[]> {
  const { fs } = await containers.layer(id);
  const data = fs.save();
  const out: string[] = [];
  for (const up of data.entries) {
    const e = up.entry;
    const what =
      e.type === "dir"
        ? `dir ${e.mode.toString(8)}${up.opaque ? " opaque" : ""}`
        : e.type === "symlink"
          ? `-> ${e.linkname}`
          : `file ${e.mode.toString(8)} ${e.size}${up.copiedUpFrom !== undefined ? ` from ${up.copiedUpFrom}` : ""}`;
    out.push(`${e.path} ${what}`);
  }
  for (const w of data.whiteouts) out.push(`${w} whiteout`);
  return out.sort();
}

async function text(containers: Containers, id: string, path: string): Promise<string> {
  const { fs } = await containers.layer(id);
  return fs.readTextFile(path);
}

async function layerDigests(store: ReturnType<typeof openMemoryStore>): Promise<string[]> {
  const out: string[] = [];
  for (const l of await store.meta.list("layers")) {
    const bytes = await store.blobs.get(l.blob);
    out.push(`${l.id} ${await sha256(bytes!)}`);
  }
  return out.sort();
}

describe("a shell in a container (docker run -it)", () => {
  it("each command's writes land in the container layer: copy-up, whiteouts, opaque dirs, docker diff", async () => {
    const { store, image, containers, shells } = await setup();
    const before = await layerDigests(store);
    const c = await containers.create(image);
    expect(c.name).toMatch(/^[a-z]+_[a-z]+$/);
    const info = await shells.open(c.id);
    expect(info).toMatchObject({ user: "root", uid: 0, cwd: "/app", command: "python3 /app/src/main.py" });
    const diff = async () => formatDockerDiff((await shells.diff(c.id)).changes);

    // create
    let r = await shells.exec(c.id, "echo hello > /app/new.txt");
    expect(r.exitCode).toBe(0);
    expect(await upper(containers, c.id)).toEqual(["app dir 755", "app/new.txt file 644 6"]);
    expect(await diff()).toBe("C /app\nA /app/new.txt\n");
    expect(r.container.added).toBe(1);

    // overwrite (copy-up of an image file, bytes replaced)
    r = await shells.exec(c.id, "echo bye > README");
    expect(await upper(containers, c.id)).toEqual([
      "app dir 755",
      "app/README file 644 4 from 0",
      "app/new.txt file 644 6",
    ]);
    expect(await text(containers, c.id, "/app/README")).toBe("bye\n");

    // append
    await shells.exec(c.id, "echo more >> /app/README");
    expect(await text(containers, c.id, "/app/README")).toBe("bye\nmore\n");
    expect(await upper(containers, c.id)).toContain("app/README file 644 9 from 0");

    // chmod of a file from the second layer: copied up with its new mode
    await shells.exec(c.id, "chmod 600 /app/config.json");
    expect(await upper(containers, c.id)).toContain("app/config.json file 600 16 from 1");

    // rename across directories: a whiteout at the old name, a copy under the new one
    await shells.exec(c.id, "mv /app/src/util.py /tmp/util.py");
    expect(await upper(containers, c.id)).toEqual([
      "app dir 755",
      "app/README file 644 9 from 0",
      "app/config.json file 600 16 from 1",
      "app/new.txt file 644 6",
      "app/src dir 755",
      "app/src/util.py whiteout",
      "tmp dir 1777",
      "tmp/util.py file 644 6",
    ]);
    expect(await diff()).toBe(
      [
        "C /app",
        "C /app/README",
        "C /app/config.json",
        "A /app/new.txt",
        "C /app/src",
        "D /app/src/util.py",
        "C /tmp",
        "A /tmp/util.py",
        "",
      ].join("\n"),
    );

    // rm -r of an image directory: one whiteout hides it all (the whiteout of util.py goes with it)
    await shells.exec(c.id, "rm -r /app/src");
    expect((await upper(containers, c.id)).filter((l) => l.startsWith("app/src"))).toEqual([
      "app/src whiteout",
    ]);
    expect(await diff()).toContain("A /app/new.txt\nD /app/src\nC /tmp\n");
    // made again: an opaque directory, so nothing of the image's shows through; Docker lists it as D
    r = await shells.exec(c.id, "mkdir /app/src && ls -A /app/src | wc -l");
    expect(r.stdout.trim()).toBe("0");
    expect((await upper(containers, c.id)).filter((l) => l.startsWith("app/src"))).toEqual([
      "app/src dir 755 opaque",
    ]);
    expect(await diff()).toContain("A /app/new.txt\nD /app/src\nC /tmp\n");

    // symlink
    await shells.exec(c.id, "ln -s /app/new.txt /app/link && cat /app/link");
    expect(await upper(containers, c.id)).toContain("app/link -> /app/new.txt");
    expect(await diff()).toBe(
      [
        "C /app",
        "C /app/README",
        "C /app/config.json",
        "A /app/link",
        "A /app/new.txt",
        "D /app/src",
        "C /tmp",
        "A /tmp/util.py",
        "",
      ].join("\n"),
    );

    // the image's read-only layers never changed
    expect(await layerDigests(store)).toEqual(before);
  });

  it("rm -rf dir && mkdir dir in one command is an opaque directory, and its commit writes the marker", async () => {
    const { store, image, containers, shells } = await setup();
    const c = await containers.create(image);
    await shells.open(c.id);
    const r = await shells.exec(c.id, "rm -rf /app/src && mkdir /app/src && echo new > /app/src/new.py");
    expect(r.exitCode).toBe(0);
    expect((await upper(containers, c.id)).filter((l) => l.startsWith("app/src"))).toEqual([
      "app/src dir 755 opaque",
      "app/src/new.py file 644 4",
    ]);
    const { image: committed } = await containers.commit(c.id, "demo:opaque");
    const rec = await store.meta.get("images", committed);
    const names: string[] = [];
    for await (const { header } of readTar(store.blobs.stream(rec?.layers.at(-1) as Digest)))
      names.push(header.name);
    expect(names.filter((n) => n.startsWith("app/src"))).toEqual([
      "app/src/",
      "app/src/.wh..wh..opq",
      "app/src/new.py",
    ]);
  });

  it("keeps cwd and env across commands; history survives a reopen; programs that are only files exit 126", async () => {
    const { store, image, containers, shells, explorer, read } = await setup();
    const c = await containers.create(image);
    await shells.exec(c.id, "cd /tmp && export GREETING=hi");
    let r = await shells.exec(c.id, 'pwd; echo "$GREETING $APP_ENV $HOME"');
    expect(r.stdout).toBe("/tmp\nhi test /root\n");
    expect(r.cwd).toBe("/tmp");
    r = await shells.exec(c.id, "python3 -c 'print(1)'");
    expect(r.exitCode).toBe(126);
    expect(r.stderr).toContain("python3: LayerLab cannot run this program");
    r = await shells.exec(c.id, "cat /nope");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("No such file or directory");
    // A new page: fresh services over the same store.
    const containers2 = new Containers(store, explorer, read);
    const shells2 = new Shells(containers2, explorer, read);
    const info = await shells2.open(c.id);
    expect(info.history).toEqual([
      "cd /tmp && export GREETING=hi",
      'pwd; echo "$GREETING $APP_ENV $HOME"',
      "python3 -c 'print(1)'",
      "cat /nope",
    ]);
  });

  it("a non-root USER cannot write into root-owned directories (EACCES), but can in its home", async () => {
    const { image, containers, shells } = await setup("app");
    const c = await containers.create(image);
    expect(await shells.open(c.id)).toMatchObject({ user: "app", uid: 1000, home: "/home/app" });
    let r = await shells.exec(c.id, "echo x > /etc/evil");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/[Pp]ermission denied/);
    r = await shells.exec(c.id, "rm /app/README");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/[Pp]ermission denied/);
    r = await shells.exec(c.id, "mkdir /opt");
    expect(r.exitCode).not.toBe(0);
    expect(await upper(containers, c.id)).toEqual([]);
    r = await shells.exec(c.id, "echo ok > ~/ok.txt && id -u");
    expect(r.exitCode).toBe(0);
    expect(await upper(containers, c.id)).toEqual([
      "home dir 755",
      "home/app dir 755",
      "home/app/ok.txt file 644 3",
    ]);
    const { fs } = await containers.layer(c.id);
    expect((await fs.stat("/home/app/ok.txt")).uid).toBe(1000);
  });

  it("docker run --user/--workdir: the container's own user and directory win over the image's, and survive a commit", async () => {
    const { image, containers, shells } = await setup();
    const c = await containers.create(image, "as-app", { user: "app", workingDir: "/app/src" });
    expect(await shells.open(c.id)).toMatchObject({ user: "app", uid: 1000, cwd: "/app/src" });
    const r = await shells.exec(c.id, "pwd && id -u");
    expect(r.stdout).toBe("/app/src\n1000\n");
    expect((await shells.exec(c.id, "touch /etc/evil")).stderr).toMatch(/permission denied/i);
    await shells.exec(c.id, "echo ok > ~/ok.txt");
    await containers.commit(c.id, "demo:as-app");
    shells.invalidate(c.id);
    expect(await shells.open(c.id)).toMatchObject({ user: "app", cwd: "/app/src" });
    // Without them, the image's config (root, its WorkingDir) as before.
    const plain = await containers.create(image);
    expect(await shells.open(plain.id)).toMatchObject({ user: "root", uid: 0 });
  });

  it("containers of one image are separate layers; stop keeps the layer and refuses commands; tab completes paths", async () => {
    const { image, containers, shells } = await setup();
    const a = await containers.create(image);
    const b = await containers.create(image);
    expect(a.name).not.toBe(b.name);
    await shells.exec(a.id, "touch /app/only-in-a");
    expect(await upper(containers, b.id)).toEqual([]);
    await shells.stop(a.id);
    await expect(shells.exec(a.id, "ls")).rejects.toThrow(/is not running/);
    const started = await shells.start(a.id);
    expect(started).toMatchObject({ state: "running", added: 1 });
    expect((await shells.exec(a.id, "ls /app/only-in-a")).exitCode).toBe(0);
    expect(await shells.complete(a.id, "cat /app/RE")).toMatchObject({
      candidates: ["README"],
      common: "ADME",
    });
    expect((await shells.complete(a.id, "ls s")).candidates).toEqual(["src/"]);
    expect((await shells.complete(a.id, "ls /app/")).candidates).toContain("config.json");
  });

  it("a container whose image was deleted says so", async () => {
    const { store, image, containers, explorer } = await setup();
    const c = await containers.create(image);
    await store.meta.delete("images", image);
    explorer.invalidate(image);
    const fresh = new Shells(
      new Containers(store, explorer, storeContentReader(store)),
      explorer,
      storeContentReader(store),
    );
    await expect(fresh.exec(c.id, "ls")).rejects.toThrow(/was deleted/);
  });
});
