#!/usr/bin/env python3
"""Turns a root filesystem tar (the image's single layer) into a LayerLab base catalog file.

Usage: rootfs-to-json.py ROOTFS.tar OUT.json.gz ID 'DESCRIPTION' [SOURCE-NOTE]
Every member becomes a row [path, type, mode, uid, gid, size, mtime, link?]; regular files up to
4096 bytes that are UTF-8 text keep their real content in "texts", and so do dpkg's database texts
whatever their size: var/lib/dpkg/status (the apt-get simulation reads it) and the per-package
var/lib/dpkg/info/*.list and *.conffiles (what `dpkg -L` prints). Other contents are not stored: LayerLab
synthesizes them from a seed derived from the base id and the path.
"""
import re
import sys
import tarfile

from catalog_common import INLINE_MAX, parse_dpkg_filters, read_tar, write_json_gz

ALWAYS_TEXT = re.compile(r"^var/lib/dpkg/(status|info/[^/]+\.(list|conffiles))$")


def main():
    src, out, ident, description = sys.argv[1:5]
    note = sys.argv[5] if len(sys.argv) > 5 else ""
    with tarfile.open(src) as tf:
        rows, texts = read_tar(tf, lambda p, size: size <= INLINE_MAX or ALWAYS_TEXT.match(p) is not None)
    filters = []
    for path in sorted(texts):
        if path.startswith("etc/dpkg/dpkg.cfg.d/"):
            filters += parse_dpkg_filters(texts[path])
    doc = {
        "format": "layerlab.base/1",
        "id": ident,
        "description": description,
        "source": note,
        "entries": rows,
        "texts": texts,
        "dpkgPathFilters": filters,
    }
    raw = write_json_gz(out, doc)
    size = sum(r[5] for r in rows)
    print(f"{out}: {len(rows)} entries, {size} bytes of file content, {len(texts)} texts, {raw} bytes of JSON")


if __name__ == "__main__":
    main()
