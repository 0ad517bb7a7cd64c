#!/usr/bin/env node
// The dashboard with 4,096 devices and 16 guests in an in-process fake terminal: time to the
// first full frame, time to re-render after a key (median and p99), and memory. The peer is a
// bare blessed screen showing the same number of plain text rows in one scrolling box (what
// any blessed program pays to draw a screenful). Run `npm run build` first.
// Usage: node --expose-gc bench/tui.mjs [KEYS] [COLSxROWS ...]  (with --expose-gc, garbage is
// collected before each run, so one run's leftovers do not land in the next one's numbers)
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { BehaviorSubject, Subject } from 'rxjs';
import { startDashboard } from '../dist/tui/dashboard.js';
import { createBox, createScreen } from '../dist/tui/blessed.js';
import { loadTheme } from '../dist/tui/theme.js';
import { reduce } from '../dist/core/reducer.js';
import { initialState } from '../dist/core/state.js';
import { percentile, median } from './stats.mjs';

const KEYS = Number(process.argv[2] ?? 400);
const SIZES = (process.argv.length > 3 ? process.argv.slice(3) : ['80x24', '200x60']).map((s) => s.split('x').map(Number));
const DEVICES = 4096;
const GUESTS = 16;
const GOALS = { firstFrameMs: 300, keyMedianMs: 16, rssMB: 150 };

function fakeTerminal(cols, rows) {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: cols, rows });
  output.resume();
  return { input, output };
}

const hex = (n, w) => n.toString(16).padStart(w, '0');
const DRIVERS = ['igb', 'e1000e', 'nvme', 'ixgbe', 'mlx5_core', 'vfio-pci', null];

function device(i) {
  const bdf = `${hex(i >> 13, 4)}:${hex((i >> 5) & 0xff, 2)}:${hex((i >> 1) & 0xf, 2)}.${i & 1}`;
  const driver = DRIVERS[i % DRIVERS.length];
  return {
    bdf,
    vendorId: '0x8086',
    deviceId: `0x${hex(0x1500 + (i % 64), 4)}`,
    classCode: '0x020000',
    vendorName: 'Intel Corporation',
    deviceName: `Ethernet Controller X${700 + (i % 97)} Virtual Function`,
    headerType: 'endpoint',
    pcieType: 'endpoint',
    driver,
    iommuGroup: 20 + (i >> 1),
    owner: { kind: driver === 'vfio-pci' ? 'vfio' : driver ? 'host' : 'none' },
    interrupts: { pin: 'A', irq: 32 + (i % 200), msi: { capable: true, enabled: false, vectors: null, maxVectors: 1 }, msix: { capable: true, enabled: true, tableSize: 5 }, mode: 'msix' },
    reset: { methods: ['flr'], flr: true, afFlr: false, pmNoSoftReset: false, busResetPossible: false },
    acs: null,
    sriov: null,
    capabilities: [{ id: 0x11, name: 'MSI-X', offset: 0x70, extended: false }],
    assignable: { ok: i % 5 !== 0, reasons: i % 5 === 0 ? [{ code: 'group-not-viable', message: 'its IOMMU group has a device in use' }] : [] },
  };
}

