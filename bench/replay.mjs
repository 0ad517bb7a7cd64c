#!/usr/bin/env node
// Benchmark: headless replay (`hotslot replay --check`: the recording read as a stream, each line
// checked, each event through the reducer, nothing kept but the state) of a generated recording of
// 1,000,000 events, against a bare `JSON.parse` of each line over split2 of the same file, the
// least any reader of JSON Lines does. Then the peak resident memory of the replay for 100,000 and
// for 1,000,000 events: it must not grow with the file. Each run is a fresh process.
//
//   npm run build && node bench/replay.mjs [--events N] [--runs N] [--keep]
//
// Goals: at least 200,000 events/s, and for 1M events at most 1.25x the memory of 100k: peak RSS
// (the kernel's high-water mark), and the heap still held once the replay is done (after a full
// collection). Peak RSS also reads V8's heap sizing: under a high allocation rate it grows its
// young generation for the first few hundred thousand events, then stays put; the bare parse's
// own growth over the same two files is printed beside it. The CPU time is given beside the wall
// time: these machines are shared, and the wall time is noisy.
//
// The mix, per ten minutes of a session on a host with three guests (the shapes are those of the
// sample recordings in recordings/): the interrupt counts of 12 devices every second (the host
// watcher's poll); a guest poll whose answer changed, command and reply, every 10 s (unchanged
// ones are not recorded); a guest run-state change and a QMP event every minute; and one operation
// (a move: the answer to its question, the intent, 8 steps, device_del and device_add with their
// replies, DEVICE_DELETED, the guests' new device lists, the host's view of the device).
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { parseArgs } from 'node:util';
import split2 from 'split2';
import { median } from './stats.mjs';

const repo = join(import.meta.dirname, '..');
const dist = (p) => join(repo, 'dist', p);

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    measure: { type: 'string' },
    file: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const SMALL = Math.max(1, Math.round(EVENTS / 10));
const RUNS = Number(args.runs);
const GOAL_RATE = 200_000;
const GOAL_MEMORY = 1.25;

const GUESTS = ['web', 'db', 'legacy'];
const hex2 = (n) => n.toString(16).padStart(2, '0');

function device(bdf, driver, owner) {
  return {
    bdf,
    vendorId: '0x8086',
    deviceId: '0x10d3',
    classCode: '0x020000',
    vendorName: 'Intel Corporation',
    deviceName: '82574L Gigabit Network Connection',
    headerType: 'endpoint',
    pcieType: 'endpoint',
    driver,
    iommuGroup: Number.parseInt(bdf.slice(5, 7), 16),
    owner,
    interrupts: { pin: 'A', irq: 16, msi: { capable: true, enabled: false, vectors: null, maxVectors: 1 }, msix: { capable: true, enabled: true, tableSize: 5 }, mode: 'msix' },
    reset: { methods: ['flr', 'bus'], flr: true, afFlr: false, pmNoSoftReset: false, busResetPossible: true },
    acs: null,
    sriov: null,
    capabilities: [
      { id: 1, name: 'Power Management', offset: 200, extended: false },
      { id: 5, name: 'MSI', offset: 208, extended: false },
      { id: 16, name: 'PCI Express', offset: 224, extended: false },
      { id: 17, name: 'MSI-X', offset: 160, extended: false },
    ],
    assignable: { ok: true, reasons: [] },
  };
}

const DEVICES = Array.from({ length: 12 }, (_, i) => device(`0000:${hex2(i + 1)}:00.0`, 'e1000e', { kind: 'host' }));
const pciReply = (held) => [
  {
    bus: 0,
    devices: [
      { bus: 0, slot: 0, function: 0, class_info: { class: 1536, desc: 'Host bridge' }, id: { vendor: 32902, device: 10688 }, qdev_id: '', regions: [] },
      { bus: 0, slot: 16, function: 0, class_info: { class: 1540, desc: 'PCI bridge' }, id: { vendor: 6966, device: 12 }, qdev_id: 'hp1', pci_bridge: { bus: { number: 1, secondary: 1, subordinate: 1 }, devices: held } },
    ],
  },
];

