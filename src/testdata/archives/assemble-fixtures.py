#!/usr/bin/env python3
"""Assembles the archive layouts no tool on this machine writes, from a real OCI layout made by
skopeo/umoci (see make-fixtures.sh):
  docker25.tar        Docker 25+ `docker save`: OCI layout blobs (uncompressed layers) + index.json
                      + manifest.json + repositories, blobs first (manifest.json comes after the
                      layers), a history with empty_layer entries and a repeated empty layer.
  multi-platform.tar  containerd-style export: index.json -> nested image index naming linux/amd64,
                      linux/arm64/v8 and linux/s390x, whose blobs were never pulled (absent).
Usage: assemble-fixtures.py OCI_LAYOUT_DIR OUT_DIR"""
import gzip, hashlib, io, json, os, sys, tarfile

src, out = sys.argv[1], sys.argv[2]

def blob(d):
    with open(os.path.join(src, "blobs", "sha256", d.split(":")[1]), "rb") as f:
        return f.read()

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def dump(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=False).encode()

def write_tar(path, files):
    """files: list of (name, bytes); deterministic: fixed mtime, owner, order as given."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for name, data in files:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 0
                    t.addfile(ti)
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644; ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))

index = json.loads(open(os.path.join(src, "index.json")).read())
latest = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "latest")
manifest = json.loads(blob(latest["digest"]))
config = json.loads(blob(manifest["config"]["digest"]))
layers = [gzip.decompress(blob(l["digest"])) for l in manifest["layers"]]

# --- docker25.tar ---------------------------------------------------------------------------
empty = b"\0" * 1024  # what Docker stores for a step that changed nothing
seq = [layers[0], empty, layers[1], empty]
cfg = dict(config)
cfg["rootfs"] = {"type": "layers", "diff_ids": [digest(l) for l in seq]}
cfg["history"] = [
    {"created": "1970-01-01T00:00:00Z", "created_by": "ADD r1.tar / # buildkit"},
    {"created": "1970-01-01T00:00:00Z", "created_by": "ENV APP_ENV=test", "empty_layer": True},
    {"created": "1970-01-01T00:00:00Z", "created_by": "RUN /bin/sh -c true # buildkit"},
    {"created": "1970-01-01T00:00:00Z", "created_by": "ADD r2.tar / # buildkit"},
    {"created": "1970-01-01T00:00:00Z", "created_by": "LABEL org.example.team=layers", "empty_layer": True},
    {"created": "1970-01-01T00:00:00Z", "created_by": "WORKDIR /srv/app # buildkit"},
]
cfg_b = dump(cfg)
man = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(cfg_b), "size": len(cfg_b)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(l), "size": len(l)} for l in seq],
}
man_b = dump(man)
idx = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(man_b), "size": len(man_b),
        "annotations": {"io.containerd.image.name": "docker.io/library/ll-fix-docker25:latest",
                        "org.opencontainers.image.ref.name": "latest"},
    }],
}
dman = [{"Config": "blobs/sha256/" + digest(cfg_b)[7:], "RepoTags": ["ll-fix-docker25:latest"],
         "Layers": ["blobs/sha256/" + digest(l)[7:] for l in seq]}]
blobs = {}
for b in [*seq, cfg_b, man_b]:
    blobs[digest(b)[7:]] = b
files = [("blobs/sha256/" + k, v) for k, v in sorted(blobs.items())]
files += [("index.json", dump(idx)), ("manifest.json", dump(dman)),
          ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
          ("repositories", dump({"ll-fix-docker25": {"latest": digest(seq[-1])[7:]}}))]
write_tar(os.path.join(out, "docker25.tar"), files)

# --- multi-platform.tar -----------------------------------------------------------------------
arm = dict(config); arm["architecture"] = "arm64"; arm["variant"] = "v8"
arm_b = dump(arm)
arm_man = dict(manifest); arm_man["config"] = {**manifest["config"], "digest": digest(arm_b), "size": len(arm_b)}
arm_man_b = dump(arm_man)
amd_man_b = blob(latest["digest"])
missing = dump({"never": "pulled"})  # stands for the s390x manifest: named, but absent
nested = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(amd_man_b), "size": len(amd_man_b),
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(arm_man_b), "size": len(arm_man_b),
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(missing), "size": len(missing),
         "platform": {"architecture": "s390x", "os": "linux"}},
    ],
}
nested_b = dump(nested)
top = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest(nested_b), "size": len(nested_b),
                   "annotations": {"io.containerd.image.name": "example.com/ll/multi:1.0",
                                   "org.opencontainers.image.ref.name": "1.0"}}],
}
blobs = {}
for b in [nested_b, amd_man_b, arm_man_b, blob(manifest["config"]["digest"]), arm_b,
          *[blob(l["digest"]) for l in manifest["layers"]]]:
    blobs[digest(b)[7:]] = b
files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", dump(top))]
files += [("blobs/sha256/" + k, v) for k, v in sorted(blobs.items())]
write_tar(os.path.join(out, "multi-platform.tar"), files)
