#!/usr/bin/env bash
# Installs what the real-kernel lab needs from Debian packages, when it is missing:
# a kernel image, busybox-static and cpio for the initramfs images, pciutils, and QEMU with the
# igb (82576, SR-IOV) model, which bookworm has only in bookworm-backports.
# The backports suite is derived from this machine's own apt sources (same mirror, same keys),
# written to a private folder so that /etc/apt is left untouched.
set -euo pipefail

LAB_STATE=${LAB_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotslot-lab}
mkdir -p "$LAB_STATE"

have_kernel() { compgen -G '/boot/vmlinuz-*' >/dev/null; }
have_igb() { command -v qemu-system-x86_64 >/dev/null && qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'; }
have_tools() { command -v busybox >/dev/null && command -v cpio >/dev/null && command -v lspci >/dev/null && [ -e /bin/busybox ]; }

if have_kernel && have_igb && have_tools; then exit 0; fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "the lab needs: linux-image-amd64 busybox-static cpio pciutils, and qemu-system-x86 (>= 8, with igb) from bookworm-backports" >&2
  echo "run npm run lab as root on Debian so that it can install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
base_pkgs="linux-image-amd64 busybox-static cpio pciutils kmod"
if ! apt-get install -y --no-install-recommends $base_pkgs; then
  apt-get update
  apt-get install -y --no-install-recommends $base_pkgs
fi

if ! have_igb; then
  parts="$LAB_STATE/apt-sources"
  rm -rf "$parts"; mkdir -p "$parts"
  src=/etc/apt/sources.list.d/debian.sources
  if [ ! -r "$src" ]; then
    echo "cannot derive bookworm-backports: $src is missing" >&2
    exit 1
  fi
  cp "$src" "$parts/"
  # The bookworm stanza of the machine's own sources, with its suite set to bookworm-backports.
  awk 'BEGIN{RS="";ORS="\n\n"} /Suites: bookworm( |$)/' "$src" \
    | sed 's/^Suites:.*/Suites: bookworm-backports/' > "$parts/backports.sources"
  if [ ! -s "$parts/backports.sources" ]; then
    echo "cannot derive bookworm-backports: no 'Suites: bookworm' stanza in $src" >&2
    exit 1
  fi
  apto=(-o "Dir::Etc::SourceParts=$parts")
  apt-get "${apto[@]}" update
  apt-get "${apto[@]}" install -y --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils
fi

have_kernel || { echo "no kernel image in /boot after installing linux-image-amd64" >&2; exit 1; }
have_igb || { echo "qemu-system-x86_64 has no igb device model after installing from bookworm-backports" >&2; exit 1; }
have_tools || { echo "busybox, cpio or lspci still missing" >&2; exit 1; }
