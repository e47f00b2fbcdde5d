#!/usr/bin/env bash
# Regenerates the goldens of the run reference tests (see README.md). Needs root, a kernel that
# mounts overlay, Debian's buildah, skopeo and busybox-static, python3, and TOOLS set to the reference
# tools' folder (make-busybox-base.sh, image-changes.py).
# For each case of cases.json, once on buildah's vfs storage driver (the shared storage the reference
# tools use) and once on its overlay driver (a private storage in a temporary folder): a container
# from the busybox base, `buildah run --isolation chroot [--user U] [--workingdir W] CTR -- /bin/sh -c
# COMMAND` (stdout, stderr and exit code kept), `buildah commit` in Docker format, exported by skopeo,
# normalised by image-changes.py; golden-of.py then writes golden/<case>.json.
# Usage: src/testdata/run/regenerate.sh [CASE...]
set -euo pipefail
export BUILDAH_FORMAT=docker
here=$(cd "$(dirname "$0")" && pwd)
tools=${TOOLS:?set TOOLS to the folder holding make-busybox-base.sh and image-changes.py}
work=$(mktemp -d)
declare -A S=(
  [vfs]="--storage-driver vfs"
  [overlay]="--storage-driver overlay --root $work/root --runroot $work/runroot"
)
declare -A ST=(
  [vfs]="[vfs@/var/lib/containers/storage+/run/containers/storage]"
  [overlay]="[overlay@$work/root+$work/runroot]"
)
ctr=""
driver=""
cleanup() {
  if [ -n "$ctr" ]; then buildah ${S[$driver]} rm "$ctr" >/dev/null 2>&1 || true; fi
  buildah ${S[overlay]} rmi -a -f >/dev/null 2>&1 || true
  # The overlay driver mounts its folder on itself: unmount it before removing the folder.
  umount "$work/root/overlay" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
bash "$tools/make-busybox-base.sh" "$work" >/dev/null 2>&1
skopeo copy -q "docker-archive:$work/bbase.tar" "containers-storage:${ST[overlay]}localhost/bbase:latest"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  mapfile -t cases < <(python3 -c 'import json,sys; [print(c["name"]) for c in json.load(open(sys.argv[1]))]' "$here/cases.json")
fi
mkdir -p "$here/golden"
for c in "${cases[@]}"; do
  # The case's fields as shell words: user, workdir, command.
  mapfile -d '' -t f < <(python3 -c '
import json, sys
case = next(c for c in json.load(open(sys.argv[1])) if c["name"] == sys.argv[2])
for k in ("user", "workdir", "command"):
    sys.stdout.write(case.get(k, "") + "\0")' "$here/cases.json" "$c")
  opts=()
  if [ -n "${f[0]}" ]; then opts+=(--user "${f[0]}"); fi
  if [ -n "${f[1]}" ]; then opts+=(--workingdir "${f[1]}"); fi
  for driver in vfs overlay; do
    d="$work/$c.$driver"
    mkdir -p "$d"
    ctr=$(buildah ${S[$driver]} from --name "runref-$c-$$" bbase)
    set +e
    buildah ${S[$driver]} run --isolation chroot "${opts[@]}" "$ctr" -- /bin/sh -c "${f[2]}" >"$d/out" 2>"$d/err"
    echo $? >"$d/code"
    set -e
    buildah ${S[$driver]} commit -q --format docker "$ctr" "runref-$c-$$" >/dev/null
    buildah ${S[$driver]} rm "$ctr" >/dev/null
    ctr=""
    skopeo copy -q "containers-storage:${ST[$driver]}localhost/runref-$c-$$:latest" "docker-archive:$d/image.tar:runref-$c:latest"
    buildah ${S[$driver]} rmi "runref-$c-$$" >/dev/null
    python3 "$tools/image-changes.py" "$d/image.tar" >"$d/changes.json"
  done
  python3 "$here/golden-of.py" "$here/cases.json" "$c" "$work/bbase.tar" "$work/$c.vfs" "$work/$c.overlay" \
    >"$here/golden/$c.json"
  echo "golden/$c.json (exit $(cat "$work/$c.vfs/code"))"
done
