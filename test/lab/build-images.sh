#!/usr/bin/env bash
# Builds the lab's two initramfs images from Debian packages only (busybox-static, the kernel's modules):
#   lab-host.cpio.gz  the lab host's bootstrap: mounts this machine's / read-only over virtio-9p,
#                     tmpfs where Linux needs to write, the writable results share, then switch_root.
#   guest.cpio.gz     a tiny busybox guest for the nested guests, with a serial-console agent.
# usage: build-images.sh KERNEL_VERSION OUT_DIR
set -euo pipefail
KVER=$1
OUT=$2
MODS=/lib/modules/$KVER/kernel
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pack() { # $1 = tree, $2 = image
  (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) > "$2.tmp" && mv "$2.tmp" "$2"
}

# ---------- lab host bootstrap ----------
D=$work/host
mkdir -p "$D"/{bin,proc,sys,dev,newroot,mods}
cp /bin/busybox "$D/bin/"
host_mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
  net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p"
order=""
for k in $host_mods; do
  f=$(ls "$MODS/$k.ko"* 2>/dev/null | head -1 || true)
  # Some of these are built into other kernels; a missing module is fine if the kernel has it.
  [ -n "$f" ] || continue
  case "$f" in
    *.ko.xz) xz -dc "$f" > "$D/mods/$(basename "$k").ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$D/mods/$(basename "$k").ko" ;;
    *) cp "$f" "$D/mods/" ;;
  esac
  order="$order $(basename "$k")"
done
cat > "$D/init" <<INIT
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc; \$B mount -t sysfs sys /sys; \$B mount -t devtmpfs dev /dev
for m in $order; do \$B insmod /mods/\$m.ko 2>/dev/null; done
O="trans=virtio,version=9p2000.L,msize=512000"
\$B mount -t 9p -o ro,\$O,cache=loose rootfs /newroot || { echo "LAB-FATAL 9p root mount failed"; \$B poweroff -f; }
for d in tmp run var/tmp var/log root; do \$B mount -t tmpfs -o mode=1777 tmpfs /newroot/\$d 2>/dev/null; done
# The checkout gets a share of its own, mounted where it lives: under /tmp or /root it would be
# hidden by the tmpfs above.
REPO=\$(\$B sed -n 's/.* lab_repo=\([^ ]*\).*/\1/p' /proc/cmdline)
\$B mkdir -p "/newroot\$REPO" 2>/dev/null
\$B mount -t 9p -o ro,\$O,cache=loose repo "/newroot\$REPO" || echo "LAB-FATAL checkout share mount failed"
\$B mkdir -p /newroot/run/lab
\$B mount -t 9p -o \$O,cache=none lab /newroot/run/lab || echo "LAB-FATAL results share mount failed"
\$B mount --move /proc /newroot/proc; \$B mount --move /sys /newroot/sys; \$B mount --move /dev /newroot/dev
INIT_SCRIPT=\$(\$B sed -n 's/.* lab_init=\([^ ]*\).*/\1/p' /newroot/proc/cmdline)
echo "LAB-BOOTSTRAP-DONE uptime=\$(\$B cut -d' ' -f1 /newroot/proc/uptime)"
exec \$B switch_root /newroot /bin/sh "\$INIT_SCRIPT"
INIT
chmod +x "$D/init"
pack "$D" "$OUT/lab-host.cpio.gz"

# ---------- nested guest ----------
D=$work/guest
mkdir -p "$D"/{bin,proc,sys,dev}
cp /bin/busybox "$D/bin/"
cat > "$D/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# Kernel messages would break the agent's answer lines.
echo 1 > /proc/sys/kernel/printk
echo "GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
# The agent: the lab writes shell commands to the serial console and reads the answers.
while read -r cmd; do eval "$cmd"; done
poweroff -f
INIT
chmod +x "$D/init"
pack "$D" "$OUT/guest.cpio.gz"
