#!/usr/bin/env python3
"""Gathers the apt-get catalog: real package file lists, sizes, dependencies, apt's own plans, the
files `apt-get update` writes and the full effect of example installs, from a Debian slim rootfs.

Usage (root): gather-apt.py WORK_DIR OUT.json.gz
WORK_DIR must hold rootfs-slim/ from make-debian-rootfs.sh. Everything runs inside copies of that
tree through debuerreotype-chroot, against the mirror in its /etc/apt/sources.list.d/debian.sources.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile

from catalog_common import INLINE_MAX, as_text, read_tar, write_json_gz

# Packages people install in teaching Dockerfiles; the catalog holds their whole dependency closure
# with and without Recommends (what apt-get on the slim base would install).
TARGETS = [
    "python3", "python3-pip", "python3-venv", "curl", "wget", "ca-certificates", "git", "nginx",
    "vim-tiny", "nano", "less", "procps", "iputils-ping", "unzip", "jq", "sudo", "openssl", "tree",
    "netcat-openbsd", "iproute2", "make", "build-essential", "python3-flask", "python3-requests", "nodejs",
]
# Example transactions recorded in full: each on a fresh copy of the base after `apt-get update`,
# or, with "then", on the tree the previous example left. A failing command is recorded, not fatal.
EXAMPLES = [
    {"command": ["apt-get", "install", "-y", "python3"]},
    {"command": ["apt-get", "install", "-y", "curl"]},
    {"command": ["apt-get", "install", "-y", "--no-install-recommends", "python3-pip"]},
    # Debian 12 marks its Python as externally managed (PEP 668): pip refuses before any download.
    {"command": ["pip", "install", "flask"], "then": True},
]
# Files every apt/dpkg run rewrites; they belong to the transaction, not to one package.
SHARED = re.compile(
    r"^(var/log/|var/lib/dpkg/(status|status-old|available|lock.*|triggers/.*|diversions.*|statoverride.*)$"
    r"|var/lib/apt/extended_states$|var/cache/debconf/|var/cache/ldconfig/|etc/ld\.so\.cache$|var/cache/apt/)"
)
# Small text worth carrying for package files: configuration and scripts people open.
PKG_TEXT = re.compile(r"^(etc/|usr/bin/|usr/sbin/|usr/lib/os-release$)")


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def chroot(root, *cmd, env_extra=None):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    return subprocess.run(["debuerreotype-chroot", root, "env", "DEBIAN_FRONTEND=noninteractive", *cmd],
                          check=True, capture_output=True, text=True, env=env).stdout


def fresh(src, dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    subprocess.run(["cp", "-a", src, dst], check=True)


def snapshot(root):
    """path -> (type, mode, uid, gid, size, mtime_ns, link, ino) for every entry under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir in ("proc", "sys", "dev"):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else rel_dir + "/" + name
            if rel == "debuerreotype-epoch":
                continue
            st = os.lstat(full)
            m = st.st_mode
            t = "d" if stat.S_ISDIR(m) else "l" if stat.S_ISLNK(m) else "f" if stat.S_ISREG(m) else \
                "c" if stat.S_ISCHR(m) else "b" if stat.S_ISBLK(m) else "p"
            link = os.readlink(full) if t == "l" else None
            out[rel] = (t, stat.S_IMODE(m), st.st_uid, st.st_gid, st.st_size if t == "f" else 0,
                        st.st_mtime_ns, link, (st.st_dev, st.st_ino) if t == "f" and st.st_nlink > 1 else None)
    return out


