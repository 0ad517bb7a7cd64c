import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../../src/hotplug/journal.js';
import { acquireHostLock, HostLockError } from '../../src/hotplug/host-lock.js';
import { GroupLocks } from '../../src/hotplug/group-lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'hotslot-journal-'));
const at = '2026-01-01T00:00:00.000Z';

describe('journal', () => {
  it('is private to its owner (mode 0600) and keeps every record in order', () => {
    const j = new Journal(dir());
    j.append({ kind: 'intent', opId: 'a', at, op: 'attach', guest: 'vm1', devices: [{ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null }] });
    j.append({ kind: 'step', opId: 'a', at, step: 'unbind', bdf: '0000:02:00.0' });
    expect(statSync(j.path).mode & 0o777).toBe(0o600);
    expect(j.read().map((r) => r.kind)).toEqual(['intent', 'step']);
  });

  it('lists an operation as unfinished until it has an end, with the original driver needed to put the device back', () => {
    const j = new Journal(dir());
    j.append({ kind: 'intent', opId: 'a', at, op: 'attach', guest: 'vm1', devices: [{ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null }] });
    j.append({ kind: 'intent', opId: 'b', at, op: 'attach', guest: 'vm1', devices: [{ bdf: '0000:03:00.0', driver: 'nvme', driverOverride: null }] });
    j.append({ kind: 'step', opId: 'a', at, step: 'unbind' });
    j.append({ kind: 'end', opId: 'b', at, outcome: 'done' });
    const open = j.open();
    expect(open).toHaveLength(1);
    expect(open[0].intent.devices[0]).toEqual({ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null });
    expect(open[0].steps.map((s) => s.step)).toEqual(['unbind']);
  });

  it('survives a line torn by a crash at the end, but refuses a corrupt line in the middle', () => {
    const d = dir();
    const j = new Journal(d);
    j.append({ kind: 'intent', opId: 'a', at, op: 'return', devices: [] });
    appendFileSync(j.path, '{"kind":"step","opId":"a"');
    expect(j.open()).toHaveLength(1);
    writeFileSync(j.path, 'garbage\n{"kind":"end","opId":"a","at":"x","outcome":"done"}\n');
    expect(() => j.read()).toThrow(JournalError);
    expect(() => j.read()).toThrow(/line 1/);
  });
  it('sees what another writer appended since it last looked, and starts over when the file is replaced', () => {
    const d = dir();
    const reader = new Journal(d);
    const writer = new Journal(d);
    expect(reader.open()).toEqual([]);
    writer.append({ kind: 'intent', opId: 'a', at, op: 'attach', guest: 'vm1', devices: [{ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null }] });
    expect(reader.open().map((o) => o.intent.opId)).toEqual(['a']);
    expect(reader.originOf('0000:02:00.0')).toEqual({ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null });
    writer.append({ kind: 'step', opId: 'a', at, step: 'unbind', bdf: '0000:02:00.0' });
    writer.append({ kind: 'end', opId: 'a', at, outcome: 'done' });
    // A later detach journals vfio-pci as the driver: the host driver from before still counts.
    writer.append({ kind: 'intent', opId: 'b', at, op: 'detach', fromGuest: 'vm1', devices: [{ bdf: '0000:02:00.0', driver: 'vfio-pci', driverOverride: 'vfio-pci' }] });
    expect(reader.open().map((o) => o.intent.opId)).toEqual(['b']);
    expect(reader.originOf('0000:02:00.0')?.driver).toBe('e1000e');
    // Moved aside and begun again: nothing of the old file is remembered.
    writeFileSync(j2(d), '');
    expect(reader.open()).toEqual([]);
    expect(reader.originOf('0000:02:00.0')).toBeNull();
    // Rewritten in place to the same length, with another device: read afresh.
    writer.append({ kind: 'intent', opId: 'c', at, op: 'park', devices: [{ bdf: '0000:03:00.0', driver: 'nvme', driverOverride: null }] });
    expect(reader.originOf('0000:03:00.0')?.driver).toBe('nvme');
    const text = readFileSync(j2(d), 'utf8');
    writeFileSync(j2(d), text.replace('0000:03:00.0', '0000:04:00.0'));
    expect(reader.originOf('0000:03:00.0')).toBeNull();
    expect(reader.originOf('0000:04:00.0')?.driver).toBe('nvme');
  });

  it('reads a record only once it is whole', () => {
    const j = new Journal(dir());
    j.append({ kind: 'intent', opId: 'a', at, op: 'return', devices: [] });
    appendFileSync(j.path, '{"kind":"end","opId":"a",');
    expect(j.open()).toHaveLength(1);
    appendFileSync(j.path, '"at":"x","outcome":"done"}\n');
    expect(j.open()).toHaveLength(0);
  });
});

