import { describe, expect, it } from "vitest";
import { sha256 } from "../digest.ts";
import type { FileEntry } from "../fs/types.ts";
import { openMemoryStore } from "../store/memory.ts";
import { BashFs } from "./bash-fs.ts";
import { BuildFailure, buildImage } from "./builder.ts";
import { BuildCache } from "./cache.ts";
import { contextFromFiles } from "./context.ts";
import { LayerFs } from "./layer-fs.ts";
import { aptEntries, fakeCatalog, fakeResolver, mergedFs, readConfig, readText } from "./testing.ts";
import type { BuildEvent } from "./types.ts";

async function build(
  dockerfile: string,
  files: Record<string, string> = {},
  extra: Partial<Parameters<typeof buildImage>[0]> = {},
) {
  const store = extra.store ?? openMemoryStore();
  const events: BuildEvent[] = [];
  const result = await buildImage({
    dockerfile,
    context: contextFromFiles(files),
    store,
    images: fakeResolver(store),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return {
    store,
    result,
    events,
    config: await readConfig(store, result.id),
    fs: await mergedFs(store, result.id),
  };
}

describe("buildImage", () => {
  it("makes layers only for RUN, COPY and a creating WORKDIR; the rest are empty_layer history", async () => {
    const { result, config } = await build(
      'FROM base\nENV A=b\nWORKDIR /app\nRUN echo hi > f\nCOPY . /app\nCMD ["python3"]\nLABEL x=y\nEXPOSE 80\n',
      { "main.py": "print(1)\n" },
    );
    const h = config.history ?? [];
    const mine = h.slice(1).map((e) => [e.created_by, e.empty_layer === true]);
    expect(mine).toEqual([
      ["ENV A=b", true],
      ["WORKDIR /app", false],
      ["RUN /bin/sh -c echo hi > f # buildkit", false],
      ["COPY . /app # buildkit", false],
      ['CMD ["python3"]', true],
      ["LABEL x=y", true],
      ["EXPOSE [80/tcp]", true],
    ]);
    expect(result.layers).toHaveLength(4);
    expect(config.rootfs.diff_ids).toEqual(result.layers);
    // chainId(L0) = diffId(L0); chainId(Ln) = sha256(chainId(Ln-1) + " " + diffId(Ln)).
    expect(result.chainIds[0]).toBe(result.layers[0]);
    expect(result.chainIds[1]).toBe(await sha256(`${result.layers[0]} ${result.layers[1]}`));
    expect(config.config.Env).toContain("A=b");
    expect(config.config.WorkingDir).toBe("/app");
    expect(config.config.Cmd).toEqual(["python3"]);
    expect(config.config.ArgsEscaped).toBe(true);
    expect(config.config.Labels).toEqual({ x: "y" });
    expect(config.config.ExposedPorts).toEqual({ "80/tcp": {} });
    expect(config.created).toBe("1970-01-01T00:00:00Z");
  });

  it("is deterministic: the same Dockerfile and context give the same image ID", async () => {
    const df = "FROM base\nRUN mkdir /x && echo 1 > /x/y\nCOPY a /a\n";
    const one = await build(df, { a: "A" });
    const two = await build(df, { a: "A" });
    expect(two.result.id).toBe(one.result.id);
    expect(two.result.layers).toEqual(one.result.layers);
    const three = await build(df, { a: "B" });
    expect(three.result.id).not.toBe(one.result.id);
  });

  it("runs shell features over the layer: loops, conditions, pipes, substitution, cd", async () => {
    const { fs } = await build(
      "FROM base\nRUN mkdir -p /w && cd /w && for i in 1 2 3; do echo $i >> n; done; if [ -f n ]; then echo yes | tr a-z A-Z > y; fi; echo $(wc -l < n) > count\n",
    );
    expect(await readText(fs, "w/n")).toBe("1\n2\n3\n");
    expect(await readText(fs, "w/y")).toBe("YES\n");
    expect((await readText(fs, "w/count")).trim()).toBe("3");
  });

  it("fails at a RUN that exits non-zero with its output, and 127 for a missing command", async () => {
    await expect(build("FROM base\nRUN echo before && nosuchcmd --x\n")).rejects.toThrow(
      /line 2: RUN echo before && nosuchcmd --x\): process "\/bin\/sh -c echo before && nosuchcmd --x" did not complete successfully: exit code: 127/,
    );
    try {
      await build("FROM base\nRUN echo out; exit 3\n");
    } catch (e) {
      expect(e).toBeInstanceOf(BuildFailure);
      expect((e as BuildFailure).output).toContain("out");
      expect((e as BuildFailure).message).toContain("exit code: 3");
    }
  });

  it("records deletions as whiteouts and the deleted files disappear from the merged tree", async () => {
    const { fs, store, result } = await build("FROM base\nRUN rm -rf /opt/data && rm /opt/keep\n");
    expect(fs.nodeAt("opt/data")).toBeUndefined();
    expect(fs.nodeAt("opt/keep")).toBeUndefined();
    const layer = await store.meta.get("layers", result.layers[result.layers.length - 1] as string);
    const tar = await store.blobs.get(layer?.blob as `sha256:${string}`);
    const text = new TextDecoder().decode(tar);
    expect(text).toContain("opt/.wh.data");
    expect(text).toContain("opt/.wh.keep");
    expect(text).not.toContain(".wh.sub");
  });

  it("WORKDIR creates its directory with 0755, relative to the previous WORKDIR; an existing one makes no layer", async () => {
    const { fs, config, result } = await build("FROM base\nWORKDIR /a\nWORKDIR b\nWORKDIR /opt\n");
    expect(fs.nodeAt("a/b")?.mode).toBe(0o755);
    expect(config.config.WorkingDir).toBe("/opt");
    const h = (config.history ?? []).slice(1);
    expect(h.map((e) => e.empty_layer === true)).toEqual([false, false, true]);
    expect(result.layers).toHaveLength(3);
  });

  it("ENV and ARG: ARG values reach RUN but not the image; RUN history carries |N args", async () => {
    const { fs, config } = await build(
      "FROM base\nARG V=1\nENV E=$V-env\nRUN echo $V $E > /out\n",
      {},
      { buildArgs: { V: "9" } },
    );
    expect(await readText(fs, "out")).toBe("9 9-env\n");
    expect(config.config.Env).toContain("E=9-env");
    expect((config.config.Env ?? []).some((e) => e.startsWith("V="))).toBe(false);
    expect(config.history?.[3]?.created_by).toBe("RUN |1 V=9 /bin/sh -c echo $V $E > /out # buildkit");
  });

  it("sets the config fields where Docker puts them", async () => {
    const { config } = await build(
      'FROM base\nUSER app\nVOLUME /data\nSTOPSIGNAL SIGTERM\nSHELL ["/bin/sh", "-ec"]\nENTRYPOINT echo hi\nHEALTHCHECK --interval=30s --retries=3 CMD true\nONBUILD RUN echo child\n',
    );
    const c = config.config;
    expect(c.User).toBe("app");
    expect(c.Volumes).toEqual({ "/data": {} });
    expect(c.StopSignal).toBe("SIGTERM");
    expect(c.Shell).toEqual(["/bin/sh", "-ec"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-ec", "echo hi"]);
    expect(c.Cmd).toBeNull();
    expect(c.Healthcheck).toEqual({ Test: ["CMD-SHELL", "true"], Interval: 30e9, Retries: 3 });
    expect(c.OnBuild).toEqual(["RUN echo child"]);
    const hist = (config.history ?? []).map((h) => h.created_by);
    expect(hist).toContain('HEALTHCHECK &{["CMD-SHELL" "true"] "30s" "0s" "0s" "0s" \'\\x03\'}');
    expect(hist).toContain('ENTRYPOINT ["/bin/sh" "-ec" "echo hi"]');
    expect(hist).toContain("VOLUME [/data]");
    expect(hist.some((h) => h?.startsWith("ONBUILD"))).toBe(false);
    expect(c.ArgsEscaped).toBeUndefined();
  });

  it("runs ONBUILD triggers in the child build and clears them", async () => {
    const store = openMemoryStore();
    await build("FROM base\nONBUILD RUN echo from-trigger > /trig\n", {}, { store, tags: ["parent:1"] });
    const child = await build("FROM parent:1\nRUN cat /trig > /copy\n", {}, { store });
    expect(await readText(child.fs, "copy")).toBe("from-trigger\n");
    expect(child.config.config.OnBuild ?? null).toBeNull();
  });

  it("multi-stage: COPY --from a stage, --target picks a stage, unused stages are skipped", async () => {
    const df =
      "FROM base AS one\nRUN echo 1 > /one\nFROM base AS unused\nRUN exit 1\nFROM base\nCOPY --from=one /one /got\n";
    const { fs } = await build(df);
    expect(await readText(fs, "got")).toBe("1\n");
    const t = await build(df, {}, { target: "one" });
    expect(t.fs.nodeAt("got")).toBeUndefined();
    expect(await readText(t.fs, "one")).toBe("1\n");
  });

  it("FROM scratch has no shell: RUN fails as runc does", async () => {
    await expect(build("FROM scratch\nRUN echo hi\n")).rejects.toThrow(
      /exec: "\/bin\/sh": stat \/bin\/sh: no such file or directory/,
    );
  });

  it("an unknown base image fails with what to do offline", async () => {
    await expect(build("FROM nosuch:1\n")).rejects.toThrow(
      /nosuch:1: image not found. LayerLab builds offline/,
    );
  });

  it("RUN --mount=type=cache keeps its writes out of the layer but across builds", async () => {
    const cache = new BuildCache();
    const store = openMemoryStore();
    const df = (n: number) =>
      `FROM base\nRUN --mount=type=cache,target=/var/cache/x echo ${n} >> /var/cache/x/f && cat /var/cache/x/f > /seen\n`;
    const one = await build(df(1), {}, { cache, store });
    expect(one.fs.nodeAt("var/cache/x/f")).toBeUndefined();
    expect(one.fs.nodeAt("var/cache/x")?.type).toBe("dir");
    expect(await readText(one.fs, "seen")).toBe("1\n");
    const two = await build(df(2), {}, { cache, store });
    expect(await readText(two.fs, "seen")).toBe("1\n2\n");
  });

  it("RUN --mount=type=bind sees context or stage files that never land in the layer", async () => {
    const { fs } = await build(
      "FROM base AS src\nRUN echo from-stage > /made\nFROM base\nRUN --mount=type=bind,source=conf,target=/mnt/conf --mount=type=bind,from=src,source=/made,target=/mnt/made cat /mnt/conf/a /mnt/made > /out\n",
      { "conf/a": "ctx\n" },
    );
    expect(await readText(fs, "out")).toBe("ctx\nfrom-stage\n");
    expect(fs.nodeAt("mnt/conf/a")).toBeUndefined();
    expect(fs.nodeAt("mnt/made")).toBeUndefined();
  });

  it("heredoc RUN works", async () => {
    const { fs } = await build("FROM base\nRUN <<EOF\necho one > /h1\necho two >> /h1\nEOF\n");
    expect(await readText(fs, "h1")).toBe("one\ntwo\n");
  });

  it("apt-get from the catalog: update writes lists, install writes files, clean in the same RUN removes the cache", async () => {
    const store = openMemoryStore();
    const images = fakeResolver(store, "deb:1", { packages: fakeCatalog() }, aptEntries());
    const noUpdate = buildImage({
      dockerfile: "FROM deb:1\nRUN apt-get install -y hello\n",
      context: contextFromFiles({}),
      store,
      images,
    });
    await expect(noUpdate).rejects.toThrow(/exit code: 100/);
    const r = await buildImage({
      dockerfile:
        "FROM deb:1\nRUN apt-get update && apt-get install -y hello\nRUN apt-get clean && rm -rf /var/lib/apt/lists/*\n",
      context: contextFromFiles({}),
      store,
      images,
    });
    const fs = await mergedFs(store, r.id);
    expect(fs.nodeAt("usr/bin/hello")?.size).toBe(2000);
    expect(fs.nodeAt("var/lib/apt/lists/deb_main_Packages")).toBeUndefined();
    const sizes = r.events
      .filter((e) => e.kind === "step-done" && e.layerSize !== undefined)
      .map((e) => (e as { layerSize: number }).layerSize);
    expect(sizes[0]).toBeGreaterThan(5000 + 2000 + 1200);
  });

  it("streams a log: step n/N, output, done", async () => {
    const { events } = await build("FROM base\nRUN echo hello\n");
    const steps = events.filter((e) => e.kind === "step");
    expect(steps.map((e) => (e as { step: number; steps: number }).step)).toEqual([1, 2]);
    expect(events.some((e) => e.kind === "output" && e.text === "hello\n")).toBe(true);
    expect(events[events.length - 1]?.kind).toBe("done");
  });

  it("a binary of the image that the shell cannot run says so and exits 126", async () => {
    const store = openMemoryStore();
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    const images = fakeResolver(store, "base:latest", {}, [
      { path: "usr", type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 },
      { path: "usr/bin", type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 },
      {
        path: "usr/bin/python3",
        type: "file",
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 8,
        mtime: 0,
        content: { kind: "inline", bytes: elf },
      },
    ]);
    const run = buildImage({
      dockerfile: "FROM base\nRUN python3 -c 'print(1)'\n",
      context: contextFromFiles({}),
      store,
      images,
    });
    await expect(run).rejects.toThrow(/exit code: 126/);
    try {
      await buildImage({
        dockerfile: "FROM base\nRUN python3 -c 'print(1)'\n",
        context: contextFromFiles({}),
        store,
        images,
      });
    } catch (e) {
      expect((e as BuildFailure).output).toContain("python3: LayerLab cannot run this program");
    }
  });

  it("apk in an imported Alpine image fails the build at its line, saying why it cannot be simulated", async () => {
    const store = openMemoryStore();
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    const dir = (path: string) => ({
      path,
      type: "dir" as const,
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    });
    const images = fakeResolver(store, "alpine:3.20", {}, [
      dir("sbin"),
      { ...dir("sbin/apk"), type: "file", size: 8, content: { kind: "inline", bytes: elf } },
    ]);
    const failure = await buildImage({
      dockerfile: "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
      context: contextFromFiles({}),
      store,
      images,
    }).catch((e: unknown) => e as BuildFailure);
    expect(failure).toBeInstanceOf(BuildFailure);
    expect((failure as BuildFailure).message).toMatch(/line 2.*exit code: 126|exit code: 126/s);
    expect((failure as BuildFailure).output).toMatch(
      /apk: LayerLab cannot run this program: it needs Alpine's package index/,
    );
    expect((failure as BuildFailure).output).toMatch(/no Alpine mirror was reachable/);
  });

  it("writes COPY history as BuildKit does: shown flags, sources, heredoc names, destination", async () => {
    const { config } = await build(
      "FROM base\nARG D=/dst\nCOPY --chown=app --chmod=644 a* $D/\nCOPY <<EOF b /x/\nhi\nEOF\n",
      {
        a1: "1",
        b: "2",
      },
    );
    const h = (config.history ?? []).map((e) => e.created_by);
    expect(h).toContain("COPY --chown=app --chmod=644 a* /dst/ # buildkit");
    expect(h).toContain("COPY b <<EOF /x/ # buildkit");
  });

  it("reports Dockerfile mistakes with their line: unknown instruction, bad stage name, unknown target, unknown user", async () => {
    await expect(build("FROM base\nFROB x\n")).rejects.toThrow(/line 2, column 1: unknown instruction: FROB/);
    await expect(build("FROM base AS 1bad\n")).rejects.toThrow(/invalid name for build stage/);
    await expect(build("FROM base\n", {}, { target: "nope" })).rejects.toThrow(
      /target stage "nope" could not be found/,
    );
    await expect(build("FROM base\nUSER ghost\nRUN true\n")).rejects.toThrow(/unable to find user ghost/);
    await expect(build("RUN true\nFROM base\n")).rejects.toThrow(/must come after a FROM/);
  });

  it("global ARGs feed FROM; a stage sees them only after declaring ARG", async () => {
    const { fs } = await build(
      'ARG B=base\nARG V=1\nFROM $B\nRUN echo "[$V]" > /before\nARG V\nRUN echo "[$V]" > /after\n',
    );
    expect(await readText(fs, "before")).toBe("[]\n");
    expect(await readText(fs, "after")).toBe("[1]\n");
  });

  it("FROM finds stored images by name:tag, by ID prefix and by name@manifest-digest", async () => {
    const store = openMemoryStore();
    const first = await build("FROM base\nRUN echo p > /p\n", {}, { store, tags: ["parent:2"] });
    const rec = await store.meta.get("images", first.result.id);
    for (const ref of ["parent:2", first.result.id.slice(7, 19), `parent@${rec?.manifest}`]) {
      const child = await build(`FROM ${ref}\nRUN cat /p > /q\n`, {}, { store });
      expect(await readText(child.fs, "q")).toBe("p\n");
    }
  });

  it("a write through one name of a hard link shows through the other", async () => {
    const { fs } = await build("FROM base\nRUN echo one > /a && ln /a /b && echo two > /b\n");
    expect(await readText(fs, "a")).toBe("two\n");
    expect(fs.nodeAt("b")?.type).toBe("file");
  });

  it("useradd and groupadd write the account files, so USER and --chown find the names afterwards", async () => {
    const store = openMemoryStore();
    const bin = (path: string): FileEntry => ({
      path,
      type: "file",
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 64,
      mtime: 0,
      content: { kind: "synthetic", seed: 1 },
    });
    const dir = (path: string): FileEntry => ({
      path,
      type: "dir",
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    });
    const images = fakeResolver(store, "base:latest", {}, [
      dir("usr"),
      dir("usr/sbin"),
      dir("usr/bin"),
      bin("usr/sbin/useradd"),
      bin("usr/sbin/groupadd"),
      bin("usr/bin/id"),
    ]);
    const r = await buildImage({
      dockerfile:
        "FROM base\nRUN groupadd -g 2000 web && useradd -m -u 2001 -g web -s /bin/sh www\nUSER www\nRUN touch ~/mine && id > ~/id.txt\nCOPY --chown=www:web a /a\n",
      context: contextFromFiles({ a: "a" }),
      store,
      images,
    });
    const fs = await mergedFs(store, r.id);
    expect(await readText(fs, "etc/passwd")).toContain("www:x:2001:2000::/home/www:/bin/sh\n");
    expect(await readText(fs, "etc/group")).toContain("web:x:2000:\n");
    expect(fs.nodeAt("home/www")).toMatchObject({ type: "dir", uid: 2001, gid: 2000 });
    expect(fs.nodeAt("home/www/mine")).toMatchObject({ uid: 2001, gid: 2000 });
    expect(fs.nodeAt("a")).toMatchObject({ uid: 2001, gid: 2000 });
    expect(await readText(fs, "home/www/id.txt")).toBe("uid=2001(www) gid=2000(web) groups=2000(web)\n");
    // An image without useradd has no such command.
    await expect(build("FROM base\nRUN useradd x\n")).rejects.toThrow(/exit code: 127/);
  });

  it("ls -l shows the layer's real modes, owners and link targets", async () => {
    const { fs } = await build(
      "FROM base\nRUN chmod 4750 /opt/keep && chown app /opt/keep && ls -l /opt /bin/sh > /ls.txt\n",
    );
    const text = await readText(fs, "ls.txt");
    expect(text).toMatch(/^-rwsr-x--- 1 app +root +5 Jan {2}1 {2}1970 keep$/m);
    expect(text).toMatch(/^drwxr-xr-x 1 root +root +0 Jan {2}1 {2}1970 data$/m);
    expect(text).toMatch(/^lrwxrwxrwx 1 root +root +7 Jan {2}1 {2}1970 \/bin\/sh -> busybox$/m);
  });

  it("ONBUILD triggers of an earlier stage run in a stage built FROM it, before its own steps", async () => {
    const { fs, config } = await build("FROM base AS p\nONBUILD RUN echo t > /t\nFROM p\nRUN cat /t > /u\n");
    expect(await readText(fs, "u")).toBe("t\n");
    expect(config.config.OnBuild ?? null).toBeNull();
  });

  it("FROM --platform of a platform the store does not hold says so", async () => {
    const { events } = await build("FROM --platform=linux/arm64 base\n");
    expect(events.some((e) => e.kind === "warning" && /stored base is linux\/amd64/.test(e.message))).toBe(
      true,
    );
  });

  it("a RUN heredoc with #! for another interpreter runs that program, which LayerLab says it cannot run", async () => {
    const store = openMemoryStore();
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    const dir = (path: string): FileEntry => ({
      path,
      type: "dir",
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    });
    const images = fakeResolver(store, "base:latest", {}, [
      dir("usr"),
      dir("usr/bin"),
      {
        path: "usr/bin/python3",
        type: "file",
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 8,
        mtime: 0,
        content: { kind: "inline", bytes: elf },
      },
    ]);
    const dockerfile = "FROM base\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n";
    await expect(buildImage({ dockerfile, context: contextFromFiles({}), store, images })).rejects.toThrow(
      /"\/usr\/bin\/python3 \/dev\/pipes\/EOF" did not complete successfully: exit code: 126/,
    );
    const sh = await build("FROM base\nRUN <<EOF\n#!/bin/sh\necho from-sh > /sh.txt\nEOF\n");
    expect(await readText(sh.fs, "sh.txt")).toBe("from-sh\n");
  });

  it("an image script for another interpreter says LayerLab cannot run it; a shell script runs", async () => {
    const store = openMemoryStore();
    const enc = new TextEncoder();
    const text = (path: string, body: string): FileEntry => {
      const bytes = enc.encode(body);
      return {
        path,
        type: "file",
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: bytes.byteLength,
        mtime: 0,
        content: { kind: "inline", bytes },
      };
    };
    const dir = (path: string): FileEntry => ({
      path,
      type: "dir",
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    });
    const images = fakeResolver(store, "base:latest", {}, [
      dir("usr"),
      dir("usr/bin"),
      text("usr/bin/pip3", "#!/usr/bin/python3\nimport sys\n"),
      text("usr/bin/hello-sh", "#!/bin/sh\necho hello from a script\n"),
    ]);
    const ok = await buildImage({
      dockerfile: "FROM base\nRUN hello-sh > /out\n",
      context: contextFromFiles({}),
      store,
      images,
    });
    expect(await readText(await mergedFs(store, ok.id), "out")).toBe("hello from a script\n");
    try {
      await buildImage({
        dockerfile: "FROM base\nRUN pip3 install flask\n",
        context: contextFromFiles({}),
        store,
        images,
      });
      expect.unreachable();
    } catch (e) {
      expect((e as BuildFailure).output).toContain(
        "pip3: LayerLab cannot run this program: /usr/bin/pip3 is a script for /usr/bin/python3",
      );
    }
  });

  it("a RUN that writes without end stops with no space left instead of exhausting memory", async () => {
    const bfs = new BashFs(new LayerFs(async () => new Uint8Array(0)));
    bfs.maxWrite = 1000;
    await bfs.writeFile("/a", "x".repeat(600));
    await bfs.appendFile("/a", "y".repeat(300));
    await expect(bfs.appendFile("/a", "z".repeat(200))).rejects.toThrow(/ENOSPC/);
  });
});
