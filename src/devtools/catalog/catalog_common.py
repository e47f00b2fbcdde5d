"""Shared helpers of the catalog gatherers: turning tar members into LayerLab's compact entry rows."""
import gzip
import json
import tarfile

# Small text files are stored with their real content; larger ones are synthesized from a seed.
INLINE_MAX = 4096
TYPE_CHARS = {
    tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l",
    tarfile.LNKTYPE: "h", tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p",
}


def clean(name):
    """tar member name -> clean relative path ("./usr/bin/x" -> "usr/bin/x", "./" -> "")."""
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


def as_text(data):
    """The bytes as a str when they are UTF-8 text without NUL, else None."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def row(m, path):
    """[path, type, mode, uid, gid, size, mtime, linkname?] for one tar member."""
    t = TYPE_CHARS[m.type]
    r = [path, t, m.mode & 0o7777, m.uid, m.gid, m.size if t == "f" else 0, int(m.mtime)]
    if t == "l":
        r.append(m.linkname)
    elif t == "h":
        r.append(clean(m.linkname))
    elif t in ("c", "b"):
        r.append(f"{m.devmajor},{m.devminor}")
    return r


def read_tar(tf, want_text):
    """All members of an open tarfile as rows, plus real text of the members want_text(path, size) picks."""
    rows, texts = [], {}
    for m in tf:
        path = clean(m.name)
        if path == "":
            continue
        r = row(m, path)
        rows.append(r)
        if r[1] == "f" and want_text(path, m.size):
            text = as_text(tf.extractfile(m).read())
            if text is not None:
                texts[path] = text
    return rows, texts


def write_json_gz(path, obj):
    data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=False).encode("utf-8")
    # mtime=0 keeps the .gz byte-identical between runs over the same input.
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0) as g:
            g.write(data)
    return len(data)


def parse_dpkg_filters(text):
    """dpkg.cfg path-include/path-exclude lines, in order (dpkg: the last matching one decides)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        for kind in ("path-exclude", "path-include"):
            if line.startswith(kind + " ") or line.startswith(kind + "="):
                out.append({"kind": "exclude" if kind == "path-exclude" else "include",
                            "glob": line[len(kind) + 1:].strip()})
    return out