def snap_row(root, path, s, seen_inodes, texts):
    t, mode, uid, gid, size, mtime_ns, link, ino = s
    r = [path, t, mode, uid, gid, size, mtime_ns // 1_000_000_000]
    if ino is not None:
        if ino in seen_inodes:
            r[1] = "h"
            r[5] = 0
            r.append(seen_inodes[ino])
            return r
        seen_inodes[ino] = path
    if t == "l":
        r.append(link)
    if t == "f" and size <= INLINE_MAX and PKG_TEXT.match(path):
        with open(os.path.join(root, path), "rb") as f:
            text = as_text(f.read())
        if text is not None:
            texts[path] = text
    return r


def diff(root, before, after):
    """Rows added or changed between two snapshots (sorted by path), removed paths, and texts."""
    added, changed, texts, seen = [], [], {}, {}
    for path in sorted(after):
        s = after[path]
        old = before.get(path)
        if old is None:
            added.append(snap_row(root, path, s, seen, texts))
        elif old[:6] != s[:6] or old[6] != s[6]:
            changed.append(snap_row(root, path, s, seen, texts))
    removed = sorted(p for p in before if p not in after)
    return added, changed, removed, texts


def installed(root):
    out = chroot(root, "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n")
    return {l.split("\t")[0]: l.split("\t")[1] for l in out.splitlines() if l.split("\t")[2].startswith("ii")}


def plan(root, args):
    """apt-get's own install plan: [name, version] in the order of its Inst lines."""
    out = chroot(root, "apt-get", "install", "-s", "-y", *args)
    res = []
    for line in out.splitlines():
        m = re.match(r"^Inst (\S+) (?:\[\S+\] )?\((\S+)", line)
        if m:
            res.append([m.group(1).split(":")[0], m.group(2)])
    return res


def control_fields(text):
    fields, key = {}, None
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, v = line.partition(":")
            fields[key] = v.strip()
    return fields


def dep_names(field):
    names = []
    for group in field.split(","):
        for alt in group.split("|"):
            alt = alt.strip()
            if alt:
                names.append(re.split(r"[\s(:]", alt, maxsplit=1)[0])
    return names


def topo_order(pkgs):
    """Dependencies (Pre-Depends, Depends) before dependents; cycles broken by name order."""
    order, state = [], {}

    def visit(n):
        if state.get(n) == 2 or n not in pkgs:
            return
        if state.get(n) == 1:
            return
        state[n] = 1
        f = pkgs[n]
        for d in dep_names(f.get("preDepends", "")) + dep_names(f.get("depends", "")):
            visit(d)
        state[n] = 2
        order.append(n)

    for n in sorted(pkgs):
        visit(n)
    return order


def merged_usr_links(root):
    """Top-level symlinks of a merged-/usr tree ("lib" -> "usr/lib"), through which dpkg unpacks /lib/... ."""
    links = {}
    for name in os.listdir(root):
        full = os.path.join(root, name)
        if os.path.islink(full) and os.path.isdir(full):
            links[name] = os.path.normpath(os.readlink(full))
    return links


def canonical(path, links):
    top, sep, rest = path.partition("/")
    return links[top] + sep + rest if top in links and sep else path


def main():
    work, out_path = sys.argv[1:3]
    base = os.path.join(work, "rootfs-slim")
    upd = os.path.join(work, "apt-updated")
    fresh(base, upd)
    s0 = snapshot(upd)
    update_log = chroot(upd, "apt-get", "update")
    s1 = snapshot(upd)
    added, changed, removed, _ = diff(upd, s0, s1)
    update = {"command": "apt-get update", "stdout": update_log, "added": added, "changed": changed,
              "removed": removed}
    print(f"apt-get update: {len(added)} added, {len(changed)} changed", flush=True)

    # What apt would write to /var/cache/apt without the docker-clean configuration.
    chroot(upd, "apt-cache", "-o", "Dir::Cache::pkgcache=/var/cache/apt/pkgcache.bin",
           "-o", "Dir::Cache::srcpkgcache=/var/cache/apt/srcpkgcache.bin", "gencaches")
    caches = {n: os.path.getsize(os.path.join(upd, "var/cache/apt", n)) for n in ("pkgcache.bin", "srcpkgcache.bin")}
    for n in caches:
        os.remove(os.path.join(upd, "var/cache/apt", n))

    plans = {}
    names = {}
    for t in TARGETS:
        rec = plan(upd, [t])
        norec = plan(upd, ["--no-install-recommends", t])
        plans[t] = {"recommends": rec, "noRecommends": norec}
        for n, v in rec + norec:
            names[n] = v
    print(f"{len(names)} packages in the closure of {len(TARGETS)} targets", flush=True)

    debdir = os.path.join(upd, "var/tmp/debs")
    os.makedirs(debdir, exist_ok=True)
    spec = [f"{n}={v}" for n, v in sorted(names.items())]
    subprocess.run(["debuerreotype-chroot", upd, "bash", "-c", 'cd /var/tmp/debs && apt-get download -q "$@"', "--", *spec],
                   check=True, capture_output=True)
    debs = {}
    for f in os.listdir(debdir):
        if f.endswith(".deb"):
            debs[f.split("_")[0]] = f

    packages = {}
    for n, v in sorted(names.items()):
        deb = os.path.join(debdir, debs[n])
        show = control_fields(chroot(upd, "apt-cache", "show", "--no-all-versions", f"{n}={v}"))
        files_tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, capture_output=True).stdout
        import io
        with tarfile.open(fileobj=io.BytesIO(files_tar)) as tf:
            rows, texts = read_tar(tf, lambda p, size: size <= INLINE_MAX and PKG_TEXT.match(p) is not None)
        conffiles = ""
        try:
            conffiles = sh(["dpkg-deb", "--info", deb, "conffiles"])
        except subprocess.CalledProcessError:
            pass
        packages[n] = {
            "version": v,
            "architecture": show.get("Architecture", ""),
            "section": show.get("Section", ""),
            "priority": show.get("Priority", ""),
            "summary": show.get("Description", show.get("Description-en", "")).split("\n")[0],
            "installedSize": int(show.get("Installed-Size", "0")),
            "debSize": os.path.getsize(deb),
            "debFile": debs[n],
            "filename": show.get("Filename", ""),
            "sha256": show.get("SHA256", ""),
            "preDepends": show.get("Pre-Depends", ""),
            "depends": show.get("Depends", ""),
            "recommends": show.get("Recommends", ""),
            "provides": show.get("Provides", ""),
            "conffiles": [l.split()[0].lstrip("/") for l in conffiles.splitlines() if l.strip()],
            "files": rows,
            "texts": texts,
        }
    print("file lists read", flush=True)
    shutil.rmtree(debdir)

    # One package at a time, dependencies first: what its installation adds beyond its .deb.
    step_root = os.path.join(work, "apt-steps")
    fresh(upd, step_root)
    links = merged_usr_links(step_root)
    before = snapshot(step_root)
    have = installed(step_root)
    for n in topo_order(packages):
        if n in have:
            continue
        chroot(step_root, "apt-get", "install", "-y", "--no-install-recommends", f"{n}={packages[n]['version']}")
        now = installed(step_root)
        new = sorted(set(now) - set(have))
        after = snapshot(step_root)
        added, changed, removed, texts = diff(step_root, before, after)
        deb_paths = set()
        for m in new:
            deb_paths.update(canonical(r[0], links) for r in packages[m]["files"])
        extras = [r for r in added if r[0] not in deb_paths and not SHARED.match(r[0])]
        for m in new:
            if m not in packages:
                continue
            mine = [r for r in extras if r[0].startswith(f"var/lib/dpkg/info/{m}.") or r[0].startswith(f"var/lib/dpkg/info/{m}:")]
            packages[m]["dpkgInfo"] = mine
        others = [r for r in extras if not r[0].startswith("var/lib/dpkg/info/")]
        packages[n]["scriptFiles"] = others
        packages[n]["scriptTexts"] = {p: t for p, t in texts.items() if any(r[0] == p for r in others)}
        packages[n]["installedWith"] = [m for m in new if m != n]
        for m in new:
            if m in packages:
                # The stanza dpkg added to /var/lib/dpkg/status for it, so the simulation can add the same.
                packages[m]["statusStanza"] = chroot(step_root, "dpkg-query", "-s", m).rstrip("\n") + "\n"
        print(f"step {n}: {len(new)} new, {len(others)} script files", flush=True)
        before, have = after, now

    examples = []
    ex_root = os.path.join(work, "apt-example")
    for ex in EXAMPLES:
        cmd = ex["command"]
        if not ex.get("then"):
            fresh(upd, ex_root)
        b = snapshot(ex_root)
        run = subprocess.run(["debuerreotype-chroot", ex_root, "env", "DEBIAN_FRONTEND=noninteractive", *cmd],
                             capture_output=True, text=True)
        a = snapshot(ex_root)
        added, changed, removed, texts = diff(ex_root, b, a)
        examples.append({"command": " ".join(cmd), "exitCode": run.returncode, "stdout": run.stdout,
                         "stderr": run.stderr, "added": added, "changed": changed, "removed": removed})
        print(f"{' '.join(cmd)}: exit {run.returncode}, {len(added)} added, {len(changed)} changed", flush=True)
    shutil.rmtree(ex_root)
    shutil.rmtree(step_root)

    with open(os.path.join(upd, "etc/apt/sources.list.d/debian.sources")) as f:
        sources = f.read()
    doc = {
        "format": "layerlab.apt/1",
        "id": "debian-bookworm-amd64",
        "base": "debian-bookworm-slim",
        "sources": sources,
        "targets": TARGETS,
        "update": update,
        "cacheSizes": caches,
        "plans": plans,
        "packages": packages,
        "examples": examples,
    }
    raw = write_json_gz(out_path, doc)
    print(f"{out_path}: {len(packages)} packages, {raw} bytes of JSON")


if __name__ == "__main__":
    main()
