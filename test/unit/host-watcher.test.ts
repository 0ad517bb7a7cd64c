/**
 * The watcher reports exactly what changed in a fixture tree: a device added, removed or changed
 * (with the fields that moved), and nothing at all for a cycle where nothing did.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/core/clock.js';
import type { HotslotEvent } from '../../src/core/events.js';
import { reduce } from '../../src/core/reducer.js';
import { initialState } from '../../src/core/state.js';
import {
  addFunctions,
  bindDriver,
  buildHostTree,
  removeFunction,
  setDefaultRoute,
  setDriverOverride,
  setMsiIrqs,
  setResetMethods,
  unbindDriver,
  type BuiltTree,
  type FunctionSpec,
} from '../../src/host/sysfs-builder.js';
import type { HostDevice } from '../../src/host/host-device.js';
import { HostWatcher } from '../../src/host/watcher.js';
import { watchHost } from '../../src/host/watch-host.js';

const nic = (bdf: string, group: number, extra: Partial<FunctionSpec> = {}): FunctionSpec => ({
  bdf,
  parent: '0000:00:10.0',
  vendorId: 0x8086,
  deviceId: 0x10c9,
  classCode: 0x020000,
  driver: 'igb',
  iommuGroup: group,
  pcie: { type: 'endpoint', flr: true },
  msix: { tableSize: 10, enabled: 3 },
  ...extra,
});

const FUNCTIONS: FunctionSpec[] = [
  { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0 },
  { bdf: '0000:00:10.0', vendorId: 0x1b36, deviceId: 0x000c, classCode: 0x060400, driver: 'pcieport', iommuGroup: 1 },
  nic('0000:01:00.0', 2, { sriov: { totalVFs: 7, numVFs: 0, vfDeviceId: 0x10ca }, net: ['eth0'] }),
  nic('0000:01:00.1', 3, { deviceId: 0x10c9 }),
];

let dir: string;
let tree: BuiltTree;
let watcher: HostWatcher;
const clock = manualClock(1000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotslot-watch-'));
  tree = buildHostTree(dir, { functions: FUNCTIONS });
  watcher = new HostWatcher({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot }, clock);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const summary = (events: HotslotEvent[]) =>
  events.map((e) => {
    switch (e.type) {
      case 'host.device.added':
        return `added ${e.device.bdf}`;
      case 'host.device.removed':
        return `removed ${e.bdf}`;
      case 'host.device.changed':
        return `changed ${e.device.bdf} ${e.fields.join(',')}`;
      default:
        return e.type;
    }
  });

describe('HostWatcher', () => {
  it('starts with host.scanned carrying every device, then an unchanged cycle emits nothing', () => {
    const first = watcher.scan();
    expect(first.type).toBe('host.scanned');
    expect(first.iommu).toBe(true);
    expect(first.devices.map((d) => d.bdf)).toEqual(FUNCTIONS.map((f) => f.bdf).sort());
    expect(watcher.poll()).toEqual([]);
    expect(watcher.poll()).toEqual([]);
  });

  it('reports a driver change on the next cycle: driver, owner, interrupts and driver_override, and nothing for the others', () => {
    watcher.scan();
    unbindDriver(tree.sysfsRoot, '0000:01:00.1');
    setDriverOverride(tree.sysfsRoot, '0000:01:00.1', 'vfio-pci');
    bindDriver(tree.sysfsRoot, '0000:01:00.1', 'vfio-pci');
    const events = watcher.poll();
    expect(summary(events)).toEqual(['changed 0000:01:00.1 driver,owner,interrupts,driverOverride']);
    const e = events[0];
    if (e.type !== 'host.device.changed') throw new Error('expected a change');
    expect(e.device.owner).toEqual({ kind: 'vfio' });
    expect(e.device.interrupts.mode).toBe('none');
    expect(e.at).toBe(1000);
    expect(watcher.poll()).toEqual([]);
  });

  it('reports MSI-X vectors going and coming as an interrupts change on the next cycle', () => {
    watcher.scan();
    setMsiIrqs(tree.sysfsRoot, '0000:01:00.1', null);
    expect(summary(watcher.poll())).toEqual(['changed 0000:01:00.1 interrupts']);
    setMsiIrqs(tree.sysfsRoot, '0000:01:00.1', 'msix', 5);
    expect(summary(watcher.poll())).toEqual(['changed 0000:01:00.1 interrupts']);
  });

  it('reports a written reset_method within verifyEvery cycles, once, with the verdict it changes', () => {
    watcher.scan();
    setResetMethods(tree.sysfsRoot, '0000:01:00.1', ['bus']);
    const events: HotslotEvent[] = [];
    for (let i = 0; i < 8; i++) events.push(...watcher.poll());
    // A bus reset shared with 01:00.0 is refused by the kernel: the verdict moves with it.
    expect(summary(events)).toEqual(['changed 0000:01:00.1 reset,assignable']);
    const e = events[0];
    expect(e.type === 'host.device.changed' && e.device.assignable.reasons.map((r) => r.code)).toEqual(['reset-hits-others']);
  });

  it('with verifyEvery 1, reports a driver_override write on the next cycle', () => {
    const eager = new HostWatcher({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot }, clock, { verifyEvery: 1 });
    eager.scan();
    setDriverOverride(tree.sysfsRoot, '0000:01:00.1', 'vfio-pci');
    const events = eager.poll();
    expect(summary(events)).toEqual(['changed 0000:01:00.1 driverOverride']);
    expect(events[0].type === 'host.device.changed' && (events[0].device as HostDevice).driverOverride).toBe('vfio-pci');
  });

  it('reports VFs that appear as added, and the PF whose VF count moved as changed', () => {
    watcher.scan();
    addFunctions(
      tree.sysfsRoot,
      ['0000:01:10.0', '0000:01:10.2'].map((bdf, i) =>
        nic(bdf, 10 + i, { physfn: '0000:01:00.0', deviceId: 0x10ca, driver: 'igbvf', pm: null }),
      ),
    );
    const events = watcher.poll();
    expect(summary(events)).toEqual(['changed 0000:01:00.0 sriov,virtfns', 'added 0000:01:10.0', 'added 0000:01:10.2']);
    const pf = events[0];
    expect(pf.type === 'host.device.changed' && pf.device.sriov).toEqual({ totalVFs: 7, numVFs: 2 });
    expect(watcher.poll()).toEqual([]);
  });

  it('reports a removed device, and the group member whose verdict and bus reset changed with it', () => {
    // Two functions in one group: the first is not viable while the second is on igb.
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'hotslot-watch-'));
    tree = buildHostTree(dir, { functions: [...FUNCTIONS.slice(0, 3), nic('0000:01:00.1', 2)] });
    watcher = new HostWatcher({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot }, clock);
    const first = watcher.scan();
    expect(first.devices.find((d) => d.bdf === '0000:01:00.0')?.assignable.reasons.map((r) => r.code)).toContain('group-not-viable');
    removeFunction(tree.sysfsRoot, '0000:01:00.1');
    const events = watcher.poll();
    // Alone on bus 01 now: no longer blocked by its group, and a bus reset would touch nothing else.
    expect(summary(events)).toEqual(['removed 0000:01:00.1', 'changed 0000:01:00.0 reset,assignable']);
    const e = events[1];
    expect(e.type === 'host.device.changed' && e.device.reset.busResetPossible).toBe(true);
  });

  it('reports a device that becomes protected when the default route moves to it', () => {
    watcher.scan();
    setDefaultRoute(tree.procRoot, 'eth0');
    expect(summary(watcher.poll())).toEqual(['changed 0000:01:00.0 assignable,protected']);
    expect(watcher.poll()).toEqual([]);
  });

  it('ignores interrupt counters moving in /proc/interrupts', () => {
    watcher.scan();
    const file = join(tree.procRoot, 'interrupts');
    const before = readFileSync(file, 'utf8');
    const moved = before.replace(/^(\s*\d+:\s+)(\d+)/gm, (_m, head: string, n: string) => `${head}${Number(n) + 1000}`);
    expect(moved).not.toBe(before);
    writeFileSync(file, moved);
    expect(watcher.poll()).toEqual([]);
  });
});

describe('interrupt counts', () => {
  it('emits host.interrupts per BDF only when asked, and only when a total moved', () => {
    const counting = new HostWatcher({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot }, clock, { countInterrupts: true });
    counting.scan();
    const irqs = (bdf: string) => (counting.current?.byBdf.get(bdf) ? readdirSync(join(tree.sysfsRoot, 'bus/pci/devices', bdf, 'msi_irqs')).map(Number) : []);
    const write = (n: number) =>
      writeFileSync(
        join(tree.procRoot, 'interrupts'),
        ['           CPU0       CPU1', ...irqs('0000:01:00.0').map((irq) => `${irq}:  ${n}  1  IR-PCI-MSI ${irq}-edge  eth0-rx`)].join('\n') + '\n',
      );
    write(10);
    const first = counting.poll();
    expect(first).toHaveLength(1);
    const e = first[0];
    if (e.type !== 'host.interrupts') throw new Error('expected interrupt counts');
    expect(e.counts['0000:01:00.0']).toBe(3 * 11);
    expect(e.counts['0000:01:00.1']).toBe(0);
    expect(counting.poll()).toEqual([]);
    write(20);
    expect(counting.poll().map((x) => x.type === 'host.interrupts' && x.counts['0000:01:00.0'])).toEqual([3 * 21]);
    // Without the option the same moving counters say nothing.
    watcher.scan();
    write(30);
    expect(watcher.poll()).toEqual([]);
  });
});

describe('watchHost', () => {
  it('scans at once, then emits only changes on each tick of the injected scheduler', () => {
    const scheduler = new VirtualTimeScheduler();
    const seen: HotslotEvent[] = [];
    const sub = watchHost({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot }, { intervalMs: 500, scheduler, clock }).subscribe((e) => seen.push(e));
    scheduler.maxFrames = 0;
    scheduler.flush();
    expect(summary(seen)).toEqual(['host.scanned']);
    scheduler.maxFrames = 1600;
    scheduler.flush();
    expect(seen).toHaveLength(1);
    unbindDriver(tree.sysfsRoot, '0000:01:00.1');
    scheduler.maxFrames = 2100;
    scheduler.flush();
    expect(summary(seen)).toEqual(['host.scanned', 'changed 0000:01:00.1 driver,owner,interrupts']);
    sub.unsubscribe();
  });

  it('feeds the reducer: state follows the tree', () => {
    let state = initialState;
    state = reduce(state, watcher.scan());
    expect(state.devices['0000:01:00.1']?.driver).toBe('igb');
    removeFunction(tree.sysfsRoot, '0000:01:00.1');
    for (const e of watcher.poll()) state = reduce(state, e);
    expect(state.devices['0000:01:00.1']).toBeUndefined();
    expect(Object.keys(state.devices).sort()).toEqual(['0000:00:00.0', '0000:00:10.0', '0000:01:00.0']);
  });
});