/** Writes the recording with hotslot's own recorder, on a clock that moves as the session would. */
async function generate(path, total) {
  const { Recorder } = await import(dist('record/recorder.js'));
  const { manualClock } = await import(dist('core/clock.js'));
  const clock = manualClock(0);
  const r = new Recorder({ path, clock, header: { hotslotVersion: 'bench', host: 'bench', user: 'bench', startedAt: new Date(0).toISOString(), terminal: { cols: 120, rows: 36 } } });
  let n = 0;
  let id = 0;
  const put = (e) => {
    r.write({ at: clock.now(), ...e });
    n++;
  };
  put({ type: 'host.scanned', iommu: true, devices: DEVICES });
  for (const g of GUESTS) {
    put({ type: 'guest.connected', guest: g, qemuVersion: '10.0.0', runState: 'running' });
    put({ type: 'guest.devices', guest: g, devices: [], freeSlots: ['hp1', 'hp2'] });
  }
  const counts = Object.fromEntries(DEVICES.map((d) => [d.bdf, 0]));
  let ops = 0;
  let held = null;
  for (let s = 0; n < total; s++) {
    clock.advance(1000);
    for (const bdf in counts) counts[bdf] += (s * 7 + bdf.charCodeAt(6)) % 97;
    put({ type: 'host.interrupts', counts: { ...counts } });
    const guest = GUESTS[s % 3];
    if (s % 10 === 0) {
      const poll = ++id;
      const status = s % 20 === 0;
      put({ type: 'qmp.sent', guest, message: { execute: status ? 'query-status' : 'query-pci', id: poll } });
      put({ type: 'qmp.received', guest, message: status ? { return: { status: 'running', running: true, singlestep: false }, id: poll } : { return: pciReply([]), id: poll } });
    }
    if (s % 60 === 0) {
      put({ type: 'guest.status', guest, runState: s % 120 ? 'running' : 'paused' });
      put({ type: 'qmp.event', guest, event: 'NIC_RX_FILTER_CHANGED', data: { path: '/machine/peripheral/net0/virtio-backend' }, qemuTime: clock.now() });
    }
    if (s % 600 === 300) {
      // One move of a device between two guests (attached the first time).
      const bdf = DEVICES[ops % DEVICES.length].bdf;
      const [from, to] = [GUESTS[ops % 3], GUESTS[(ops + 1) % 3]];
      const opId = `op-${ops++}`;
      const qdevId = `hs-${bdf.replace(/[:.]/g, '-')}`;
      put({ type: 'operator.answer', question: 'Move', about: `move ${bdf} ${from} → ${to}`, answer: 'yes' });
      put({ type: 'operator.intent', intent: { kind: 'move', bdf, guest: to } });
      put({ type: 'op.started', opId, op: 'move', bdfs: [bdf], guest: to, fromGuest: from });
      for (const [step, ms] of [['device_del', 900], ['reset', 12], ['device_add', 3], ['confirm in guest', 2]]) {
        put({ type: 'op.step', opId, step, bdf, status: 'running' });
        if (step.startsWith('device_')) {
          const cmd = ++id;
          put({ type: 'qmp.sent', guest: step === 'device_del' ? from : to, message: { execute: step, arguments: step === 'device_del' ? { id: qdevId } : { driver: 'vfio-pci', host: bdf, id: qdevId, bus: 'hp1' }, id: cmd } });
          put({ type: 'qmp.received', guest: step === 'device_del' ? from : to, message: { return: {}, id: cmd } });
        }
        clock.advance(ms);
        if (step === 'device_del') {
          put({ type: 'qmp.event', guest: from, event: 'DEVICE_DELETED', data: { device: qdevId, path: `/machine/peripheral/${qdevId}` }, qemuTime: clock.now() });
          put({ type: 'guest.devices', guest: from, devices: [], freeSlots: ['hp1', 'hp2'] });
        }
        put({ type: 'op.step', opId, step, bdf, status: 'ok', ms, ...(step === 'reset' ? { detail: 'flr' } : {}) });
      }
      held = { qdevId, bus: 1, slot: 0, function: 0, classDescription: 'Ethernet controller', vendorId: 0x8086, deviceId: 0x10d3, hostBdf: bdf };
      put({ type: 'guest.devices', guest: to, devices: [held], freeSlots: ['hp2'] });
      put({ type: 'host.device.changed', device: device(bdf, 'vfio-pci', { kind: 'vfio' }), fields: ['driver', 'owner'] });
      put({ type: 'op.finished', opId, outcome: 'done', message: `${bdf} moved from ${from} to ${to}` });
    }
  }
  r.close();
  return n;
}

