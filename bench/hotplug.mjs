#!/usr/bin/env node
// Attach + detach cycles through hotslot against a guest, and the bare QMP a script needs for the
// same hotplug (device_add; device_del, then wait for DEVICE_DELETED) sent over a raw socket to the
// same guest. The ratio of the two is hotslot's overhead. Run `npm run build` first.
//
// This machine has no vfio, so no real QEMU can take a vfio-pci device: the guest is the demo's
// simulated QMP guest (src/demo/simulated-guest.ts) on a real unix socket, and the host is the
// simulated kernel on a real kernel's sysfs snapshot. Everything hotslot does besides QMP (reading
// the host, unbind, reset, driver_override, drivers_probe, waiting for the driver, the fsync'd
// journal) counts as its overhead; the bare script leaves the device on vfio-pci throughout.
//
// A real guest takes its time to let go of a device, and the guest's delays model ones measured on
// these machines (../shared/LAB.md): the quickest, an emulated device in a guest with ACPI hotplug
// (device_add 2 ms, DEVICE_DELETED after 85 ms), where the goal applies; and the lab's nested
// guest taking a real vfio-pci device (vfio open 0.9 s, ACPI unplug 1.06 s). A guest that answers
// at once shows hotslot's own cost per cycle, which no real guest is quick enough to show.
// Usage: node bench/hotplug.mjs [CYCLES] [ROUNDS]   (the slow vfio guest runs fewer)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../dist/core/clock.js';
import { SimulatedGuest } from '../dist/demo/simulated-guest.js';
import { Guest } from '../dist/guests/guest.js';
import { Hotplug } from '../dist/hotplug/hotplug.js';
import { Journal } from '../dist/hotplug/journal.js';
import { SimulatedKernel } from '../dist/kernel/index.js';
import { unixEndpoint } from '../dist/qmp/index.js';
import { median } from './stats.mjs';

const CYCLES = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 5);
const GOAL = 1.1;
const BDF = '0000:02:00.0'; // the e1000e of the lab snapshot, alone in its IOMMU group
const QDEV = 'bare-nic';
const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
const SNAPSHOT = resolve(process.env.HOTSLOT_LAB_SYSFS ?? resolve(import.meta.dirname, '../../shared/corpus/lab-sysfs'), 'boot.tar.gz');

/** A fresh lab: the snapshot's sysfs tree in memory (sysfs is), the journal on disk (as /var/lib is). */
function openLab() {
  const dir = mkdtempSync(join('/dev/shm', 'hotslot-bench-'));
  const state = mkdtempSync(join(tmpdir(), 'hotslot-bench-state-'));
  execFileSync('tar', ['-xzf', SNAPSHOT, '-C', dir]);
  return {
    sysfsRoot: join(dir, 'sys'),
    procRoot: join(dir, 'proc'),
    socket: join(dir, 'vm.qmp'),
    state,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** hotslot's hotplug layer in this process, as the dashboard runs it. */
async function hotslotSide(lab) {
  const guest = await Guest.connect({ name: 'vm', endpoint: unixEndpoint(lab.socket), source: 'bench' });
  const sources = { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot };
  // The simulator's writes stand in for the kernel's own work (a driver's remove and probe, a
  // reset); their time is counted as hotslot's overhead, and also reported apart.
  const sim = SimulatedKernel.open(lab.sysfsRoot);
  const write = sim.write.bind(sim);
  let kernelMs = 0;
  sim.write = async (w) => {
    const t0 = performance.now();
    try {
      return await write(w);
    } finally {
      kernelMs += performance.now() - t0;
    }
  };
  const hotplug = new Hotplug({
    kernel: sim.port,
    journal: new Journal(lab.state),
    clock: systemClock,
    emit: () => undefined,
    host: sources,
    guests: [{ name: 'vm', socket: guest.socket, qmp: guest.client }],
    dryRun: false,
  });
  const check = (r, what) => {
    if (r.outcome !== 'done') throw new Error(`hotslot ${what}: ${r.outcome}: ${r.message}`);
  };
  return {
    async cycle() {
      check(await hotplug.attach(BDF, 'vm'), 'attach');
      check(await hotplug.detach(BDF), 'detach');
    },
    /** Milliseconds spent in the simulated kernel's writes since the last call. */
    takeKernelMs() {
      const ms = kernelMs;
      kernelMs = 0;
      return ms;
    },
    close: () => guest.close(),
  };
}

/** The floor: one socket, JSON lines, only the commands the hotplug itself needs. */
async function bareSide(lab) {
  const socket = connect({ path: lab.socket });
  await new Promise((ok, fail) => socket.once('connect', ok).once('error', fail));
  let buffer = '';
  /** Who waits for which message: each takes the first one its test accepts. */
  let waiters = [];
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    buffer += text;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const m = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      waiters = waiters.filter((w) => !(w.match(m) && (w.ok(m), true)));
    }
  });
  let id = 0;
  const next = (match) => new Promise((ok) => waiters.push({ match, ok }));
  const execute = async (command, args) => {
    const mine = ++id;
    const reply = next((m) => m.id === mine);
    socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id: mine }) + '\n');
    const m = await reply;
    if (m.error) throw new Error(`${command}: ${m.error.desc}`);
    return m.return;
  };
  await next((m) => 'QMP' in m);
  await execute('qmp_capabilities');
  return {
    async cycle() {
      await execute('device_add', { driver: 'vfio-pci', host: BDF, id: QDEV, bus: 'hp1' });
      const deleted = next((m) => m.event === 'DEVICE_DELETED' && m.data?.device === QDEV);
      await execute('device_del', { id: QDEV });
      await deleted;
    },
    close: () => new Promise((ok) => socket.end(ok)),
  };
}

