import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { aptListsRows } from "../../catalog/apt.ts";
import { parseAptCatalog } from "../../catalog/load.ts";
import type { AptCatalog } from "../../catalog/types.ts";
import type { FileEntry } from "../../fs/types.ts";
import { openMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/types.ts";
import { BuildFailure, buildImage } from "../builder.ts";
import { builtinResolver } from "../builtins.ts";
import { contextFromFiles } from "../context.ts";
import { storeResolver } from "../resolver.ts";
import { mergedFs, readText } from "../testing.ts";
import type { BuildEvent, BuildResult, ImageResolver } from "../types.ts";
import { aptConfigFrom, aptNameList, aptSize } from "./apt.ts";

const catalogFile = (file: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../public/catalog/${file}`, import.meta.url)));
const loader = async (file: string) => catalogFile(file);

const EXAMPLE = "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n";

let apt: AptCatalog;
let store: Store;
let builtins: ImageResolver;

beforeAll(() => {
  apt = parseAptCatalog(catalogFile("apt-debian-bookworm.json.gz"));
  store = openMemoryStore();
  builtins = builtinResolver(loader);
});

function build(dockerfile: string): Promise<BuildResult> {
  return buildImage({
    dockerfile,
    context: contextFromFiles({ "app.py": 'print("hi")\n' }),
    store,
    builtins,
  });
}

/** The entries of layer `index` of a built image, by path. */
async function layer(r: BuildResult, index: number): Promise<Map<string, FileEntry>> {
  const img = await storeResolver(store).resolve(r.id);
  const cs = img!.layers[index]!.changeset;
  return new Map(cs.entries.map((e) => [e.path, e]));
}

const fileBytes = (entries: Map<string, FileEntry>, prefix = ""): number => {
  let n = 0;
  for (const e of entries.values()) if (e.type === "file" && e.path.startsWith(prefix)) n += e.size;
  return n;
};

function output(events: BuildEvent[], step: number): string {
  return events
    .filter((e) => e.kind === "output" && e.step === step && e.stream === "stdout")
    .map((e) => (e as { text: string }).text)
    .join("");
}

/** The block of apt output under `heading`: the heading and its indented lines. */
function block(text: string, heading: string): string {
  const lines = text.split("\n");
  const at = lines.indexOf(heading);
  if (at < 0) return "";
  const out = [heading];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith("  "); i++) out.push(lines[i]!);
  return out.join("\n");
}

async function failure(dockerfile: string): Promise<BuildFailure> {
  try {
    await build(dockerfile);
  } catch (e) {
    if (e instanceof BuildFailure) return e;
    throw e;
  }
  throw new Error("the build succeeded");
}

describe("apt's size figures and lists", () => {
  it("prints sizes as apt's SizeToStr does", () => {
    expect(aptSize(8808)).toBe("8808 B");
    expect(aptSize(26_300)).toBe("26.3 kB");
    expect(aptSize(2_040_000)).toBe("2040 kB");
    expect(aptSize(6_132_000)).toBe("6132 kB");
    expect(aptSize(11_100_688)).toBe("11.1 MB");
    expect(aptSize(37_500 * 1024)).toBe("38.4 MB");
  });

  it("wraps package names as apt does", () => {
    const real = apt.examples.find((e) => e.command === "apt-get install -y python3")!.stdout;
    const names = block(real, "The following NEW packages will be installed:")
      .split("\n")
      .slice(1)
      .flatMap((l) => l.trim().split(" "));
    expect(names).toHaveLength(26);
    expect(`The following NEW packages will be installed:\n${aptNameList(names)}`).toBe(
      `${block(real, "The following NEW packages will be installed:")}\n`,
    );
  });

  it("reads apt.conf syntax: scopes, lists, comments, empty values", () => {
    const cfg = aptConfigFrom([
      '# a comment\nDPkg::Post-Invoke { "rm -f /x || true"; };\nDir::Cache::pkgcache "";\n// c\nAPT { Keep-Downloaded-Packages "false"; };\n',
      'Dpkg::Post-Invoke { "echo two"; };\n',
    ]);
    expect(cfg.lists.get("dpkg::post-invoke")).toEqual(["rm -f /x || true", "echo two"]);
    expect(cfg.values.get("dir::cache::pkgcache")).toBe("");
    expect(cfg.values.get("apt::keep-downloaded-packages")).toBe("false");
  });
});

describe("the product example over the ubuntu:20.04 stand-in", () => {
  let r: BuildResult;
  let run: Map<string, FileEntry>;
  let out: string;
  const real = () => apt.examples.find((e) => e.command === "apt-get install -y python3")!;

  beforeAll(async () => {
    r = await build(EXAMPLE);
    run = await layer(r, 1);
    out = output(r.events, 2);
  }, 120_000);

  it("the RUN layer holds the real lists, with the update's total size", () => {
    const lists = aptListsRows(apt).filter((row) => row[1] === "f");
    const total = lists.reduce((n, row) => n + row[5], 0);
    expect(total).toBe(19_867_257);
    for (const row of lists) expect(run.get(row[0])?.size, row[0]).toBe(row[5]);
    expect(fileBytes(run, "var/lib/apt/lists/")).toBe(total);
    expect(out.startsWith(apt.update.stdout)).toBe(true);
  });

  it("installs python3's real files where dpkg puts them", () => {
    const py = run.get("usr/bin/python3.11");
    expect(py?.type).toBe("file");
    const inDeb = apt.packages["python3.11-minimal"]!.files.find((row) => row[0] === "usr/bin/python3.11");
    expect(py?.size).toBe(inDeb?.[5]);
    expect(run.get("usr/bin/python3")?.linkname).toBe("python3.11");
    // Every file the real `apt-get install -y python3` added is there, with its real size.
    const added = real().added.filter((row) => row[1] === "f");
    const wrong = added.filter((row) => run.get(row[0])?.size !== row[5]).map((row) => row[0]);
    expect(wrong).toEqual([]);
    expect(added.length).toBeGreaterThan(1500);
  });

  it("records the packages in /var/lib/dpkg/status, byte for byte as long as the real one", async () => {
    const status = run.get("var/lib/dpkg/status");
    const realStatus = real().changed.find((row) => row[0] === "var/lib/dpkg/status")!;
    expect(status?.size).toBe(realStatus[5]);
    const text = await readText(await mergedFs(store, r.id), "var/lib/dpkg/status");
    expect(text).toContain("Package: python3\nStatus: install ok installed\n");
    expect(text).toContain("Package: libgpm2\nStatus: install ok installed\n");
  });

  it("writes the transaction's logs, debconf cache and ld.so.cache with the real run's sizes", () => {
    const rows = [...real().added, ...real().changed];
    for (const path of [
      "var/log/dpkg.log",
      "var/log/apt/term.log",
      "var/log/apt/history.log",
      "var/log/apt/eipp.log.xz",
      "var/cache/debconf/templates.dat",
      "var/cache/debconf/config.dat",
      "etc/ld.so.cache",
      "var/lib/apt/extended_states",
    ]) {
      const want = rows.find((row) => row[0] === path)![5];
      expect(run.get(path)?.size, path).toBe(want);
    }
  });

  it("follows the base's docker-clean: no binary caches, no .debs, nothing at the root", () => {
    expect(run.has("pkgcache.bin")).toBe(false);
    expect(run.has("srcpkgcache.bin")).toBe(false);
    const cache = [...run.keys()].filter(
      (p) => p.startsWith("var/cache/apt/") && run.get(p)?.type === "file",
    );
    expect(cache).toEqual([]);
  });

  it("prints apt's real output: the recorded run of this very command and package set", () => {
    const installPart = out.slice(apt.update.stdout.length);
    expect(installPart).toBe(real().stdout);
    const stderr = r.events
      .filter((e) => e.kind === "output" && e.step === 2 && e.stream === "stderr")
      .map((e) => (e as { text: string }).text)
      .join("");
    expect(stderr).toBe(real().stderr);
  });

  it("rm -rf /var/lib/apt/lists/* in the same RUN shrinks the layer by exactly the lists' bytes", async () => {
    const lean = await build(
      "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*\nCOPY . /app\n",
    );
    const leanRun = await layer(lean, 1);
    expect([...leanRun.keys()].filter((p) => p.startsWith("var/lib/apt/lists/"))).toEqual([]);
    expect(fileBytes(run) - fileBytes(leanRun)).toBe(19_867_257);
  }, 120_000);
});

describe("apt-get over the stand-in", () => {
  it("a later RUN installs only what is missing (Multi-Arch packages included)", async () => {
    const r = await build(
      "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nRUN apt-get install -y curl python3\n",
    );
    const second = await layer(r, 2);
    const out = output(r.events, 3);
    expect(out).toContain("python3 is already the newest version (3.11.2-1+b1).\n");
    // curl needs libssl3 (Multi-Arch: same, var/lib/dpkg/info/libssl3:amd64.list), which python3 brought.
    expect(out).not.toMatch(/Unpacking libssl3/);
    expect(second.has("usr/lib/x86_64-linux-gnu/libssl.so.3")).toBe(false);
    expect(second.get("usr/bin/curl")?.type).toBe("file");
    const plan = apt.plans.curl!.recommends.map(([n]) => n);
    const python = apt.plans.python3!.recommends.map(([n]) => n);
    const missing = plan.filter((n) => !python.includes(n));
    expect(out).toContain(`0 upgraded, ${missing.length} newly installed,`);
  }, 120_000);

  it("without docker-clean apt keeps the .debs and binary caches under /var/cache/apt; apt-get clean removes them", async () => {
    const base = "FROM ubuntu:20.04\nRUN rm /etc/apt/apt.conf.d/docker-clean\n";
    const r = await build(`${base}RUN apt-get update && apt-get install -y python3\n`);
    const run = await layer(r, 2);
    expect(run.get("var/cache/apt/pkgcache.bin")?.size).toBe(apt.cacheSizes["pkgcache.bin"]);
    expect(run.get("var/cache/apt/srcpkgcache.bin")?.size).toBe(apt.cacheSizes["srcpkgcache.bin"]);
    expect(run.has("pkgcache.bin")).toBe(false);
    expect(fileBytes(run, "var/cache/apt/archives/")).toBe(11_100_688);
    expect(run.get("var/cache/apt/archives/libssl3_3.0.22-1~deb12u2_amd64.deb")?.size).toBe(
      apt.packages.libssl3!.debSize,
    );

    const cleaned = await build(`${base}RUN apt-get update && apt-get install -y python3 && apt-get clean\n`);
    const cleanRun = await layer(cleaned, 2);
    expect([...cleanRun.keys()].filter((p) => /^var\/cache\/apt\/.*\.(deb|bin)$/.test(p))).toEqual([]);
    expect(fileBytes(run) - fileBytes(cleanRun)).toBe(
      11_100_688 + apt.cacheSizes["pkgcache.bin"]! + apt.cacheSizes["srcpkgcache.bin"]!,
    );
  }, 120_000);

  it("apt asks before installing more than was named; a build has no terminal, so that aborts unless -y", async () => {
    const e = await failure("FROM ubuntu:20.04\nRUN apt-get update && apt-get install curl\n");
    expect(e.message).toMatch(/exit code: 1$/);
    expect(e.output).toContain("Do you want to continue? [Y/n] Abort.");
    // tree needs nothing else: apt installs it without asking.
    const r = await build("FROM ubuntu:20.04\nRUN apt-get update && apt-get install tree\n");
    expect((await layer(r, 1)).get("usr/bin/tree")?.type).toBe("file");
    const quiet = await build("FROM ubuntu:20.04\nRUN apt-get update && apt-get install -qq curl\n");
    expect((await layer(quiet, 1)).get("usr/bin/curl")?.type).toBe("file");
    expect(output(quiet.events, 2)).toBe(apt.update.stdout);
  }, 120_000);

  it("`apt` deletes the .debs it downloaded even without docker-clean; apt-get keeps them", async () => {
    const base = "FROM ubuntu:20.04\nRUN rm /etc/apt/apt.conf.d/docker-clean\n";
    const r = await build(`${base}RUN apt update && apt install -y curl\n`);
    const run = await layer(r, 2);
    expect(fileBytes(run, "var/cache/apt/archives/")).toBe(0);
    expect(run.get("var/cache/apt/pkgcache.bin")?.size).toBe(apt.cacheSizes["pkgcache.bin"]);
    const option = await build(
      `${base}RUN apt-get update && apt-get -o APT::Keep-Downloaded-Packages=false install -y curl\n`,
    );
    expect(fileBytes(await layer(option, 2), "var/cache/apt/archives/")).toBe(0);
    const kept = await build(`${base}RUN apt-get update && apt-get install -y curl\n`);
    const curlDebs = apt.plans.curl!.recommends.reduce((n, [name]) => n + apt.packages[name]!.debSize, 0);
    expect(fileBytes(await layer(kept, 2), "var/cache/apt/archives/")).toBe(curlDebs);
    const real = apt.examples.find((e) => e.command === "apt-get install -y curl")!.stdout;
    for (const line of [
      "Need to get 6132 kB of archives.",
      "After this operation, 15.8 MB of additional disk space will be used.",
    ]) {
      expect(real).toContain(line);
      expect(output(kept.events, 3)).toContain(line);
    }
  }, 120_000);

  it("a command the catalog did not record gets apt's format with the plan's real figures", async () => {
    const r = await build("FROM ubuntu:20.04\nRUN apt-get update && apt-get install --yes python3\n");
    const out = output(r.events, 2);
    const stdout = apt.examples.find((e) => e.command === "apt-get install -y python3")!.stdout;
    for (const heading of [
      "The following additional packages will be installed:",
      "The following NEW packages will be installed:",
    ]) {
      expect(block(out, heading)).toBe(block(stdout, heading));
    }
    expect(out).toContain("0 upgraded, 26 newly installed, 0 to remove and 0 not upgraded.\n");
    expect(out).toContain("Need to get 11.1 MB of archives.\n");
    expect(out).toContain("After this operation, 36.6 MB of additional disk space will be used.\n");
    expect(out).toContain(
      "Get:1 http://deb.debian.org/debian-security bookworm-security/main amd64 libssl3 amd64 3.0.22-1~deb12u2 [2040 kB]\n",
    );
    expect(out).toContain("Selecting previously unselected package libgpm2:amd64.\n");
    const stderr = r.events
      .filter((e) => e.kind === "output" && e.step === 2 && e.stream === "stderr")
      .map((e) => (e as { text: string }).text)
      .join("");
    expect(stderr).toBe("debconf: delaying package configuration, since apt-utils is not installed\n");
  }, 120_000);

  it("a second apt-get update finds the lists current: Hit lines, and the lists stay out of its layer", async () => {
    const r = await build("FROM ubuntu:20.04\nRUN apt-get update\nRUN apt-get update\n");
    // The second RUN changed no file, so it adds nothing to the image.
    const img = await storeResolver(store).resolve(r.id);
    const after = img!.layers.slice(2).flatMap((l) => l.changeset.entries);
    expect(after.filter((e) => e.path.startsWith("var/lib/apt/lists/"))).toEqual([]);
    expect(output(r.events, 3)).toBe(
      "Hit:1 http://deb.debian.org/debian bookworm InRelease\n" +
        "Hit:2 http://deb.debian.org/debian bookworm-updates InRelease\n" +
        "Hit:3 http://deb.debian.org/debian-security bookworm-security InRelease\n" +
        "Reading package lists...\n",
    );
    // Nor are the binary caches, which apt keeps while they match the lists.
    const kept = await build(
      "FROM ubuntu:20.04\nRUN rm /etc/apt/apt.conf.d/docker-clean && apt-get update\nRUN apt-get update\n",
    );
    const keptImg = await storeResolver(store).resolve(kept.id);
    expect(keptImg!.layers[1]!.changeset.entries.some((e) => e.path === "var/cache/apt/pkgcache.bin")).toBe(
      true,
    );
    expect(keptImg!.layers.slice(2).flatMap((l) => l.changeset.entries.map((e) => e.path))).toEqual([]);
  }, 120_000);

  it("--no-install-recommends installs apt's smaller plan with its real figures", async () => {
    const r = await build(
      "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y --no-install-recommends python3-pip\n",
    );
    const out = output(r.events, 2);
    expect(out).toContain("0 upgraded, 30 newly installed, 0 to remove and 0 not upgraded.\n");
    expect(out).toContain("Need to get 13.4 MB of archives.\n");
    expect(out).toContain("After this operation, 47.9 MB of additional disk space will be used.\n");
    const run = await layer(r, 1);
    expect(run.has("usr/share/doc/krb5-locales/copyright")).toBe(false);
    expect(run.get("usr/bin/pip3")?.type).toBe("file");
    // The same through apt's configuration, as Dockerfiles often set it.
    const configured = await build(
      "FROM ubuntu:20.04\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99norecommends\nRUN apt-get update && apt-get install -y python3-pip\n",
    );
    expect(output(configured.events, 3)).toContain(
      "0 upgraded, 30 newly installed, 0 to remove and 0 not upgraded.\n",
    );
  }, 120_000);

  it("a package LayerLab's catalog lacks is named as such, not as one apt cannot locate; exit 100", async () => {
    const e = await failure("FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y npm\n");
    expect(e.message).toMatch(/exit code: 100/);
    expect(e.output).not.toContain("Unable to locate package");
    expect(e.output).toContain("npm is not in LayerLab's offline package catalog");
    expect(e.output).toContain("python3, python3-pip");
  }, 120_000);

  it("without apt-get update apt truly cannot locate a package", async () => {
    const e = await failure("FROM ubuntu:20.04\nRUN apt-get install -y python3\n");
    expect(e.message).toMatch(/exit code: 100/);
    expect(e.output).toContain("E: Unable to locate package python3");
  }, 120_000);

  it("apt-get update prints the real run's output; without docker-clean it writes the binary caches", async () => {
    const r = await build("FROM ubuntu:20.04\nRUN apt-get update\n");
    expect(output(r.events, 2)).toBe(apt.update.stdout);
    const run = await layer(r, 1);
    expect([...run.keys()].filter((p) => p.endsWith(".bin"))).toEqual([]);
    const kept = await build(
      "FROM ubuntu:20.04\nRUN rm /etc/apt/apt.conf.d/docker-clean && apt-get update\n",
    );
    const keptRun = await layer(kept, 1);
    expect(keptRun.get("var/cache/apt/pkgcache.bin")?.size).toBe(apt.cacheSizes["pkgcache.bin"]);
  }, 120_000);
});
