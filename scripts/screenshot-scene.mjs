#!/usr/bin/env node
// The scene of docs/screenshot.png: the real dashboard on the lab host's sysfs snapshot (a real
// 6.1 kernel), with two guests, an attach that finished and a move in progress. Run inside a
// terminal by scripts/screenshot.mjs; it draws until it is killed or q is pressed.
// Usage: node scripts/screenshot-scene.mjs SYSFS_ROOT PROC_ROOT
import { createBus } from '../dist/core/bus.js';
import { systemClock } from '../dist/core/clock.js';
import { scanHost } from '../dist/host/inventory.js';
import { loadPciIds } from '../dist/pci/pci-ids.js';
import { startDashboard } from '../dist/tui/dashboard.js';
import { loadTheme } from '../dist/tui/theme.js';

const [sysfsRoot, procRoot] = process.argv.slice(2);
const inventory = scanHost({ sysfsRoot, procRoot, names: loadPciIds() });
const bus = createBus();
const dash = startDashboard({
  state$: bus.state$,
  events$: bus.events$,
  sendIntent: () => undefined,
  readOnly: false,
  theme: loadTheme(process.env.HOTSLOT_THEME),
  header: { host: 'lab', kernel: '6.1.0-13-amd64', mode: 'live' },
  onExit: (code) => process.exit(code),
});

const NIC = '0000:02:00.0';
const t0 = systemClock.now() - 95_000;
const at = (s) => t0 + s * 1000;
const nic = inventory.byBdf.get(NIC);
const emulated = [
  { qdevId: null, bus: 0, slot: 0, function: 0, classDescription: 'Host bridge', vendorId: 0x8086, deviceId: 0x29c0, hostBdf: null },
  { qdevId: 'virtio-disk0', bus: 0, slot: 3, function: 0, classDescription: 'SCSI controller', vendorId: 0x1af4, deviceId: 0x1001, hostBdf: null },
];
const step = (s, opId, name, ms) => [
  { type: 'op.step', at: at(s), opId, step: name, bdf: NIC, status: 'running' },
  { type: 'op.step', at: at(s) + ms, opId, step: name, bdf: NIC, status: 'ok', ms },
];

const events = [
  { type: 'host.scanned', at: at(0), iommu: inventory.iommu, devices: inventory.devices },
  { type: 'guest.connected', at: at(1), guest: 'vm1', qemuVersion: '7.2.0', runState: 'running' },
  { type: 'guest.devices', at: at(1), guest: 'vm1', devices: emulated, freeSlots: ['rp1', 'rp2', 'rp3'] },
  { type: 'guest.connected', at: at(2), guest: 'vm2', qemuVersion: '7.2.0', runState: 'running' },
  { type: 'guest.devices', at: at(2), guest: 'vm2', devices: emulated, freeSlots: ['rp1', 'rp2'] },
  { type: 'guest.connected', at: at(3), guest: 'build-runner', qemuVersion: '7.2.0', runState: 'paused' },
  { type: 'guest.devices', at: at(3), guest: 'build-runner', devices: emulated, freeSlots: [] },
  { type: 'op.started', at: at(20), opId: 'a1', op: 'attach', bdfs: [NIC], guest: 'vm1' },
  ...step(20, 'a1', 'preflight', 3),
  ...step(20.01, 'a1', 'unbind e1000e', 41),
  ...step(20.06, 'a1', 'reset pm', 212),
  ...step(20.3, 'a1', 'bind vfio-pci', 88),
  { type: 'host.device.changed', at: at(20.4), device: { ...nic, driver: 'vfio-pci', owner: { kind: 'vfio' } }, fields: ['driver'] },
  ...step(20.4, 'a1', 'device_add', 350),
  {
    type: 'guest.devices',
    at: at(20.8),
    guest: 'vm1',
    devices: [...emulated, { qdevId: 'hostdev0', bus: 1, slot: 0, function: 0, classDescription: 'Ethernet controller', vendorId: 0x8086, deviceId: 0x10d3, hostBdf: NIC }],
    freeSlots: ['rp2', 'rp3'],
  },
  { type: 'op.finished', at: at(20.8), opId: 'a1', outcome: 'done', message: 'attached to vm1 as hostdev0 in 0.8 s' },
  { type: 'qmp.event', at: at(60), guest: 'vm2', event: 'RESUME', data: {}, qemuTime: null },
  { type: 'op.started', at: at(93), opId: 'm1', op: 'move', bdfs: [NIC], fromGuest: 'vm1', guest: 'vm2' },
  ...step(93, 'm1', 'preflight', 2),
  { type: 'op.step', at: at(93.01), opId: 'm1', step: 'device_del', bdf: NIC, status: 'running', detail: 'waiting for DEVICE_DELETED' },
];
let counts = 1_000_000;
for (let i = 0; i < 60; i++) {
  counts += 800 + Math.round(600 * Math.abs(Math.sin(i / 5))) + (i > 40 ? 1500 : 0);
  events.push({ type: 'host.interrupts', at: at(30 + i), counts: { [NIC]: counts } });
}
events.sort((a, b) => a.at - b.at);
for (const e of events) bus.emit(e);
process.on('SIGTERM', () => {
  dash.stop();
  process.exit(0);
});