function bigState() {
  const devices = Array.from({ length: DEVICES }, (_, i) => device(i));
  const events = [{ type: 'host.scanned', at: 1, iommu: true, devices }];
  for (let g = 0; g < GUESTS; g++) {
    const guest = `vm${g + 1}`;
    events.push({ type: 'guest.connected', at: 2, guest, qemuVersion: '7.2.0', runState: 'running' });
    const held = devices.filter((d, i) => d.driver === 'vfio-pci' && i % GUESTS === g).slice(0, 8);
    events.push({
      type: 'guest.devices',
      at: 3,
      guest,
      devices: held.map((d, k) => ({ qdevId: `hostdev${k}`, bus: 1 + k, slot: 0, function: 0, classDescription: null, vendorId: 0x8086, deviceId: 0x1515, hostBdf: d.bdf })),
      freeSlots: ['rp1', 'rp2'],
    });
  }
  for (let t = 0; t < 60; t++) {
    const counts = {};
    for (let i = 0; i < DEVICES; i += 7) counts[devices[i].bdf] = t * 100 + (i % 13) * t;
    events.push({ type: 'host.interrupts', at: 4 + t, counts });
  }
  return events.reduce(reduce, initialState);
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const mb = (bytes) => bytes / 1024 / 1024;

/** The keys an operator presses browsing the table: mostly j, some pages, both ends. */
function keySequence(n) {
  const keys = [];
  for (let i = 0; i < n; i++) keys.push(i % 40 === 39 ? '\x1b[6~' : i % 97 === 96 ? 'G' : i % 101 === 100 ? 'g' : 'j');
  return keys;
}

async function measureKeys(term, screen, keys) {
  let rendered = 0;
  const onRender = () => (rendered = performance.now());
  screen.on('render', onRender);
  const times = [];
  for (const k of keys) {
    const t0 = performance.now();
    term.input.write(k);
    await turn();
    times.push(rendered - t0);
  }
  screen.removeListener('render', onRender);
  return times;
}

function openDashboard(state, cols, rows) {
  const term = fakeTerminal(cols, rows);
  const dash = startDashboard({
    state$: new BehaviorSubject(state),
    events$: new Subject(),
    sendIntent: () => undefined,
    readOnly: false,
    theme: loadTheme('default', {}),
    header: { host: 'bench', kernel: '6.1.0' },
    input: term.input,
    output: term.output,
    terminal: 'xterm-256color',
    onExit: () => undefined,
    frameMs: 33,
  });
  return { term, dash };
}

/** The median of five first frames (each on a fresh copy of the state), then the keys on one more. */
async function dashboardRun(makeState, cols, rows) {
  const firsts = [];
  for (let i = 0; i < 5; i++) {
    const state = makeState();
    globalThis.gc?.();
    const t0 = performance.now();
    const { dash } = openDashboard(state, cols, rows);
    // blessed writes the frame out on the next tick: that is part of the frame.
    await turn();
    firsts.push(performance.now() - t0);
    dash.stop();
  }
  const { term, dash } = openDashboard(makeState(), cols, rows);
  await turn();
  const keys = await measureKeys(term, dash.screen, keySequence(KEYS));
  const rss = process.memoryUsage().rss;
  dash.stop();
  return { firstFrame: median(firsts), keys, rss };
}

function openPeer(state, cols, rows) {
  const term = fakeTerminal(cols, rows);
  const lines = Object.values(state.devices).map((d) => `${d.bdf} ${d.deviceName} ${d.driver ?? '-'} ${d.owner.kind} ${d.iommuGroup} ${d.interrupts.mode}`);
  const screen = createScreen({ input: term.input, output: term.output, terminal: 'xterm-256color' });
  const box = createBox(screen, { top: 0, left: 0, width: '100%', height: '100%', border: { type: 'line' }, tags: false, content: lines.join('\n'), scrollable: true });
  screen.on('keypress', (ch) => {
    if (ch === 'G') box.setScrollPerc(100);
    else if (ch === 'g') box.setScrollPerc(0);
    else box.scroll(ch === 'j' ? 1 : rows - 2);
    screen.render();
  });
  screen.render();
  return { term, screen };
}

async function peerRun(makeState, cols, rows) {
  const firsts = [];
  for (let i = 0; i < 5; i++) {
    const state = makeState();
    globalThis.gc?.();
    const t0 = performance.now();
    const { screen } = openPeer(state, cols, rows);
    await turn();
    firsts.push(performance.now() - t0);
    screen.destroy();
  }
  const { term, screen } = openPeer(makeState(), cols, rows);
  await turn();
  const keys = await measureKeys(term, screen, keySequence(KEYS));
  screen.destroy();
  return { firstFrame: median(firsts), keys };
}

const fmt = (ms) => `${ms.toFixed(2)} ms`;

const state = bigState();
console.log(`tui bench: ${DEVICES} devices, ${GUESTS} guests, ${KEYS} keys per run (Node ${process.version})`);
/** The same state in new objects, so that nothing sorted or indexed for an earlier run is reused. */
const fresh = () => ({ ...state, devices: Object.fromEntries(Object.entries(state.devices).map(([k, d]) => [k, { ...d }])), guests: { ...state.guests } });

// One warm-up of each, so JIT compilation is not counted as render work.
await dashboardRun(fresh, 80, 24);
await peerRun(fresh, 80, 24);

globalThis.gc?.();
const baseline = process.memoryUsage().rss;
let ok = true;
for (const [cols, rows] of SIZES) {
  const ours = await dashboardRun(fresh, cols, rows);
  const peer = await peerRun(fresh, cols, rows);
  const med = median(ours.keys);
  const p99 = percentile(ours.keys, 99);
  console.log(`\n${cols}x${rows}`);
  console.log(`  first frame*     hotslot ${fmt(ours.firstFrame).padStart(10)}   bare blessed ${fmt(peer.firstFrame).padStart(10)}   ratio ${(ours.firstFrame / peer.firstFrame).toFixed(2)}   (goal < ${GOALS.firstFrameMs} ms)`);
  console.log(`  key, median      hotslot ${fmt(med).padStart(10)}   bare blessed ${fmt(median(peer.keys)).padStart(10)}   ratio ${(med / median(peer.keys)).toFixed(2)}   (goal < ${GOALS.keyMedianMs} ms)`);
  console.log(`  key, p99         hotslot ${fmt(p99).padStart(10)}   bare blessed ${fmt(percentile(peer.keys, 99)).padStart(10)}   ratio ${(p99 / percentile(peer.keys, 99)).toFixed(2)}`);
  console.log(`  resident memory  ${mb(ours.rss).toFixed(0)} MB (goal < ${GOALS.rssMB} MB); before the dashboard, with the state built: ${mb(baseline).toFixed(0)} MB`);
  ok &&= ours.firstFrame < GOALS.firstFrameMs && med < GOALS.keyMedianMs && mb(ours.rss) < GOALS.rssMB;
}
console.log('\n* median of 5, from the call to the frame written out (sorting all devices included)');
console.log(`${ok ? 'within' : 'OUTSIDE'} the goals (first frame < ${GOALS.firstFrameMs} ms, key median < ${GOALS.keyMedianMs} ms, < ${GOALS.rssMB} MB)`);
