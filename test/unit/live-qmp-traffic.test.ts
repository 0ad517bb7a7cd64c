import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/core/clock.js';
import { recordedTraffic, type QmpNote } from '../../src/live/qmp-traffic.js';
import type { QmpTraffic } from '../../src/qmp/index.js';

function tap() {
  const wire = new Subject<QmpTraffic>();
  const clock = manualClock(100);
  const notes: QmpNote[] = [];
  recordedTraffic('vm1', wire, clock).subscribe((n) => notes.push(n));
  let id = 0;
  return {
    notes,
    clock,
    /** One exchange: the command, then (after `ms`) its reply. */
    ask(execute: string, reply: Record<string, unknown>, args?: Record<string, unknown>, ms = 0): number {
      const n = ++id;
      wire.next({ direction: 'sent', message: { execute, ...(args ? { arguments: args } : {}), id: n } });
      clock.advance(ms);
      wire.next({ direction: 'received', message: { ...reply, id: n } });
      return n;
    },
    receive: (message: Record<string, unknown>) => wire.next({ direction: 'received', message }),
  };
}

const shown = (notes: QmpNote[]) => notes.map((n) => `${n.type === 'qmp.sent' ? '>' : '<'} ${JSON.stringify(n.message)}`);

describe('QMP traffic as a session recording keeps it', () => {
  it('keeps a poll the first time and whenever its answer changes, and leaves out the same answer again', () => {
    const t = tap();
    t.ask('query-status', { return: { status: 'running' } });
    t.ask('query-status', { return: { status: 'running' } });
    t.ask('query-status', { return: { status: 'paused' } });
    t.ask('qom-get', { return: 'vfio-pci' }, { path: '/machine/peripheral/hs-1', property: 'type' });
    t.ask('qom-get', { return: 'pcie-root-port' }, { path: '/machine/peripheral/hp1', property: 'type' });
    t.ask('qom-get', { return: 'vfio-pci' }, { path: '/machine/peripheral/hs-1', property: 'type' });
    expect(shown(t.notes)).toEqual([
      '> {"execute":"query-status","id":1}',
      '< {"return":{"status":"running"},"id":1}',
      '> {"execute":"query-status","id":3}',
      '< {"return":{"status":"paused"},"id":3}',
      '> {"execute":"qom-get","arguments":{"path":"/machine/peripheral/hs-1","property":"type"},"id":4}',
      '< {"return":"vfio-pci","id":4}',
      '> {"execute":"qom-get","arguments":{"path":"/machine/peripheral/hp1","property":"type"},"id":5}',
      '< {"return":"pcie-root-port","id":5}',
    ]);
  });

  it('keeps every command that may change the guest, each reply to it, the greeting, and an error', () => {
    const t = tap();
    t.receive({ QMP: { version: {}, capabilities: [] } });
    t.ask('device_del', { return: {} }, { id: 'hs-1' });
    t.ask('device_del', { return: {} }, { id: 'hs-1' });
    t.ask('query-pci', { error: { class: 'GenericError', desc: 'busy' } });
    t.ask('query-pci', { error: { class: 'GenericError', desc: 'busy' } });
    t.receive({ event: 'DEVICE_DELETED', data: { device: 'hs-1' }, timestamp: { seconds: 1, microseconds: 0 } });
    expect(shown(t.notes)).toEqual([
      '< {"QMP":{"version":{},"capabilities":[]}}',
      '> {"execute":"device_del","arguments":{"id":"hs-1"},"id":1}',
      '< {"return":{},"id":1}',
      '> {"execute":"device_del","arguments":{"id":"hs-1"},"id":2}',
      '< {"return":{},"id":2}',
      '> {"execute":"query-pci","id":3}',
      '< {"error":{"class":"GenericError","desc":"busy"},"id":3}',
    ]);
  });

  it('gives a kept poll the time it was sent, not the time its answer came', () => {
    const t = tap();
    t.ask('query-pci', { return: [] }, undefined, 40);
    expect(t.notes.map((n) => [n.type, n.at, n.guest])).toEqual([
      ['qmp.sent', 100, 'vm1'],
      ['qmp.received', 140, 'vm1'],
    ]);
  });
});
