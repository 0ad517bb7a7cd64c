import { describe, expect, it } from 'vitest';
import { deviceRecord } from '../support/device-record.js';
import type { HotslotEvent } from '../../src/core/events.js';
import { reduce } from '../../src/core/reducer.js';
import { initialState, type HotslotState } from '../../src/core/state.js';
import { watchLine, watchRecords, type WatchRecord } from '../../src/cli/watch-report.js';

const device = (bdf: string, driver: string | null) => deviceRecord(bdf, driver, { reset: { methods: ['pm'], flr: false, afFlr: false, pmNoSoftReset: false, busResetPossible: false } });

/** Every record a run of events makes, as `watch` reports them. */
function report(events: HotslotEvent[], returnOnExit = true): WatchRecord[] {
  let state: HotslotState = initialState;
  const out: WatchRecord[] = [];
  for (const e of events) {
    const before = state;
    state = reduce(state, e);
    out.push(...watchRecords(before, state, e, { returnOnExit }));
  }
  return out;
}

const NIC = '0000:02:00.0';
const held = { qdevId: 'hs-0000-02-00-0', bus: 1, slot: 0, function: 0, classDescription: null, vendorId: 0x8086, deviceId: 0x10d3, hostBdf: NIC };

describe('what watch reports', () => {
  it('the first look at the host is not a change of owner: no line per device at start', () => {
    expect(report([{ type: 'host.scanned', at: 1, iommu: true, devices: [device(NIC, 'e1000e'), device('0000:03:00.0', null)] }])).toEqual([]);
  });

  it('a guest that takes a device, then exits: owner lines, and the gone guest names what it held', () => {
    const records = report([
      { type: 'host.scanned', at: 1, iommu: true, devices: [device(NIC, 'e1000e')] },
      { type: 'guest.connected', at: 2, guest: 'vm1', qemuVersion: '10.0.0', runState: null },
      { type: 'host.device.changed', at: 3, device: device(NIC, 'vfio-pci'), fields: ['driver'] },
      { type: 'guest.devices', at: 4, guest: 'vm1', devices: [held], freeSlots: [] },
      { type: 'guest.disconnected', at: 5, guest: 'vm1', reason: 'QEMU closed the connection' },
    ]);
    expect(records).toEqual([
      { event: 'guest.connected', guest: 'vm1', qemuVersion: '10.0.0' },
      { event: 'device.owner', bdf: NIC, from: { kind: 'host' }, to: { kind: 'vfio' }, driver: 'vfio-pci' },
      { event: 'device.owner', bdf: NIC, from: { kind: 'vfio' }, to: { kind: 'guest', guest: 'vm1', qdevId: 'hs-0000-02-00-0' }, driver: 'vfio-pci' },
      { event: 'guest.gone', guest: 'vm1', reason: 'QEMU closed the connection', devices: [NIC], returning: true },
      { event: 'device.owner', bdf: NIC, from: { kind: 'guest', guest: 'vm1', qdevId: 'hs-0000-02-00-0' }, to: { kind: 'vfio' }, driver: 'vfio-pci' },
    ]);
    expect(records.map(watchLine)).toEqual([
      'guest vm1 connected (QEMU 10.0.0)',
      `${NIC} owner host -> vfio (vfio-pci)`,
      `${NIC} owner vfio -> guest vm1 (hs-0000-02-00-0)`,
      `guest vm1 gone (QEMU closed the connection): returning ${NIC} to the host`,
      `${NIC} owner guest vm1 (hs-0000-02-00-0) -> vfio (vfio-pci)`,
    ]);
  });

  it('without return on exit the gone guest leaves its devices on vfio-pci, and says so', () => {
    const records = report(
      [
        { type: 'guest.connected', at: 1, guest: 'vm1', qemuVersion: null, runState: null },
        { type: 'guest.devices', at: 2, guest: 'vm1', devices: [held], freeSlots: [] },
        { type: 'guest.disconnected', at: 3, guest: 'vm1', reason: 'QEMU closed the connection' },
      ],
      false,
    );
    const goneLine = records.find((r) => r.event === 'guest.gone')!;
    expect(goneLine).toMatchObject({ devices: [NIC], returning: false });
    expect(watchLine(goneLine)).toBe(`guest vm1 gone (QEMU closed the connection): ${NIC} left on vfio-pci`);
  });

  it('a guest that could never be reached is unreachable, not gone', () => {
    expect(report([{ type: 'guest.disconnected', at: 1, guest: 'vm9', reason: 'connect ENOENT /run/vm9.qmp' }])).toEqual([
      { event: 'guest.unreachable', guest: 'vm9', reason: 'connect ENOENT /run/vm9.qmp' },
    ]);
  });

  it('an operation reports its start and its outcome, with its kind and devices', () => {
    const records = report([
      { type: 'op.started', at: 1, opId: 'op1', op: 'return', bdfs: [NIC] },
      { type: 'op.step', at: 2, opId: 'op1', step: 'reset', bdf: NIC, status: 'ok' },
      { type: 'op.finished', at: 3, opId: 'op1', outcome: 'done', message: `${NIC} is back on the host (e1000e)` },
    ]);
    expect(records.map(watchLine)).toEqual([`return ${NIC} started (op1)`, `return ${NIC} done: ${NIC} is back on the host (e1000e) (op1)`]);
  });
});
