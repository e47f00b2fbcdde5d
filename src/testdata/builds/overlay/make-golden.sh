#!/usr/bin/env bash
# Builds ./Dockerfile with buildah on its overlay storage driver (a real overlayfs upper directory
# per step, tarred as Docker's overlay2 driver tars it) and writes golden.json: each layer after the
# base, entry by entry (layer-entries.py). The base is a small image with the same /opt tree as the
# busybox base of the differential tests, and dash, rm and mkdir from the host for the RUNs.
# Needs root, a kernel that mounts overlay, Debian's buildah and skopeo, and python3.
# Usage: src/testdata/builds/overlay/make-golden.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
# The storage driver mounts its folder on itself; unmount it before removing the folder.
trap 'umount "$work/root/overlay" 2>/dev/null || true; rm -rf "$work"' EXIT
S="--storage-driver overlay --root $work/root --runroot $work/run"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,root,lib/x86_64-linux-gnu,lib64,opt/data/sub}
cp /bin/dash "$rootfs/bin/sh"; cp /bin/rm /bin/mkdir "$rootfs/bin/"
for l in libc.so.6 libselinux.so.1 libpcre2-8.so.0; do cp "/lib/x86_64-linux-gnu/$l" "$rootfs/lib/x86_64-linux-gnu/"; done
cp /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
echo one > "$rootfs/opt/data/a"; echo two > "$rootfs/opt/data/sub/b"; echo keep > "$rootfs/opt/keep"
chmod 1777 "$rootfs/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" .
c=$(buildah $S from scratch)
buildah $S add "$c" "$work/rootfs.tar" / >/dev/null
buildah $S config --env PATH=/bin --cmd /bin/sh "$c"
buildah $S commit --timestamp 0 "$c" bbase >/dev/null
mkdir -p "$work/ctx"; cp "$here/Dockerfile" "$work/ctx/"
BUILDAH_FORMAT=docker buildah $S bud -q --layers --isolation chroot --timestamp 0 -t opaque "$work/ctx" >/dev/null
skopeo copy -q "containers-storage:[overlay@$work/root+$work/run]localhost/opaque:latest" "docker-archive:$work/opaque.tar:opaque:latest"
python3 "$here/layer-entries.py" "$work/opaque.tar" > "$here/golden.json"
buildah $S rmi -a -f >/dev/null 2>&1 || true
echo "$here/golden.json"
