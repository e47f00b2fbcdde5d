import { describe, expect, it } from "vitest";
import { bunzip2 } from "../archive/bzip2.ts";
import { readTar } from "../archive/tar-reader.ts";
import { writeTar } from "../archive/tar-writer.ts";
import { sha256 } from "../digest.ts";
import { openMemoryStore } from "../store/memory.ts";
import { buildImage } from "./builder.ts";
import { type ContextFileInit, contextFromFiles, DockerIgnore, matchPath } from "./context.ts";
import { parseChmod, sniffArchive } from "./copy.ts";
import { fakeResolver, mergedFs, readText } from "./testing.ts";

async function build(dockerfile: string, files: Record<string, ContextFileInit>) {
  const store = openMemoryStore();
  const r = await buildImage({
    dockerfile,
    context: contextFromFiles(files),
    store,
    images: fakeResolver(store),
  });
  return mergedFs(store, r.id);
}

async function tarOf(files: Record<string, string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  const entries = Object.entries(files).map(([name, text]) => ({
    name,
    body: enc.encode(text),
    mode: 0o640,
    uid: 7,
    gid: 8,
  }));
  for await (const c of writeTar(entries)) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe("filepath.Match and .dockerignore", () => {
  it("matches like Go: * and ? stay inside one segment, classes, escapes", () => {
    expect(matchPath("*.txt", "a.txt")).toBe(true);
    expect(matchPath("*.txt", "d/a.txt")).toBe(false);
    expect(matchPath("d/?.txt", "d/a.txt")).toBe(true);
    expect(matchPath("[a-c]x", "bx")).toBe(true);
    expect(matchPath("[^a-c]x", "bx")).toBe(false);
    expect(matchPath("\\*", "*")).toBe(true);
  });

  it("applies ** patterns, parent matches and ! exceptions, the last match winning", () => {
    const ig = new DockerIgnore("# comment\n**/*.log\nbuild\n!build/keep.txt\n/secret*\n");
    expect(ig.ignores("a.log")).toBe(true);
    expect(ig.ignores("x/y/z.log")).toBe(true);
    expect(ig.ignores("build/out.o")).toBe(true);
    expect(ig.ignores("build/keep.txt")).toBe(false);
    expect(ig.ignores("secret.env")).toBe(true);
    expect(ig.ignores("src/main.c")).toBe(false);
  });
});

describe("COPY and ADD", () => {
  it("parses --chmod in octal and symbolic forms and refuses others", () => {
    expect(parseChmod("755")(0o644, false)).toBe(0o755);
    expect(parseChmod("u+x,go-r")(0o644, false)).toBe(0o700);
    expect(parseChmod("a=rX")(0o600, true)).toBe(0o555);
    expect(parseChmod("a=rX")(0o600, false)).toBe(0o444);
    expect(() => parseChmod("999")).toThrow(/invalid chmod parameter/);
    expect(() => parseChmod("17777")).toThrow(/invalid chmod parameter/);
  });

  it("copies directory contents, follows trailing-slash rules and WORKDIR-relative destinations", async () => {
    const fs = await build(
      "FROM base\nWORKDIR /w\nCOPY dir sub/\nCOPY a.txt renamed\nCOPY a.txt newdir/\nCOPY a.txt /opt/data\n",
      {
        "dir/x": "x",
        "dir/in/y": "y",
        "a.txt": "a",
      },
    );
    expect(await readText(fs, "w/sub/x")).toBe("x");
    expect(await readText(fs, "w/sub/in/y")).toBe("y");
    expect(fs.nodeAt("w/sub/dir")).toBeUndefined();
    expect(await readText(fs, "w/renamed")).toBe("a");
    expect(await readText(fs, "w/newdir/a.txt")).toBe("a");
    expect(await readText(fs, "opt/data/a.txt")).toBe("a");
  });

  it("wildcards skip no-match silently but a missing plain source fails", async () => {
    const fs = await build("FROM base\nCOPY *.md nothing* /docs/\n", { "a.md": "a", "b.md": "b" });
    expect(fs.childrenOf("docs")).toEqual(["a.md", "b.md"]);
    await expect(build("FROM base\nCOPY missing.txt /\n", {})).rejects.toThrow(/"\/missing.txt": not found/);
  });

  it("--chown resolves names through the image's /etc/passwd and fails for unknown ones; created dirs get it too", async () => {
    const fs = await build("FROM base\nCOPY --chown=app:app a /new/dir/a\nCOPY --chown=42 a /n42\n", {
      a: "a",
    });
    expect(fs.nodeAt("new/dir/a")).toMatchObject({ uid: 1000, gid: 1000 });
    expect(fs.nodeAt("new/dir")).toMatchObject({ uid: 1000, gid: 1000 });
    expect(fs.nodeAt("n42")).toMatchObject({ uid: 42, gid: 42 });
    await expect(build("FROM base\nCOPY --chown=nobody a /a\n", { a: "a" })).rejects.toThrow(
      /no such user: nobody/,
    );
  });

  it("--chmod: directories made to hold the copy stay 0755; a directory the copy creates from a source directory takes the mode", async () => {
    const fs = await build(
      "FROM base\nCOPY --chmod=700 d /slash/\nCOPY --chmod=700 d /noslash\nCOPY --chmod=600 f /deep/er/f\n",
      {
        "d/x": "x",
        f: "f",
      },
    );
    expect(fs.nodeAt("slash")?.mode).toBe(0o755);
    expect(fs.nodeAt("slash/x")?.mode).toBe(0o700);
    expect(fs.nodeAt("noslash")?.mode).toBe(0o700);
    expect(fs.nodeAt("deep/er")?.mode).toBe(0o755);
    expect(fs.nodeAt("deep/er/f")?.mode).toBe(0o600);
  });

  it("--parents keeps the path after /./, --exclude leaves files out", async () => {
    const fs = await build(
      "FROM base\nCOPY --parents src/./pkg/a.go /out/\nCOPY --exclude=*.log logs /logs/\n",
      {
        "src/pkg/a.go": "go",
        "logs/keep.txt": "k",
        "logs/drop.log": "d",
      },
    );
    expect(await readText(fs, "out/pkg/a.go")).toBe("go");
    expect(fs.childrenOf("logs")).toEqual(["keep.txt"]);
  });

  it("COPY from a heredoc writes a file named by the delimiter, expanded unless quoted", async () => {
    const fs = await build(
      "FROM base\nENV WHO=world\nCOPY <<EOF /greet.txt\nhello $WHO\nEOF\nCOPY <<'RAW' /raw.txt\nhello $WHO\nRAW\n",
      {},
    );
    expect(await readText(fs, "greet.txt")).toBe("hello world\n");
    expect(await readText(fs, "raw.txt")).toBe("hello $WHO\n");
  });

  it("ADD extracts local tar archives by content (plain and gzip) with their owners; COPY keeps them", async () => {
    const tar = await tarOf({ "t/one.txt": "1" });
    const { gzipSync } = await import("fflate");
    const fs = await build("FROM base\nADD x.bin /plain/\nADD y.tgz /gz\nCOPY y.tgz /kept/\n", {
      "x.bin": tar,
      "y.tgz": gzipSync(tar),
    });
    expect(await readText(fs, "plain/t/one.txt")).toBe("1");
    expect(fs.nodeAt("plain/t/one.txt")).toMatchObject({ uid: 7, gid: 8, mode: 0o640 });
    expect(await readText(fs, "gz/t/one.txt")).toBe("1");
    expect(fs.nodeAt("kept/y.tgz")?.type).toBe("file");
  });

  it("ADD gives extracted symlinks mode 0777 whatever their tar header says, as Linux does", async () => {
    // Tars from non-Docker tools often carry 0644 on a symlink; extraction on Linux ignores it.
    const parts: Uint8Array[] = [];
    for await (const c of writeTar([
      { name: "t/one.txt", body: new TextEncoder().encode("1"), mode: 0o644 },
      { name: "t/link", type: "symlink", linkname: "one.txt", mode: 0o644 },
    ]))
      parts.push(c);
    const tar = new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
    const store = openMemoryStore();
    const r = await buildImage({
      dockerfile: "FROM base\nADD x.tar /x/\n",
      context: contextFromFiles({ "x.tar": tar }),
      store,
      images: fakeResolver(store),
    });
    const fs = await mergedFs(store, r.id);
    expect(fs.nodeAt("x/t/link")).toMatchObject({ type: "symlink", target: "one.txt", mode: 0o777 });
    expect(fs.nodeAt("x/t/one.txt")).toMatchObject({ type: "file", mode: 0o644 });
    // The layer LayerLab wrote: its tar header says 0777 (lrwxrwxrwx), as a real builder's does.
    const image = await store.meta.get("images", r.id);
    const layer = await store.blobs.get(image!.layers.at(-1)!);
    const modes = new Map<string, number>();
    for await (const { header, body } of readTar(
      (async function* () {
        yield layer!;
      })(),
    )) {
      modes.set(`${header.type} ${header.name}`, header.mode);
      for await (const _ of body);
    }
    expect(modes.get("symlink x/t/link")).toBe(0o777);
    expect(modes.get("file x/t/one.txt")).toBe(0o644);
  });

  it("sniffs BuildKit's compression magic numbers", () => {
    expect(sniffArchive(new Uint8Array([0x42, 0x5a, 0x68, 0x39]))).toBe("bzip2");
    expect(sniffArchive(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe("xz");
    expect(sniffArchive(new Uint8Array([0x1f, 0x8b, 0x08, 0]))).toBe("gzip");
    expect(sniffArchive(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(sniffArchive(new Uint8Array([0x50, 0x2a, 0x4d, 0x18]))).toBe("zstd");
    expect(sniffArchive(new TextEncoder().encode("plain text"))).toBe("none");
  });

  it("refuses remote sources: COPY never takes URLs, ADD cannot download offline", async () => {
    await expect(build("FROM base\nCOPY https://example.com/x /x\n", {})).rejects.toThrow(
      /source can't be a URL for COPY/,
    );
    await expect(build("FROM base\nADD https://example.com/x.tgz /x\n", {})).rejects.toThrow(
      /LayerLab builds offline and cannot download remote sources/,
    );
  });

  it("rejects unknown flags and variables in --from", async () => {
    await expect(build("FROM base\nCOPY --boo a /a\n", { a: "a" })).rejects.toThrow(/unknown flag: --boo/);
    await expect(build("FROM base\nARG S=x\nCOPY --from=$S a /a\n", { a: "a" })).rejects.toThrow(
      /variable expansion is not supported for --from/,
    );
  });

  it("keeps symlinks inside copied directories and follows a top-level source symlink", async () => {
    const fs = await build("FROM base\nCOPY d /d\nCOPY link /followed\n", {
      "d/target": "t",
      "d/alias": { symlink: "target" },
      link: { symlink: "d/target" },
    });
    expect(fs.nodeAt("d/alias")).toMatchObject({ type: "symlink", target: "target" });
    expect(fs.nodeAt("followed")?.type).toBe("file");
    expect(await readText(fs, "followed")).toBe("t");
  });

  it("follows a source symlink in the middle of a path within the context, as BuildKit's RootPath does", async () => {
    const fs = await build("FROM base\nCOPY via/target /mid\nCOPY up/d/target /bounded\n", {
      "d/target": "t",
      via: { symlink: "d" },
      up: { symlink: "../../.." },
    });
    expect(await readText(fs, "mid")).toBe("t");
    expect(await readText(fs, "bounded")).toBe("t");
    await expect(
      build("FROM base\nCOPY a/x /x\n", { a: { symlink: "b" }, b: { symlink: "a" } }),
    ).rejects.toThrow(/ELOOP/);
  });
});

const BZ2 =
  "QlpoMTFBWSZTWcDaNfoAATn/////////////////////////////////////////////sAGaIgQ//1VVABMACYBMAATAAAmAAAGgEwAAAABPQAAAAAAAAAAAAAAAAABMACTAATAAEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAG1VJMjaNIANMgBoAaAAADQZNAADIyZAyGhoPSaAGgNDTQaYTQAAAANAMmgDQ00GmIAANDTQBev8oKcDSNROSdDWMRsG0ZD6kKdk8J6T4n5QCglCKGUQb0cR1HkfSBIUiSN/SSJKt8BAICTpQlKVJWliWpcl6YJimT+0zTRNU2TdOE5TpO08T1Pk/UBQVCUNRH+KKoyjqQpKlKWpimqcp6oKiqSpqoqqrKurCsrxAoFW1cV1XlfWAeh7MIXu+D4MH1JYVJYxIWHSTSP6QsSPwxBJ+fxqMUYsgUhNaQoAZALGjBIWOGaQrwQIwSFkBiZEyRky+pCZlPP2mbQkyGAoIcMoNBBmVMsZczBmTNGbM4QTBsIwrDMOxDEsUxbGMaxzHsgyLJMmyjKssy7MMyzTNs4zrPM+0DQtE0bSNK0zTtQ1LVNW1jWtc17YNi2TZto2rbNu3Dct03beN63zfuA4LhOG4jiuM47kOS5TluY5rnOe6Douk6bqOq6zruw7LtO27juu877wPC8TxvI8rzPO9D0vU9b2Pa9z3vg/98XyfN9H1fZgID7oJ+H5fp+xdyRThQkMDaNfo=";

describe("bzip2", () => {
  const data = Uint8Array.from(atob(BZ2), (c) => c.charCodeAt(0));

  it("decodes what python's bz2 wrote (runs, all byte values), and concatenated streams", async () => {
    const out = bunzip2(data);
    expect(out.byteLength).toBe(1632);
    expect(await sha256(out)).toBe("sha256:c55075eaf23a10a55742bd68eb3ca1a36321560d28c766b7f2d6bb032744285a");
    const twice = new Uint8Array(data.byteLength * 2);
    twice.set(data);
    twice.set(data, data.byteLength);
    expect(bunzip2(twice).byteLength).toBe(3264);
  });

  it("refuses corrupt data with an archive error", () => {
    const bad = data.slice();
    bad[100] = (bad[100] as number) ^ 0xff;
    expect(() => bunzip2(bad)).toThrow(/bzip2/);
    expect(() => bunzip2(data.subarray(0, 60))).toThrow(/bzip2/);
  });
});
