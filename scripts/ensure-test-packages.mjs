#!/usr/bin/env node
// The tests start a real qemu-system-x86_64, compare with lspci and play casts with asciinema. On a fresh Debian machine
// this installs them (as root, through apt-get); otherwise it names the packages and stops, so
// that the real-QEMU tests never quietly skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  { bin: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { bin: 'lspci', pkg: 'pciutils' },
  // Plays the casts that `hotslot export-cast` writes.
  { bin: 'asciinema', pkg: 'asciinema' },
];
const idsFiles = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'];

const onPath = (bin) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { stdio: 'ignore' }).status === 0;

const missing = needed.filter((n) => !onPath(n.bin)).map((n) => n.pkg);
if (!idsFiles.some((f) => existsSync(f))) missing.push('pci.ids');

if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(`hotslot tests need these Debian packages: ${missing.join(' ')}`);
  console.error(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}

console.error(`installing test packages: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
if (!run(['install', '-y', '--no-install-recommends', ...missing])) {
  // A fresh machine may have no package lists yet.
  if (!run(['update']) || !run(['install', '-y', '--no-install-recommends', ...missing])) {
    console.error(`could not install ${missing.join(' ')} with apt-get`);
    process.exit(1);
  }
}