/** In the child: one contender over the file, its wall and CPU time, the peak resident memory seen, and the heap it still holds at the end. */
async function measure(which, file) {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let events;
  if (which === 'hotslot') {
    const { replayHeadless } = await import(dist('record/headless.js'));
    const r = await replayHeadless(file);
    if (r.problem) throw new Error(`the replay stopped at line ${r.problem.line}: ${r.problem.message}`);
    events = r.events;
    // Held on purpose, so that the heap measured below includes what the replay ends with.
    globalThis.replayedState = r.state;
  } else {
    events = await new Promise((resolve, reject) => {
      let n = -1; // the header
      createReadStream(file, { highWaterMark: 64 << 10 })
        .pipe(split2('\n'))
        .on('data', (line) => {
          JSON.parse(line);
          n++;
        })
        .on('end', () => resolve(n))
        .on('error', reject);
    });
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  globalThis.gc();
  const liveHeap = process.memoryUsage().heapUsed;
  return { events, ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRss: peak, maxRss: process.resourceUsage().maxRSS * 1024, liveHeap };
}

function child(which, file) {
  const r = spawnSync(process.execPath, ['--expose-gc', import.meta.filename, '--measure', which, '--file', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${which} on ${file} failed`);
  return JSON.parse(r.stdout);
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 << 20 ? 1 : 0)} MB`;

if (args.measure) {
  process.stdout.write(JSON.stringify(await measure(args.measure, args.file)));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hotslot-bench-replay-'));
  try {
    const big = join(dir, 'big.jsonl');
    const small = join(dir, 'small.jsonl');
    let t0 = performance.now();
    const n = await generate(big, EVENTS);
    console.log(`recording: ${n.toLocaleString('en')} events, ${mb(statSync(big).size)}, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const m = await generate(small, SMALL);
    console.log(`recording: ${m.toLocaleString('en')} events, ${mb(statSync(small).size)}, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const runs = { hotslot: [], peer: [], small: [], peerSmall: [] };
    for (let i = 0; i < RUNS; i++) {
      runs.peer.push(child('peer', big));
      runs.hotslot.push(child('hotslot', big));
      runs.small.push(child('hotslot', small));
      runs.peerSmall.push(child('peer', small));
    }
    for (const r of runs.hotslot) if (r.events !== n) throw new Error(`the replay saw ${r.events} of ${n} events`);
    const med = (rs, key) => median(rs.map((r) => r[key]));
    const rate = (rs, key) => n / (med(rs, key) / 1000);
    const row = (label, value) => console.log(`${label.padEnd(46)} ${value}`);
    const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
    const line = (rs) => `${seconds(med(rs, 'ms'))} (CPU ${seconds(med(rs, 'cpuMs'))}), peak RSS ${mb(med(rs, 'maxRss'))}, heap held after ${mb(med(rs, 'liveHeap'))}`;
    row(`bare JSON.parse over split2, ${n.toLocaleString('en')} lines`, line(runs.peer));
    row(`headless replay, ${n.toLocaleString('en')} events`, line(runs.hotslot));
    row(`headless replay, ${m.toLocaleString('en')} events`, line(runs.small));
    const verdict = (ok) => (ok ? 'met' : 'MISSED');
    const wall = rate(runs.hotslot, 'ms');
    const cpu = rate(runs.hotslot, 'cpuMs');
    row('events per second (wall; per CPU second)', `${Math.round(wall).toLocaleString('en')}; ${Math.round(cpu).toLocaleString('en')}   goal >= ${GOAL_RATE.toLocaleString('en')}  ${verdict(wall >= GOAL_RATE)}`);
    row('replay / bare JSON.parse (wall; CPU)', `${(med(runs.hotslot, 'ms') / med(runs.peer, 'ms')).toFixed(2)}x; ${(med(runs.hotslot, 'cpuMs') / med(runs.peer, 'cpuMs')).toFixed(2)}x`);
    const growth = (a, b, key) => med(a, key) / med(b, key);
    const peakGrowth = growth(runs.hotslot, runs.small, 'maxRss');
    const peerGrowth = growth(runs.peer, runs.peerSmall, 'maxRss');
    const heldGrowth = growth(runs.hotslot, runs.small, 'liveHeap');
    const sizes = `${n.toLocaleString('en')} / ${m.toLocaleString('en')}`;
    row(`peak RSS, ${sizes} events`, `${peakGrowth.toFixed(2)}x   goal <= ${GOAL_MEMORY}  ${verdict(peakGrowth <= GOAL_MEMORY)}`);
    row(`  bare JSON.parse, ${sizes} lines`, `${peerGrowth.toFixed(2)}x   (V8 sizing its heap to the allocation rate)`);
    row(`heap held after, ${sizes} events`, `${heldGrowth.toFixed(2)}x   goal <= ${GOAL_MEMORY}  ${verdict(heldGrowth <= GOAL_MEMORY)}`);
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`recordings kept in ${dir}`);
  }
}