describe('journal compaction', () => {
  const attach = (j: Journal, opId: string, bdf: string, driver: string) =>
    j.append({ kind: 'intent', opId, at, op: 'attach', guest: 'vm1', devices: [{ bdf, driver, driverOverride: null }] });

  it('starts over past its size once nothing is open, keeping every origin and the old file beside it', () => {
    const d = dir();
    const j = new Journal(d, 2_000);
    const other = new Journal(d);
    for (let i = 0; i < 20; i++) {
      attach(j, `a${i}`, '0000:02:00.0', 'e1000e');
      j.append({ kind: 'step', opId: `a${i}`, at, step: 'unbind', bdf: '0000:02:00.0' });
      j.append({ kind: 'end', opId: `a${i}`, at, outcome: 'done' });
    }
    attach(j, 'b', '0000:03:00.0', 'nvme');
    j.append({ kind: 'end', opId: 'b', at, outcome: 'done' });
    expect(statSync(j.path).size).toBeLessThan(2_000);
    expect(statSync(j.previousPath).size).toBeGreaterThan(2_000);
    expect(statSync(j.path).mode & 0o777).toBe(0o600);
    // What a later detach needs of the past is still there, for this process and another.
    for (const journal of [j, other, new Journal(d)]) {
      expect(journal.originOf('0000:02:00.0')).toEqual({ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null });
      expect(journal.originOf('0000:03:00.0')?.driver).toBe('nvme');
      expect(journal.open()).toEqual([]);
    }
  });

  it('never drops an operation that is still open', () => {
    const d = dir();
    const j = new Journal(d, 500);
    attach(j, 'stuck', '0000:02:00.0', 'e1000e');
    j.append({ kind: 'end', opId: 'stuck', at, outcome: 'stuck' });
    for (let i = 0; i < 10; i++) {
      attach(j, `a${i}`, '0000:03:00.0', 'nvme');
      j.append({ kind: 'end', opId: `a${i}`, at, outcome: 'done' });
    }
    expect(j.open().map((o) => o.intent.opId)).toEqual(['stuck']);
    expect(statSync(j.path).size).toBeGreaterThan(500);
    j.append({ kind: 'end', opId: 'stuck', at, outcome: 'recovered' });
    expect(statSync(j.path).size).toBeLessThan(500);
    expect(j.open()).toEqual([]);
    expect(j.originOf('0000:02:00.0')?.driver).toBe('e1000e');
  });
});

const j2 = (d: string) => join(d, 'journal.jsonl');

describe('host lock', () => {
  it('keeps a second writer off the host and names the holder', () => {
    const d = dir();
    const lock = acquireHostLock(d);
    expect(() => acquireHostLock(d)).toThrow(HostLockError);
    expect(() => acquireHostLock(d)).toThrow(new RegExp(`pid ${process.pid}`));
    lock.release();
    acquireHostLock(d).release();
  });

  it('takes over a lock left by a process that died', () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(d, 'lock'), `${dead}\n`);
    const lock = acquireHostLock(d);
    lock.release();
  });
});

describe('IOMMU group locks', () => {
  it('runs operations on one group one after another, and on different groups side by side', async () => {
    const locks = new GroupLocks();
    const order: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      order.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${name}-`);
    };
    await Promise.all([locks.run([7], slow('a', 30)), locks.run([7], slow('b', 1)), locks.run([9], slow('c', 1))]);
    expect(order.indexOf('b+')).toBeGreaterThan(order.indexOf('a-'));
    expect(order.indexOf('c-')).toBeLessThan(order.indexOf('a-'));
  });
});