/** The same cycle, a process per command, as a script would run the CLI. */
function cliCycle(lab) {
  const base = ['--sysfs-root', lab.sysfsRoot, '--proc-root', lab.procRoot, '--kernel', 'sim', '--state-dir', lab.state, '--guest', `vm=${lab.socket}`];
  const run = (args) =>
    new Promise((ok, fail) => {
      const child = spawn(process.execPath, [CLI, ...base, ...args, '--yes'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
      child.once('close', (code) => (code === 0 ? ok() : fail(new Error(`hotslot ${args.join(' ')}: exit ${code}: ${stderr.trim()}`))));
    });
  return async () => {
    await run(['attach', BDF, 'vm']);
    await run(['detach', BDF]);
  };
}


async function timed(n, cycle) {
  const start = performance.now();
  for (let i = 0; i < n; i++) await cycle();
  return (performance.now() - start) / n;
}

/** Both sides against one guest, back to back, alternating who goes first; the median of the rounds' ratios. */
async function measure(guestDelays, cycles, rounds) {
  const lab = openLab();
  const guest = new SimulatedGuest({ name: 'vm', socketPath: lab.socket, sysfsRoot: lab.sysfsRoot, rootPorts: 2, ...guestDelays });
  await guest.start();
  const kernel = SimulatedKernel.open(lab.sysfsRoot).port;
  const sides = { hotslot: await hotslotSide(lab), bare: await bareSide(lab) };
  // The bare script needs the device on vfio-pci, where hotslot's detach never leaves it.
  const toVfio = async () => {
    await kernel.unbind(BDF);
    await kernel.setDriverOverride(BDF, 'vfio-pci');
    await kernel.driversProbe(BDF);
  };
  const toHost = async () => {
    await kernel.unbind(BDF);
    await kernel.clearDriverOverride(BDF);
    await kernel.driversProbe(BDF);
  };
  const run = async (who, n) => {
    if (who === 'bare') await toVfio();
    sides.hotslot.takeKernelMs();
    const ms = await timed(n, sides[who].cycle);
    if (who === 'bare') await toHost();
    return { ms, kernelMs: who === 'hotslot' ? sides.hotslot.takeKernelMs() / n : 0 };
  };
  try {
    for (const who of ['hotslot', 'bare']) await run(who, 2); // warm-up
    const times = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['hotslot', 'bare'] : ['bare', 'hotslot'];
      const t = {};
      for (const who of order) t[who] = await run(who, cycles);
      times.push(t);
    }
    const cli = await timed(Math.min(cycles, 3), cliCycle(lab));
    return {
      hotslot: median(times.map((t) => t.hotslot.ms)),
      bare: median(times.map((t) => t.bare.ms)),
      kernel: median(times.map((t) => t.hotslot.kernelMs)),
      ratio: median(times.map((t) => t.hotslot.ms / t.bare.ms)),
      ratioWithoutKernel: median(times.map((t) => (t.hotslot.ms - t.hotslot.kernelMs) / t.bare.ms)),
      cli,
    };
  } finally {
    await sides.hotslot.close();
    await sides.bare.close();
    await guest.stop();
    lab.remove();
  }
}

const ms = (x) => x.toFixed(1).padStart(8);
const QUICKEST = 'quickest real guest: add 2, unplug 85 ms';
const GUESTS = [
  [QUICKEST, { addDelayMs: 2, unplugDelayMs: 85 }, CYCLES, ROUNDS],
  ['lab vfio guest: add 900, unplug 1060 ms', { addDelayMs: 900, unplugDelayMs: 1060 }, Math.max(1, Math.round(CYCLES / 5)), Math.max(1, Math.round(ROUNDS / 2))],
  ["instant guest: hotslot's own cost", { addDelayMs: 0, unplugDelayMs: 0 }, CYCLES, ROUNDS],
];
console.log(`attach + detach cycles of ${BDF}, medians of alternating rounds, ms per cycle`);
console.log('hotslot: its hotplug layer in-process; its sysfs work on the simulated kernel, host scans and fsync\'d journal count as overhead');
console.log('bare:    device_add, device_del, wait for DEVICE_DELETED on a raw socket; the device stays on vfio-pci');
console.log('CLI:     hotslot attach + hotslot detach, a process each (Node start-up included), for scale');
console.log('kernel:  of hotslot\'s time, the simulated kernel\'s writes (what the kernel itself does: unbind, probe, reset)');
console.log(`${'guest (simulated QMP guest)'.padEnd(42)} cycles  hotslot    kernel      bare   ratio  w/o kernel       CLI`);
const results = new Map();
for (const [name, delays, cycles, rounds] of GUESTS) {
  const r = await measure(delays, cycles, rounds);
  results.set(name, r);
  console.log(
    `${name.padEnd(42)} ${String(cycles).padStart(2)}x${rounds} ${ms(r.hotslot)}  ${ms(r.kernel)}  ${ms(r.bare)}  ${r.ratio.toFixed(2).padStart(5)}x  ${r.ratioWithoutKernel.toFixed(2).padStart(9)}x  ${ms(r.cli)}`,
  );
}
const q = results.get(QUICKEST);
console.log(
  `overhead ${(q.hotslot - q.bare).toFixed(1)} ms per cycle (${q.kernel.toFixed(1)} of it the simulated kernel's writes); ` +
    `ratio against the quickest real guest: ${q.ratio.toFixed(2)}x (goal: at most ${GOAL.toFixed(2)}x), ${q.ratioWithoutKernel.toFixed(2)}x without the kernel's writes`,
);
