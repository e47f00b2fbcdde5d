#!/usr/bin/env bash
# Writes oci-whiteouts.changes.json: the normal form (config, per-layer changes, final tree) that
# the reference tools folder's image-changes.py gives for the `whiteouts` image of
# src/testdata/archives/oci.tar (two buildah layers and a third layer of `.wh.` whiteouts written
# by umoci). skopeo turns that image into a docker-archive first, because image-changes.py reads
# only the first image of an OCI layout. Needs Debian's skopeo and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
tools=${TOOLS:?set TOOLS to the folder holding image-changes.py and make-busybox-base.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xf "$root/src/testdata/archives/oci.tar" -C "$work" --one-top-level=layout
skopeo copy -q "oci:$work/layout:whiteouts" "docker-archive:$work/whiteouts.tar:whiteouts:latest"
python3 "$tools/image-changes.py" "$work/whiteouts.tar" > "$here/oci-whiteouts.changes.json"
echo "$here/oci-whiteouts.changes.json"
