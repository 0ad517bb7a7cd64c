import { describe, expect, it } from 'vitest';
import { deviceRecord } from '../support/device-record.js';
import { firstValueFrom, toArray, take } from 'rxjs';
import type { HotslotEvent } from '../../src/core/events.js';
import { reduce } from '../../src/core/reducer.js';
import { initialState, interruptHistory } from '../../src/core/state.js';
import { createBus } from '../../src/core/bus.js';

const device = (bdf: string, driver: string | null) => deviceRecord(bdf, driver);

const run = (events: HotslotEvent[]) => events.reduce(reduce, initialState);

describe('reducer', () => {
  it('shows a vfio device held by a running guest as owned by that guest, and as vfio again when the guest goes away', () => {
    const s1 = run([
      { type: 'host.scanned', at: 1, iommu: true, devices: [device('0000:02:00.0', 'vfio-pci')] },
      { type: 'guest.connected', at: 2, guest: 'vm1', qemuVersion: '7.2.0', runState: 'running' },
      {
        type: 'guest.devices',
        at: 3,
        guest: 'vm1',
        freeSlots: ['hp2'],
        devices: [{ qdevId: 'hs-0000-02-00-0', bus: 1, slot: 0, function: 0, classDescription: 'Ethernet controller', vendorId: 0x8086, deviceId: 0x10d3, hostBdf: '0000:02:00.0' }],
      },
    ]);
    expect(s1.devices['0000:02:00.0'].owner).toEqual({ kind: 'guest', guest: 'vm1', qdevId: 'hs-0000-02-00-0' });
    const s2 = reduce(s1, { type: 'guest.disconnected', at: 4, guest: 'vm1', reason: 'QEMU exited' });
    expect(s2.devices['0000:02:00.0'].owner).toEqual({ kind: 'vfio' });
    expect(s2.guests.vm1.connected).toBe(false);
  });

  it('follows an operation step by step, with each step timed', () => {
    const s = run([
      { type: 'op.started', at: 10, opId: 'o1', op: 'attach', bdfs: ['0000:02:00.0'], guest: 'vm1' },
      { type: 'op.step', at: 11, opId: 'o1', step: 'unbind', bdf: '0000:02:00.0', status: 'running' },
      { type: 'op.step', at: 15, opId: 'o1', step: 'unbind', bdf: '0000:02:00.0', status: 'ok' },
      { type: 'op.step', at: 15, opId: 'o1', step: 'reset', bdf: '0000:02:00.0', status: 'running' },
      { type: 'op.step', at: 40, opId: 'o1', step: 'reset', bdf: '0000:02:00.0', status: 'failed', detail: 'ENOTTY' },
      { type: 'op.finished', at: 41, opId: 'o1', outcome: 'failed', message: 'reset failed' },
    ]);
    const op = s.operations.o1;
    expect(op.steps.map((x) => [x.step, x.status, x.ms])).toEqual([
      ['unbind', 'ok', 4],
      ['reset', 'failed', 25],
    ]);
    expect(op.outcome).toBe('failed');
    expect(s.now).toBe(41);
  });

  it('keeps what the screen can show of operations: every running one, and the newest on each device, however many came before', () => {
    const events: HotslotEvent[] = [];
    const op = (at: number, opId: string, bdfs: string[], finish = true) => {
      events.push({ type: 'op.started', at, opId, op: 'attach', bdfs, guest: 'vm1' });
      if (finish) events.push({ type: 'op.finished', at: at + 1, opId, outcome: 'done', message: '' });
    };
    for (let i = 0; i < 500; i++) op(10 + 10 * i, `a${i}`, ['0000:02:00.0']);
    op(6000, 'group', ['0000:03:00.0', '0000:03:00.1']);
    op(6010, 'still-running', ['0000:02:00.0'], false);
    op(6020, 'half', ['0000:03:00.0']);
    let s = run(events);
    expect(Object.keys(s.operations).sort()).toEqual(['group', 'half', 'still-running']);
    // The group operation goes once neither of its devices has it as the newest.
    s = run([...events, { type: 'op.finished', at: 6030, opId: 'still-running', outcome: 'done', message: '' }, { type: 'op.started', at: 6040, opId: 'last', op: 'return', bdfs: ['0000:03:00.1'] }]);
    expect(Object.keys(s.operations).sort()).toEqual(['half', 'last', 'still-running']);
  });

  it('removes a device that disappeared and keeps a bounded interrupt history', () => {
    let s = run([{ type: 'host.scanned', at: 1, iommu: true, devices: [device('0000:02:00.0', 'e1000e'), device('0000:03:00.0', null)] }]);
    s = reduce(s, { type: 'host.device.removed', at: 2, bdf: '0000:03:00.0' });
    expect(Object.keys(s.devices)).toEqual(['0000:02:00.0']);
    for (let i = 0; i < 100; i++) s = reduce(s, { type: 'host.interrupts', at: 3 + i, counts: { '0000:02:00.0': i } });
    expect(interruptHistory(s, '0000:02:00.0')).toEqual(Array.from({ length: 60 }, (_, i) => 40 + i));
    // A device that was not in every sample has only the counts of those it was in.
    s = reduce(s, { type: 'host.interrupts', at: 200, counts: { '0000:03:00.0': 7 } });
    expect(interruptHistory(s, '0000:02:00.0')).toHaveLength(59);
    expect(interruptHistory(s, '0000:03:00.0')).toEqual([7]);
  });
});

describe('bus', () => {
  it('derives state from events with the reducer, newest state first to late subscribers', async () => {
    const bus = createBus();
    const states = firstValueFrom(bus.state$.pipe(take(3), toArray()));
    bus.emit({ type: 'guest.connected', at: 1, guest: 'vm1', qemuVersion: null, runState: 'running' });
    bus.emit({ type: 'guest.status', at: 2, guest: 'vm1', runState: 'paused' });
    expect((await states).map((s) => s.guests.vm1?.runState ?? null)).toEqual([null, 'running', 'paused']);
    expect((await firstValueFrom(bus.state$)).guests.vm1.runState).toBe('paused');
  });
});
