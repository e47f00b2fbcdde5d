#!/usr/bin/env bash
# Regenerates public/catalog/ from Debian's mirror. Run as root on a Debian bookworm host with
#   apt-get install -y debootstrap debuerreotype busybox-static
# Usage: src/devtools/catalog/make-catalog.sh [WORK_DIR] [OUT_DIR]
#   WORK_DIR defaults to /tmp/catalog-work (about 1 GB, outside the repo), OUT_DIR to public/catalog.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/catalog-work}
out=${2:-$here/../../../public/catalog}
mkdir -p "$work" "$out"

# The Debian trees take a minute and the mirror moves: reuse them when already built in WORK_DIR.
[ -e "$work/bookworm-slim.tar" ] && [ -d "$work/rootfs-slim" ] || "$here/make-debian-rootfs.sh" "$work"
"$here/make-busybox-rootfs.sh" "$work/busybox.tar"
mirror_date=$(date --utc --date "@$(cat "$work/rootfs/debuerreotype-epoch")" +%Y-%m-%dT%H:%M:%SZ)
note="debootstrap --variant=minbase bookworm from http://deb.debian.org/debian (InRelease Date $mirror_date),"
note="$note then debuerreotype 0.15 (minimizing-config, dist-upgrade with bookworm-updates and bookworm-security,"
python3 "$here/rootfs-to-json.py" "$work/bookworm.tar" "$out/base-debian-bookworm.json.gz" debian-bookworm \
  "Debian 12 (bookworm) root filesystem, built like the official debian:bookworm image" \
  "$note fixup, tar) as in Docker's official images"
python3 "$here/rootfs-to-json.py" "$work/bookworm-slim.tar" "$out/base-debian-bookworm-slim.json.gz" debian-bookworm-slim \
  "Debian 12 (bookworm) slim root filesystem, built like the official debian:bookworm-slim image" \
  "$note slimify, fixup, tar) as in Docker's official images"
python3 "$here/rootfs-to-json.py" "$work/busybox.tar" "$out/base-busybox.json.gz" busybox \
  "BusyBox root filesystem: Debian's busybox-static binary with a hardlink per applet in /bin" \
  "make-busybox-rootfs.sh from busybox-static $(dpkg-query -W -f '${Version}' busybox-static) (Debian bookworm)"
python3 "$here/gather-apt.py" "$work" "$out/apt-debian-bookworm.json.gz"
# Needs node (20.x) on PATH and https://registry.npmjs.org; reads the slim base written above.
python3 "$here/gather-npm.py" "$work/npm" "$out/npm.json.gz" "$out/base-debian-bookworm-slim.json.gz"
ls -l "$out"
