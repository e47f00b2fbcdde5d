import { beforeAll, describe, expect, it } from "vitest";
import { readAptCatalog, readBuiltinBase } from "../../cli/catalog-files.ts";
import {
  APT_TRANSACTION_FILES,
  type AptTarget,
  aptCacheRows,
  aptListsRows,
  aptPackageEntries,
  aptPackageRows,
  aptTargetOfBase,
  aptTransactionRows,
  aptUpdateEntries,
  resolveAptInstall,
} from "./apt.ts";
import { addToDpkgStatus, type InstalledPackage, parseDpkgStatus } from "./dpkg.ts";
import type { AptCatalog, BaseCatalog } from "./types.ts";

let apt: AptCatalog;
let base: BaseCatalog;
let installed: Map<string, InstalledPackage>;
let target: AptTarget;

beforeAll(async () => {
  const found = await readBuiltinBase("ubuntu:20.04");
  base = found!.base;
  apt = await readAptCatalog(found!.info.packageManager!.file);
  installed = parseDpkgStatus(base.texts["var/lib/dpkg/status"]!);
  target = aptTargetOfBase(base);
});

const SHARED = APT_TRANSACTION_FILES;

/** "6,213 kB" / "25.0 MB" in apt's output → bytes, and the precision of the printed figure. */
function aptFigure(text: string): { bytes: number; step: number } {
  const m = /^([\d,.]+) ([kM])B$/.exec(text)!;
  const unit = m[2] === "k" ? 1000 : 1e6;
  const digits = m[1]!.replace(/,/g, "");
  const decimals = digits.includes(".") ? digits.split(".")[1]!.length : 0;
  return { bytes: Number(digits) * unit, step: unit / 10 ** decimals };
}

describe("resolveAptInstall", () => {
  it("gives python3's real dependency closure, as apt-get computed it on the same base", () => {
    const plan = resolveAptInstall(apt, ["python3"], { installed });
    expect(plan.errors).toEqual([]);
    const names = plan.install.map((p) => p.name).sort();
    expect(names).toEqual(apt.plans.python3!.recommends.map(([n]) => n).sort());
    expect(names).toEqual(
      expect.arrayContaining(["python3.11", "python3.11-minimal", "libpython3.11-stdlib", "libssl3"]),
    );
    expect(names).not.toContain("libc6");
    expect(plan.install.find((p) => p.name === "python3")?.reason).toBe("requested");
    expect(plan.install.find((p) => p.name === "ca-certificates")?.reason).toBe("recommended");
  });

  it("agrees with apt on every catalog target, with and without Recommends", () => {
    for (const [name, record] of Object.entries(apt.plans)) {
      for (const recommends of [true, false]) {
        const plan = resolveAptInstall(apt, [name], { installed, recommends });
        const want = new Map(recommends ? record.recommends : record.noRecommends);
        expect(plan.install.map((p) => p.name).sort(), `${name} recommends=${recommends}`).toEqual(
          [...want.keys()].sort(),
        );
        for (const item of plan.install) expect(item.pkg.version).toBe(want.get(item.name));
      }
    }
  });

  it("orders every package after the dependencies it installs", () => {
    const plan = resolveAptInstall(apt, ["git", "python3-pip"], { installed });
    const position = new Map(plan.install.map((p, i) => [p.name, i]));
    expect(position.get("python3.11-minimal")!).toBeLessThan(position.get("python3.11")!);
    expect(position.get("perl-modules-5.36")!).toBeLessThan(position.get("git")!);
    expect(position.get("libssl3")!).toBeLessThan(position.get("openssl")!);
  });

  it("adds up to the download and disk figures apt-get printed", () => {
    for (const example of apt.examples.filter((e) => e.command.startsWith("apt-get install"))) {
      const args = example.command.split(" ").slice(2);
      const recommends = !args.includes("--no-install-recommends");
      const plan = resolveAptInstall(
        apt,
        args.filter((a) => !a.startsWith("-")),
        { installed, recommends },
      );
      const need = aptFigure(/Need to get (\S+ [kM]B) of archives/.exec(example.stdout)![1]!);
      expect(Math.abs(plan.downloadBytes - need.bytes), example.command).toBeLessThanOrEqual(need.step);
      const disk = aptFigure(
        /After this operation, (\S+ [kM]B) of additional disk space/.exec(example.stdout)![1]!,
      );
      expect(Math.abs(plan.installedKiB * 1024 - disk.bytes), example.command).toBeLessThanOrEqual(disk.step);
    }
  });

  it("reports unknown and already installed packages as apt does", () => {
    const bad = resolveAptInstall(apt, ["python3", "no-such-package", "constructor"], { installed });
    expect(bad.errors).toEqual([
      "E: Unable to locate package no-such-package",
      "E: Unable to locate package constructor",
    ]);
    expect(bad.install).toEqual([]);
    const none = resolveAptInstall(apt, ["bash"], { installed });
    expect(none).toMatchObject({ install: [], alreadyInstalled: ["bash"], errors: [], downloadBytes: 0 });
  });
});

