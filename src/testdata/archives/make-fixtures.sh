#!/usr/bin/env bash
# Makes the small real image archives in this folder with buildah, skopeo, umoci and zstd
# (Debian packages), then assembles the layouts no tool here writes with assemble-fixtures.py.
# Usage: src/testdata/archives/make-fixtures.sh   (needs root for buildah's vfs storage)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
S="--storage-driver vfs"
ST="[vfs@/var/lib/containers/storage+/run/containers/storage]"
work=$(mktemp -d)
trap 'rm -rf "$work"; buildah $S rmi -f ll-fix-base ll-fix-app >/dev/null 2>&1 || true' EXIT

# Layer 1: a tiny root filesystem (no binaries, so the archives stay a few KB).
r1=$work/r1
mkdir -p "$r1"/{etc,bin,opt/data/sub,tmp,var/empty}
echo 'base-os 1.0' > "$r1/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' > "$r1/etc/passwd"
printf '#!/bin/sh\necho hello\n' > "$r1/bin/hello"; chmod 755 "$r1/bin/hello"
ln -s hello "$r1/bin/hi"
ln "$r1/bin/hello" "$r1/bin/hello-again"
echo one > "$r1/opt/data/a"; echo two > "$r1/opt/data/sub/b"; echo keep > "$r1/opt/keep"
chmod 1777 "$r1/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r1" -cf "$work/r1.tar" .

# Layer 2: adds a file, changes one (owned by app).
r2=$work/r2
mkdir -p "$r2/etc" "$r2/srv/app"
echo 'base-os 2.0' > "$r2/etc/os-release"
printf 'print("app")\n' > "$r2/srv/app/main.py"
tar --sort=name --mtime=@0 --owner=1000 --group=1000 --numeric-owner -C "$r2" -cf "$work/r2.tar" .

buildah $S rmi -f ll-fix-base ll-fix-app >/dev/null 2>&1 || true
c=$(buildah $S from scratch)
buildah $S add "$c" "$work/r1.tar" / >/dev/null
buildah $S config --env PATH=/bin --cmd /bin/sh --created-by "ADD r1.tar /" "$c"
buildah $S commit -q --timestamp 0 "$c" ll-fix-base >/dev/null
buildah $S rm "$c" >/dev/null
c=$(buildah $S from "containers-storage:${ST}localhost/ll-fix-base:latest")
buildah $S config --env APP_ENV=test --workingdir /srv/app --user app --label org.example.team=layers \
  --port 8080/tcp --volume /data --entrypoint '["/bin/hello"]' --cmd '--serve' \
  --created-by "LABEL and ENV (no layer)" "$c"
buildah $S add "$c" "$work/r2.tar" / >/dev/null
buildah $S config --created-by "ADD r2.tar /" "$c"
buildah $S commit -q --timestamp 0 "$c" ll-fix-app >/dev/null
buildah $S rm "$c" >/dev/null
src="containers-storage:${ST}localhost/ll-fix-app:latest"

# 1. docker-archive as skopeo writes it (manifest.json, <digest>.tar layers, repositories).
rm -f "$here/skopeo-docker-archive.tar"
skopeo copy -q "$src" "docker-archive:$here/skopeo-docker-archive.tar:ll-fix-app:latest"

# 2. OCI image layout (gzip layers), tarred deterministically.
skopeo copy -q "$src" "oci:$work/oci:latest"
# 3. The same image with zstd layers.
skopeo copy -q --dest-compress-format zstd "$src" "oci:$work/oci-zstd:latest"
# 4. A layer of whiteouts made by umoci: delete a file and a directory, repack.
umoci unpack --rootless --image "$work/oci:latest" "$work/bundle" >/dev/null
rm -f "$work/bundle/rootfs/opt/keep"
rm -rf "$work/bundle/rootfs/opt/data"
echo added-by-umoci > "$work/bundle/rootfs/opt/new"
umoci repack --history.created 1970-01-01T00:00:00Z --image "$work/oci:whiteouts" "$work/bundle" >/dev/null
umoci gc --layout "$work/oci"

for d in oci oci-zstd; do
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/$d" -cf "$here/$d.tar" .
done

# 5. Layouts assembled by script from the OCI layout: Docker 25+ docker save, a multi-platform
#    index, a containerd-style export with a platform whose blobs were never pulled.
python3 "$here/assemble-fixtures.py" "$work/oci" "$here"
ls -l "$here"/*.tar
