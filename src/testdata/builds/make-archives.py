#!/usr/bin/env python3
"""Writes the archives of cases/add-archives deterministically (fixed times, owners, order)."""
import bz2, gzip, io, lzma, os, subprocess, tarfile

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", "add-archives")

def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, kind, data, mode, uid in members:
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.uid, ti.gid, ti.mode = 0, uid, uid, mode
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)

plain = tar_bytes([
    ("etc/", "dir", None, 0o755, 0),
    ("etc/app.conf", "file", b"key=value\n", 0o644, 0),
    ("bin/", "dir", None, 0o755, 0),
    ("bin/tool", "file", b"#!/bin/sh\necho tool\n", 0o755, 0),
    ("bin/tool-link", "symlink", "tool", 0o777, 0),
    ("owned.txt", "file", b"owned by 1000\n", 0o600, 1000),
])
packed = tar_bytes([
    ("pkg/", "dir", None, 0o755, 0),
    ("pkg/data.txt", "file", b"packed data\n", 0o644, 0),
    ("pkg/nested/", "dir", None, 0o700, 0),
    ("pkg/nested/deep.txt", "file", b"deep\n", 0o644, 0),
])
bzipped = tar_bytes([
    ("bz/", "dir", None, 0o755, 0),
    ("bz/one.txt", "file", b"bzip2 " * 40 + b"\n", 0o644, 0),
    ("bz/two.txt", "file", bytes(range(256)) * 8, 0o600, 0),
])
xzed = tar_bytes([
    ("xz/", "dir", None, 0o755, 0),
    ("xz/x.txt", "file", b"xz data " * 100 + b"\n", 0o644, 0),
    ("xz/link", "symlink", "x.txt", 0o777, 0),
])
zstded = tar_bytes([
    ("zs/", "dir", None, 0o755, 0),
    ("zs/z.txt", "file", b"zstd data\n", 0o644, 0),
])
with open(os.path.join(here, "plain.tar"), "wb") as f:
    f.write(plain)
with open(os.path.join(here, "packed.tar.gz"), "wb") as f:
    f.write(gz(packed))
with open(os.path.join(here, "packed.tar.bz2"), "wb") as f:
    f.write(bz2.compress(bzipped, compresslevel=9))
with open(os.path.join(here, "packed.tar.xz"), "wb") as f:
    f.write(lzma.compress(xzed, preset=6))
with open(os.path.join(here, "packed.tar.zst"), "wb") as f:
    f.write(subprocess.run(["zstd", "-q", "-19", "-c"], input=zstded, capture_output=True, check=True).stdout)
with open(os.path.join(here, "notatar.gz"), "wb") as f:
    f.write(gz(b"just some text, gzip-compressed but not a tar\n"))