describe("package files", () => {
  it("puts python3.11 at usr/bin/python3.11, with python3 a symlink to it", () => {
    const entries = new Map(
      ["python3-minimal", "python3", "python3.11-minimal"]
        .flatMap((n) => aptPackageEntries(n, apt.packages[n]!, target))
        .map((e) => [e.path, e]),
    );
    const bin = entries.get("usr/bin/python3.11")!;
    expect(bin).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0 });
    expect(bin.size).toBeGreaterThan(1_000_000);
    expect(bin.content?.kind).toBe("synthetic");
    expect(entries.get("usr/bin/python3")).toMatchObject({ type: "symlink", linkname: "python3.11" });
    expect(entries.get("var/lib/dpkg/info/python3.list")?.type).toBe("file");
  });

  it("unpacks docs only where the base's dpkg filters allow, and /lib through the merged-/usr symlink", () => {
    const pkg = apt.packages["python3.11-minimal"]!;
    const full = aptPackageRows(pkg).map((r) => r[0]);
    const slim = aptPackageRows(pkg, target).map((r) => r[0]);
    expect(full).toContain("usr/share/man/man1/python3.11.1.gz");
    expect(slim).not.toContain("usr/share/man/man1/python3.11.1.gz");
    expect(slim).toContain("usr/share/doc/python3.11-minimal/copyright");
    expect(target.dirLinks.get("lib")).toBe("usr/lib");
    const keyutils = aptPackageRows(apt.packages.libkeyutils1!, target).map((r) => r[0]);
    expect(keyutils).toContain("usr/lib/x86_64-linux-gnu/libkeyutils.so.1");
    expect(keyutils.some((p) => p === "lib" || p.startsWith("lib/"))).toBe(false);
  });

  it("reproduces what the real `apt-get install -y python3` added to the base", () => {
    const example = apt.examples.find((e) => e.command === "apt-get install -y python3")!;
    const real = new Set(example.added.map((r) => r[0]).filter((p) => !SHARED.test(p)));
    const inBase = new Set(base.entries.map((r) => r[0]));
    const plan = resolveAptInstall(apt, ["python3"], { installed });
    const ours = new Set<string>();
    for (const item of plan.install) {
      for (const r of aptPackageRows(item.pkg, target))
        if (!inBase.has(r[0]) && !SHARED.test(r[0])) ours.add(r[0]);
    }
    expect([...ours].filter((p) => !real.has(p))).toEqual([]);
    expect([...real].filter((p) => !ours.has(p))).toEqual([]);
    expect(real.size).toBeGreaterThan(1500);
  });

  it("knows what apt-get update writes to /var/lib/apt/lists, with real sizes", () => {
    const lists = new Map(aptListsRows(apt).map((r) => [r[0], r]));
    const main = lists.get(
      "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
    )!;
    expect(main[5]).toBeGreaterThan(10e6);
    expect(lists.get("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease")![5]).toBeGreaterThan(
      50_000,
    );
    expect(apt.update.stdout).toMatch(/^Get:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease/);
    expect(apt.cacheSizes["pkgcache.bin"]).toBeGreaterThan(1e6);
    const debs = resolveAptInstall(apt, ["curl"], { installed }).install.map((p) => p.pkg.debFile);
    expect(debs).toContain(`curl_${apt.packages.curl!.version}_amd64.deb`);
  });

  it("gives the cache files apt would keep without docker-clean, adding up to the download", () => {
    const plan = resolveAptInstall(apt, ["python3"], { installed });
    const rows = aptCacheRows(apt, plan, 0);
    const debs = rows.filter((r) => r[0].startsWith("var/cache/apt/archives/") && r[0].endsWith(".deb"));
    expect(debs).toHaveLength(plan.install.length);
    expect(debs.reduce((n, r) => n + r[5], 0)).toBe(plan.downloadBytes);
    expect(rows.find((r) => r[0] === "var/cache/apt/pkgcache.bin")?.[5]).toBe(apt.cacheSizes["pkgcache.bin"]);
    const update = aptUpdateEntries(apt).filter((e) => e.type === "file");
    const listBytes = update.reduce((n, e) => n + e.size, 0);
    expect(listBytes).toBeGreaterThan(15e6);
    expect(update.every((e) => e.size === 0 || e.content?.kind === "synthetic")).toBe(true);
  });

  it("rebuilds /var/lib/dpkg/status to the byte count the real install left", () => {
    const example = apt.examples.find((e) => e.command === "apt-get install -y python3")!;
    const real = example.changed.find((r) => r[0] === "var/lib/dpkg/status")!;
    const plan = resolveAptInstall(apt, ["python3"], { installed });
    const status = addToDpkgStatus(
      base.texts["var/lib/dpkg/status"]!,
      plan.install.map((p) => p.pkg.statusStanza!),
    );
    expect(new TextEncoder().encode(status).length).toBe(real[5]);
    expect(parseDpkgStatus(status).get("python3.11")?.version).toBe(apt.packages["python3.11"]!.version);
  });

  it("records that Debian 12's pip refuses to install into the system Python (PEP 668)", () => {
    const pip = apt.examples.find((e) => e.command === "pip install flask")!;
    expect(pip.exitCode).toBe(1);
    expect(`${pip.stdout}${pip.stderr}`).toContain("externally-managed-environment");
    expect(pip.added.filter((r) => r[0].includes("flask"))).toEqual([]);
  });

  it("writes dpkg's .list and .conffiles with real text, byte for byte the size dpkg wrote", () => {
    let checked = 0;
    for (const [name, pkg] of Object.entries(apt.packages)) {
      const entries = aptPackageEntries(name, pkg, target);
      for (const row of pkg.dpkgInfo ?? []) {
        if (!row[0].endsWith(".list") && !row[0].endsWith(".conffiles")) continue;
        const e = entries.find((x) => x.path === row[0])!;
        expect(e.content?.kind, row[0]).toBe("inline");
        if (e.content?.kind === "inline") expect(e.content.bytes.length, row[0]).toBe(row[5]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
    const nginx = aptPackageEntries("nginx-common", apt.packages["nginx-common"]!, target);
    const conffiles = nginx.find((e) => e.path === "var/lib/dpkg/info/nginx-common.conffiles")!;
    const text =
      conffiles.content?.kind === "inline" ? new TextDecoder().decode(conffiles.content.bytes) : "";
    expect(text).toContain("/etc/nginx/nginx.conf\n");
  });

  it("gives the per-transaction files with the sizes the real install left", () => {
    const rows = aptTransactionRows(apt)!;
    const byPath = new Map(rows.map((r) => [r[0], r]));
    expect(byPath.get("var/log/apt/history.log")![5]).toBeGreaterThan(500);
    expect(byPath.get("var/cache/debconf/templates.dat")![5]).toBeGreaterThan(100_000);
    expect(byPath.has("etc/ld.so.cache")).toBe(true);
    expect(byPath.has("var/lib/dpkg/status")).toBe(false);
    const packageFiles = new Set(
      Object.values(apt.packages).flatMap((p) => aptPackageRows(p, target).map((r) => r[0])),
    );
    expect(rows.filter((r) => packageFiles.has(r[0]))).toEqual([]);
    expect(aptTransactionRows(apt, "apt-get install -y cowsay")).toBeUndefined();
  });
});
