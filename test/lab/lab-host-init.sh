#!/bin/sh
# PID 1 of the lab host after switch_root onto this machine's read-only root: what udev and
# systemd would have done (device nodes, drivers for every PCI device), then the scenario.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline; }
REPO=$(arg lab_repo)
OUT=/run/lab/out
mkdir -p "$OUT"
hostname hotslot-lab
echo "LAB-HOST-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
# Coldplug: load the driver for every PCI modalias, as udev would at boot, and wait for the binds.
for d in /sys/bus/pci/devices/*; do cat "$d/modalias"; done | sort -u | xargs modprobe -a -q 2>/dev/null
# Bound when the set of bound functions has stayed the same for a second (at most 15 s).
bound() { ls -d /sys/bus/pci/devices/*/driver 2>/dev/null | wc -l; }
last=-1; same=0; i=0
while [ $i -lt 60 ] && [ $same -lt 4 ]; do
  now=$(bound)
  if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; fi
  i=$((i + 1)); sleep 0.25
done
echo "LAB-COLDPLUG-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
ulimit -l unlimited
cd "$REPO" && node test/lab/scenario.mjs --out "$OUT"
echo "LAB-SCENARIO-RC=$?"
dmesg > "$OUT/lab-host-dmesg.txt"
sync
echo "LAB-POWEROFF uptime=$(cut -d' ' -f1 /proc/uptime)"
exec /bin/busybox poweroff -f
