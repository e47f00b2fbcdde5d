#!/usr/bin/env bash
# Regenerates the goldens of the differential build tests (needs root, Debian's buildah, skopeo and
# busybox-static, and python3). Each case in cases/ is built by a real builder (buildah, one layer
# per instruction) over the busybox base, and normalised by the reference tools' image-changes.py into
# golden/<case>.json. The busybox base fixture (bbase.tar.gz) is rewritten from the same base.
# Usage: src/testdata/builds/regenerate.sh [CASE...]
set -euo pipefail
# Docker image format, as docker build writes it (the OCI format drops SHELL, HEALTHCHECK, ...).
export BUILDAH_FORMAT=docker
here=$(cd "$(dirname "$0")" && pwd)
tools=${TOOLS:?set TOOLS to the folder holding image-changes.py and make-busybox-base.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make-archives.py"
bash "$tools/make-busybox-base.sh" "$work" >/dev/null
python3 "$here/make-fixture-base.py" "$work/bbase.tar" "$here/bbase.tar.gz"
mkdir -p "$here/golden"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then cases=($(ls "$here/cases")); fi
for c in "${cases[@]}"; do
  bash "$tools/reference-build.sh" "$here/cases/$c" "$work/$c.tar" >/dev/null
  cp "$work/$c.json" "$here/golden/$c.json"
  echo "golden/$c.json"
done
