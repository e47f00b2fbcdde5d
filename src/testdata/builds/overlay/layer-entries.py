#!/usr/bin/env python3
"""Lists each layer of a docker-archive after the first (the base) as JSON: every tar entry in archive
order with its name, type, mode and size, leaving out the paths the reference builder's runtime
mounts leave behind (dev, proc, sys, run, etc/hosts, etc/hostname, etc/resolv.conf, and a directory
that holds nothing else).
Usage: layer-entries.py IMAGE.tar > golden.json"""
import json, sys, tarfile

RUNTIME = {"dev", "proc", "sys", "run", "etc/hosts", "etc/hostname", "etc/resolv.conf"}
TYPES = {tarfile.DIRTYPE: "dir", tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.SYMTYPE: "symlink",
         tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}

outer = tarfile.open(sys.argv[1])
manifest = json.load(outer.extractfile("manifest.json"))[0]
layers = []
for name in manifest["Layers"][1:]:
    inner = tarfile.open(fileobj=outer.extractfile(name))
    members = [(m.name.removeprefix("./").strip("/"), m) for m in inner.getmembers()]
    kept = [(p, m) for p, m in members if p.split("/")[0] not in RUNTIME and p not in RUNTIME]
    names = [p for p, _ in kept]
    entries = []
    for p, m in kept:
        below = [q for q, _ in members if q.startswith(p + "/")]
        if m.isdir() and below and not any(q in names for q in below):
            continue  # only the parent of runtime mount points
        entries.append({"name": p, "type": TYPES[m.type], "mode": oct(m.mode & 0o7777), "size": m.size})
    layers.append(entries)
print(json.dumps({"layers": layers}, indent=1))
