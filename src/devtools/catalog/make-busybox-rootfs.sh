#!/usr/bin/env bash
# Builds a busybox root filesystem tar from Debian's busybox-static binary: /bin/busybox and one
# hardlink per applet it really has (`busybox --list`), all in /bin as docker-library's busybox
# image lays them out, plus minimal /etc/passwd and /etc/group written here (not copied from that image).
# Usage: make-busybox-rootfs.sh OUT.tar   (needs busybox-static installed; run as root for owners)
set -euo pipefail
out=${1:?usage: make-busybox-rootfs.sh OUT.tar}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www}
cp /bin/busybox "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln "$root/bin/busybox" "$root/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' \
  'bin:x:2:2:bin:/bin:/bin/false' 'sys:x:3:3:sys:/dev:/bin/false' 'sync:x:4:100:sync:/bin:/bin/sync' \
  'mail:x:8:8:mail:/var/spool/mail:/bin/false' 'www-data:x:33:33:www-data:/var/www:/bin/false' \
  'operator:x:37:37:Operator:/var:/bin/false' 'nobody:x:65534:65534:nobody:/home:/bin/false' > "$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'bin:x:2:' 'sys:x:3:' 'adm:x:4:' 'tty:x:5:' 'disk:x:6:' 'lp:x:7:' \
  'mail:x:8:' 'kmem:x:9:' 'wheel:x:10:root' 'cdrom:x:11:' 'dialout:x:18:' 'floppy:x:19:' 'video:x:28:' \
  'audio:x:29:' 'tape:x:32:' 'www-data:x:33:' 'operator:x:37:' 'utmp:x:43:' 'plugdev:x:46:' 'staff:x:50:' \
  'lock:x:54:' 'netdev:x:82:' 'users:x:100:' 'nobody:x:65534:' > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"
chmod 0755 "$root"
mtime=$(stat -c %Y /bin/busybox)
tar --sort=name --mtime="@$mtime" --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out" .
echo "$out: $(/bin/busybox | head -1), $(/bin/busybox --list | wc -l) applets"
