#!/usr/bin/env python3
"""Writes one golden of the run reference tests from what buildah did (see README.md).

Usage: golden-of.py CASES.json NAME BASE.tar VFS_DIR OVERLAY_DIR
Each DIR holds one storage driver's run: out, err, code, image.tar (the commit), changes.json
(image-changes.py of image.tar). The golden holds

- stdout, stderr and the exit code of `buildah run` (the same on both drivers; buildah's own
  trailer lines, which it adds to stderr when the command fails, are cut off);
- for each driver, `diff`: the container's changes as `docker diff` prints them, derived from the committed image's
  last layer by the rules of Docker's overlay2 driver (moby pkg/archive/changes.go `changes`): a
  depth-first walk of the layer, names in byte order; a whiteout is D, a path no base layer has is A,
  any other is C, except a directory whose mode and mtime equal the base's (carried along because
  something below it changed); before an A or D its parent is listed as C unless it is / or listed;
- and `layer`: the last layer's changeset and the entries it writes, as image-changes.py normalises them.

The paths buildah's run-time mounts leave behind (RUNTIME) are dropped; they are empty, and the
script fails if one is not. Docker keeps the same mount points in the container's init layer, so
`docker diff` never shows them; /etc, modified only because three of them were made in it, is
dropped with them when nothing else in the layer is under /etc.
"""
import json, sys, tarfile

RUNTIME = {"dev", "proc", "sys", "run", "etc/hosts", "etc/hostname", "etc/resolv.conf"}
TRAILER = ("subprocess exited with status ", "Error: exit status ")


def members(tf):
    out = []
    for m in tf.getmembers():
        p = m.name[2:] if m.name.startswith("./") else m.name
        p = p.strip("/")
        if p:
            out.append((p, m))
    return out


def layers_of(path):
    outer = tarfile.open(path)
    man = json.load(outer.extractfile("manifest.json"))[0]
    return [tarfile.open(fileobj=outer.extractfile(l)) for l in man["Layers"]]


def docker_diff(base_tar, top):
    base = {}
    for layer in layers_of(base_tar):
        for p, m in members(layer):
            base[p] = m
    upper = {}
    for p, m in members(top):
        if p in RUNTIME:
            if m.isdir() and any(q.startswith(p + "/") for q, _ in members(top)):
                raise SystemExit(f"run-time path /{p} has content in the layer: look at it before filtering")
            if m.isfile() and m.size:
                raise SystemExit(f"run-time file /{p} is not empty in the layer")
            continue
        d, _, b = p.rpartition("/")
        if b == ".wh..wh..opq":
            upper[d] = ("opaque", upper.get(d, (None, None))[1])
        elif b.startswith(".wh."):
            upper[(d + "/" if d else "") + b[4:]] = ("whiteout", None)
        else:
            prev = upper.get(p)
            upper[p] = ("opaque" if prev and prev[0] == "opaque" else "entry", m)
    if "etc" in upper and not any(p.startswith("etc/") for p in upper):
        del upper["etc"]
    kids = {}
    for p in upper:
        d, _, b = p.rpartition("/")
        kids.setdefault(d, []).append(b)
    out, changed = [], set()

    def visit(p):
        kind_of, m = upper[p]
        kind = None
        is_dir = m is not None and m.isdir()
        if kind_of in ("whiteout", "opaque"):
            kind = "D"
        elif p not in base:
            kind = "A"
        else:
            low = base[p]
            same = low.isdir() and is_dir and (low.mode & 0o7777) == (m.mode & 0o7777) and low.mtime == m.mtime
            kind = None if same else "C"
        if kind:
            if is_dir:
                changed.add(p)
            if kind in ("A", "D"):
                parent = p.rpartition("/")[0]
                if parent and parent not in changed:
                    out.append("C /" + parent)
                    changed.add(parent)
            out.append(f"{kind} /{p}")
        if is_dir:
            for n in sorted(kids.get(p, []), key=lambda s: s.encode()):
                visit(f"{p}/{n}")

    for n in sorted(kids.get("", []), key=lambda s: s.encode()):
        visit(n)
    return out


def outcome(folder, base_tar):
    """What one driver's run gave: output, exit code, `docker diff` lines and the last layer."""
    stderr = open(f"{folder}/err", encoding="utf-8").read().split("\n")
    while stderr and (stderr[-1] == "" or stderr[-1].startswith(TRAILER)):
        stderr.pop()
    layers = layers_of(f"{folder}/image.tar")
    norm = json.load(open(f"{folder}/changes.json"))
    # The base has one layer with changes; another changeset is the container's (none: it changed nothing).
    changes = norm["changesets"][-1] if len(norm["changesets"]) == len(layers) else {}
    entries = {p: norm["tree"][p] for p in sorted(changes) if p in norm["tree"]}
    return {
        "exitCode": int(open(f"{folder}/code").read()),
        "stdout": open(f"{folder}/out", encoding="utf-8").read(),
        "stderr": "".join(l + "\n" for l in stderr),
        "diff": docker_diff(base_tar, layers[-1]),
        "layer": {"changes": changes, "entries": entries},
    }


def main():
    cases, name, base_tar, vfs_dir, overlay_dir = sys.argv[1:6]
    case = next(c for c in json.load(open(cases)) if c["name"] == name)
    vfs, overlay = outcome(vfs_dir, base_tar), outcome(overlay_dir, base_tar)
    for k in ("exitCode", "stdout", "stderr"):
        if vfs[k] != overlay[k]:
            raise SystemExit(f"{name}: {k} differs between the storage drivers: {vfs[k]!r} {overlay[k]!r}")
    golden = {
        **case,
        "exitCode": vfs["exitCode"],
        "stdout": vfs["stdout"],
        "stderr": vfs["stderr"],
        "overlay": {"diff": overlay["diff"], "layer": overlay["layer"]},
        "vfs": {"diff": vfs["diff"], "layer": vfs["layer"]},
    }
    print(json.dumps(golden, indent=1, sort_keys=True))


main()
