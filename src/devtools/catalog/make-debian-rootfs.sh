#!/usr/bin/env bash
# Builds Debian bookworm root filesystems the way Docker's official debian images are built
# (debuerreotype's recipe: debootstrap minbase, minimizing config, dist-upgrade, optional slimify,
# fixup, tar with its exclude list), from the mirror in the host's apt sources (deb.debian.org).
# Usage: make-debian-rootfs.sh WORK_DIR   (root; needs debootstrap and debuerreotype from Debian)
# Writes WORK_DIR/bookworm.tar and WORK_DIR/bookworm-slim.tar, and keeps WORK_DIR/rootfs-slim
# (the unpacked slim tree, apt lists already removed) for gather-packages.sh.
set -Eeuo pipefail
work=${1:?usage: make-debian-rootfs.sh WORK_DIR}
mirror=http://deb.debian.org/debian
suite=bookworm
mkdir -p "$work"; cd "$work"
rm -rf rootfs rootfs-slim

# The image's timestamp: the Date of the suite's InRelease, as debuerreotype-init does for mirrors.
date=$(curl -fsS "$mirror/dists/$suite/InRelease" | awk -F ': ' '$1 == "Date" { print $2 }' | head -n1)
epoch=$(date --date "$date" +%s)
echo "InRelease Date: $date (epoch $epoch)"
export SOURCE_DATE_EPOCH=$epoch

debootstrap --variant=minbase --merged-usr --force-check-gpg "$suite" rootfs "$mirror" > debootstrap.log
echo "$epoch" > rootfs/debuerreotype-epoch
# debuerreotype-debian-sources-list probes snapshot.debian.org (unreachable here), so write the
# deb822 file it would write (same layout as the official images' debian.sources).
snap=$(date --utc --date "@$epoch" +%Y%m%dT%H%M%SZ)
cat > rootfs/etc/apt/sources.list.d/debian.sources <<SOURCES
Types: deb
# http://snapshot.debian.org/archive/debian/$snap
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/$snap
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
chmod 0644 rootfs/etc/apt/sources.list.d/debian.sources
rm -f rootfs/etc/apt/sources.list
debuerreotype-apt-get rootfs update -qq
# The rest of debuerreotype-init: packages marked auto, hostname, resolv.conf, shadow dates.
debuerreotype-chroot rootfs apt-mark auto '.*' > /dev/null
echo 'debuerreotype' > rootfs/etc/hostname
printf '# https://1.1.1.1 (privacy-focused, highly-available DNS service)\nnameserver 1.1.1.1\nnameserver 1.0.0.1\n' > rootfs/etc/resolv.conf
chmod 0644 rootfs/etc/hostname rootfs/etc/resolv.conf
sp_lstchg=$(( epoch / 60 / 60 / 24 ))
for f in etc/shadow etc/shadow-; do
  [ -e "rootfs/$f" ] || continue
  awk -F ':' -v OFS=':' -v d="$sp_lstchg" '{ if ($3 > d) { $3 = d } print }' "rootfs/$f" > "rootfs/$f.new"
  cat "rootfs/$f.new" > "rootfs/$f"; rm -f "rootfs/$f.new"
done

debuerreotype-minimizing-config rootfs
debuerreotype-apt-get rootfs update -qq
debuerreotype-apt-get rootfs dist-upgrade -yqq
debuerreotype-apt-get rootfs clean

cp -a rootfs rootfs-slim
debuerreotype-slimify rootfs-slim

debuerreotype-tar rootfs bookworm.tar
debuerreotype-tar rootfs-slim bookworm-slim.tar
# The slim tree as the image has it (no apt lists, no caches) is the starting point for packages.
rm -rf rootfs-slim/var/lib/apt/lists/* rootfs-slim/var/cache/apt/*.bin rootfs-slim/var/cache/apt/archives/*.deb
ls -l bookworm.tar bookworm-slim.tar
