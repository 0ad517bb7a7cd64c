#!/usr/bin/env node
// `npm run lab`: the real-kernel lab. Installs what it needs (Debian packages), builds hotslot and
// the lab's initramfs images, boots the lab host (q35 with an emulated Intel IOMMU, igb with
// SR-IOV, e1000e, nvme, two conventional e1000 behind a pci-bridge) with this machine's root
// read-only over 9p so that the checkout is visible inside it, and lets test/lab/scenario.mjs run
// hotslot there against the real kernel. The lab host is driven with hotslot's own QMP client.
// Prints the scenario's JSON summary; exits non-zero when a step failed or time ran out.
//
// usage: npm run lab [-- --save-snapshots] [--keep]
//   LAB_TIMEOUT_S (default 2400): the whole lab host run, after which it is stopped and fails.
//   LAB_DIR: where images and results go (default $XDG_CACHE_HOME/hotslot-lab).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { 'save-snapshots': { type: 'boolean' }, keep: { type: 'boolean' } } });
const REPO = resolve(import.meta.dirname, '../..');
const LAB = resolve(process.env.LAB_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hotslot-lab'));
const TIMEOUT_S = Number(process.env.LAB_TIMEOUT_S ?? 2400);
const t0 = Date.now();
const log = (msg) => console.log(`[lab ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

function must(cmd, args, what) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: REPO });
  if (r.status !== 0) {
    console.error(`lab: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

log('packages');
must('bash', [join(REPO, 'test/lab/install-packages.sh')], 'installing the lab packages');
log('building hotslot');
must('npm', ['run', 'build', '--silent'], 'building hotslot');

const kernels = readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice('vmlinuz-'.length));
kernels.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
const KVER = kernels.at(-1);
if (!KVER) {
  console.error('lab: no kernel image in /boot');
  process.exit(1);
}
log(`kernel ${KVER}; building the initramfs images`);
const run = join(LAB, 'run');
rmSync(run, { recursive: true, force: true });
mkdirSync(join(run, 'out'), { recursive: true });
must('bash', [join(REPO, 'test/lab/build-images.sh'), KVER, run], 'building the initramfs images');
// A small raw disk for the nvme.
spawnSync('truncate', ['-s', '64M', join(run, 'nvme.img')]);

const qmpPath = join(LAB, 'lab-host.qmp');
rmSync(qmpPath, { force: true });
// Root ports at x-speed=5: at QEMU's default link speed a secondary bus reset fails and every
// vfio open takes seconds longer (LAB.md).
const rp = (n) => ['-device', `pcie-root-port,id=rp${n},bus=pcie.0,chassis=${n},slot=${n},addr=0x${(0x10 + n - 1).toString(16)},x-speed=5`];
const args = [
  '-name', 'hotslot-lab-host',
  '-accel', 'tcg,thread=multi,tb-size=512', '-cpu', 'max', '-smp', '2', '-m', '6G',
  '-machine', 'q35,kernel-irqchip=split', '-device', 'intel-iommu,intremap=on,caching-mode=on',
  '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio',
  '-qmp', `unix:${qmpPath},server=on,wait=off`,
  '-kernel', `/boot/vmlinuz-${KVER}`, '-initrd', join(run, 'lab-host.cpio.gz'),
  '-append', `console=ttyS0 intel_iommu=on iommu=pt panic=-1 loglevel=4 lab_init=${REPO}/test/lab/lab-host-init.sh lab_repo=${REPO}`,
  '-fsdev', 'local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap',
  '-device', 'virtio-9p-pci,fsdev=fsroot,mount_tag=rootfs',
  '-fsdev', `local,id=fsrepo,path=${REPO},security_model=none,readonly=on,multidevs=remap`,
  '-device', 'virtio-9p-pci,fsdev=fsrepo,mount_tag=repo',
  '-fsdev', `local,id=fslab,path=${run},security_model=none`,
  '-device', 'virtio-9p-pci,fsdev=fslab,mount_tag=lab',
  ...rp(1), ...rp(2), ...rp(3), ...rp(4),
  '-device', 'igb,id=igb0,bus=rp1,romfile=,mac=52:54:00:00:01:01',
  '-device', 'e1000e,id=e1000e0,bus=rp2,romfile=,mac=52:54:00:00:02:01',
  '-drive', `file=${join(run, 'nvme.img')},if=none,id=nvm0,format=raw`,
  '-device', 'nvme,id=nvme0,bus=rp3,serial=lab0001,drive=nvm0',
  '-device', 'pci-bridge,id=br1,bus=rp4,chassis_nr=5,addr=0,shpc=off',
  '-device', 'e1000,id=e1000a,bus=br1,addr=1,romfile=,mac=52:54:00:00:04:01',
  '-device', 'e1000,id=e1000b,bus=br1,addr=2,romfile=,mac=52:54:00:00:04:02',
];

log('booting the lab host');
const serialLog = createWriteStream(join(run, 'out/lab-host-serial.log'));
const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
let exited = null;
const qemuExit = new Promise((res) => qemu.on('exit', (code, signal) => res((exited = signal ?? code))));
let pending = '';
const onOutput = (b) => {
  serialLog.write(b);
  pending += b.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const l of lines) {
    // The lab host's milestones and the scenario's own progress lines; the rest is in the log.
    if (/^\[lab |LAB-|Kernel panic|qemu-system/.test(l.replace(/\r$/, ''))) console.log(`  | ${l.replace(/\r$/, '')}`);
  }
};
qemu.stdout.on('data', onOutput);
qemu.stderr.on('data', onOutput);

// hotslot's own QMP client drives the lab host: the run state, and a clean stop on timeout.
const { connectQmp } = await import(join(REPO, 'dist/qmp/client.js'));
const { unixEndpoint } = await import(join(REPO, 'dist/qmp/endpoint.js'));
let qmp = null;
for (let i = 0; i < 100 && exited === null && !qmp; i++) {
  if (existsSync(qmpPath)) qmp = await connectQmp(unixEndpoint(qmpPath)).catch(() => null);
  if (!qmp) await sleep(100);
}
if (!qmp) {
  console.error(`lab: could not connect to the lab host's QMP socket (QEMU ${exited === null ? 'running' : `exited ${exited}`})`);
  qemu.kill('SIGKILL');
  process.exit(1);
}
const status = await qmp.execute('query-status');
const version = await qmp.execute('query-version');
log(`lab host QEMU ${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro}: ${status.status}`);

let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  console.error(`lab: TIMEOUT: the lab host ran for more than ${TIMEOUT_S} s; stopping it`);
  qmp.execute('quit').catch(() => qemu.kill('SIGKILL'));
  setTimeout(() => qemu.kill('SIGKILL'), 10_000).unref();
}, TIMEOUT_S * 1000);
await qemuExit;
clearTimeout(timer);
await qmp.close().catch(() => undefined);
serialLog.end();
log(`lab host stopped (${exited})`);

const summaryPath = join(run, 'out/summary.json');
if (!existsSync(summaryPath)) {
  console.error(`lab: FAILED: the scenario wrote no summary; see ${join(run, 'out/lab-host-serial.log')}`);
  process.exit(1);
}
const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
console.log(JSON.stringify(summary, null, 2));
console.log('');
for (const s of summary.steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.step}${s.ok ? '' : `: ${s.problems.join('; ')}`}`);

if (flags['save-snapshots']) {
  const dir = join(run, 'out/snapshots');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    copyFileSync(join(dir, f), join(REPO, 'test/fixtures', f));
    log(`saved test/fixtures/${f}`);
  }
}

const ok = summary.ok && summary.finished && !timedOut;
log(`lab ${ok ? 'ok' : 'FAILED'}: ${summary.steps.filter((s) => s.ok).length}/${summary.steps.length} steps ok; results in ${join(run, 'out')}`);
if (!flags.keep && ok) rmSync(join(run, 'nvme.img'), { force: true });
process.exit(ok ? 0 : 1);
