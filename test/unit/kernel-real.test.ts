/**
 * The real port and the dry-run port, on an extracted snapshot used as a plain directory: there a
 * write just writes the file, which shows which files the real kernel would receive, with which
 * values, in which order. Never on /sys.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BdfError } from '../../src/pci/bdf.js';
import { KernelError, KernelInputError, openKernel, openRealKernel, type SysfsWrite } from '../../src/kernel/index.js';
import { extractLabSnapshot, treeListing, type LabSnapshot } from '../support/lab-snapshot.js';

const IGB = '0000:01:00.0';
const E1000E = '0000:02:00.0';
const E1000_B = '0000:05:02.0';
const BRIDGE = '0000:04:00.0';

let snap: LabSnapshot;
let root: string;
beforeEach(async () => {
  snap = await extractLabSnapshot('boot');
  root = snap.sysfsRoot;
});
afterEach(() => snap.remove());

const dev = (bdf: string, file: string) => join(root, 'bus/pci/devices', bdf, file);
const read = (path: string) => readFileSync(path, 'utf8');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the operation succeeded');
}

describe('real port (on a plain directory)', () => {
  it('writes exactly the kernel files, with the exact values, in order', async () => {
    const log: SysfsWrite[] = [];
    const port = openRealKernel(root, { onWrite: (w) => log.push(w) });

    expect(await port.unbind(E1000E)).toEqual({ from: 'e1000e' });
    await port.setDriverOverride(E1000E, 'vfio-pci');
    await port.driversProbe(E1000E);
    await port.reset(E1000E, 'pm');
    await port.setNumVfs(IGB, 2);
    await port.setNumVfs(IGB, 3, { throughZero: true });
    await port.clearDriverOverride(E1000E);

    expect(log.map((w) => [w.op, w.path.slice(root.length), w.value])).toEqual([
      ['unbind', `/bus/pci/devices/${E1000E}/driver/unbind`, E1000E],
      ['setDriverOverride', `/bus/pci/devices/${E1000E}/driver_override`, 'vfio-pci'],
      ['driversProbe', '/bus/pci/drivers_probe', E1000E],
      ['reset', `/bus/pci/devices/${E1000E}/reset_method`, 'pm'],
      ['reset', `/bus/pci/devices/${E1000E}/reset`, '1'],
      ['reset', `/bus/pci/devices/${E1000E}/reset_method`, 'pm bus'],
      ['setNumVfs', `/bus/pci/devices/${IGB}/sriov_numvfs`, '2'],
      ['setNumVfs', `/bus/pci/devices/${IGB}/sriov_numvfs`, '0'],
      ['setNumVfs', `/bus/pci/devices/${IGB}/sriov_numvfs`, '3'],
      ['clearDriverOverride', `/bus/pci/devices/${E1000E}/driver_override`, '\n'],
    ]);
    expect(log.every((w) => w.bdf === (w.op === 'setNumVfs' ? IGB : E1000E))).toBe(true);
    // Through the driver link, the unbind landed in the driver's own file.
    expect(read(join(root, 'bus/pci/drivers/e1000e/unbind'))).toBe(E1000E);
    expect(read(join(root, 'bus/pci/drivers_probe'))).toBe(E1000E);
    expect(read(dev(E1000E, 'reset'))).toBe('1');
    expect(read(dev(E1000E, 'reset_method'))).toBe('pm bus');
    expect(read(dev(IGB, 'sriov_numvfs'))).toBe('3');
    expect(read(dev(E1000E, 'driver_override'))).toBe('\n');
  });

  it('a reset without a method, or with the only listed one, writes reset alone', async () => {
    const log: SysfsWrite[] = [];
    const port = openRealKernel(root, { onWrite: (w) => log.push(w) });
    expect(await port.reset(E1000E)).toEqual({ method: null, methodsBefore: ['pm', 'bus'], restored: 'unchanged' });
    expect(await port.reset('0000:05:01.0', 'bus')).toEqual({ method: 'bus', methodsBefore: ['bus'], restored: 'unchanged' });
    expect(log.map((w) => w.path.slice(root.length))).toEqual([`/bus/pci/devices/${E1000E}/reset`, '/bus/pci/devices/0000:05:01.0/reset']);
  });

  it('never creates a file the kernel does not have: no reset file means a clear error, and still no file', async () => {
    const port = openRealKernel(root);
    const err = await rejection(port.reset(E1000_B));
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ op: 'reset', bdf: E1000_B, code: 'ENOENT', path: dev(E1000_B, 'reset') });
    expect(existsSync(dev(E1000_B, 'reset'))).toBe(false);
    expect(existsSync(dev(E1000_B, 'reset_method'))).toBe(false);
  });

  it('unbinding a function without a driver writes nothing and creates no driver link', async () => {
    const log: SysfsWrite[] = [];
    const port = openRealKernel(root, { onWrite: (w) => log.push(w) });
    expect(await port.unbind(BRIDGE)).toEqual({ from: null });
    expect(log).toEqual([]);
    expect(existsSync(dev(BRIDGE, 'driver'))).toBe(false);
  });

  it('turns the errno of a refused write into a sentence with the operation, device, file and value', async () => {
    const port = openRealKernel(root);
    rmSync(dev(E1000E, 'driver_override'));
    mkdirSync(dev(E1000E, 'driver_override'));
    const err = await rejection(port.setDriverOverride(E1000E, 'vfio-pci'));
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).message).toBe(
      `driver_override=vfio-pci of ${E1000E} failed: the kernel refused (EISDIR: the path is a directory, not an attribute); wrote "vfio-pci" to ${dev(E1000E, 'driver_override')}`,
    );
    expect(err).toMatchObject({ op: 'setDriverOverride', code: 'EISDIR', value: 'vfio-pci' });
  });

  it('refuses a malformed address or driver name before any path is built', async () => {
    const log: SysfsWrite[] = [];
    const port = openRealKernel(root, { onWrite: (w) => log.push(w) });
    for (const bad of ['../../block', '0000:02:00.0/../x', '02:00.0', '0000:02:00.0\n']) {
      await expect(port.unbind(bad)).rejects.toBeInstanceOf(BdfError);
      await expect(port.driversProbe(bad)).rejects.toBeInstanceOf(BdfError);
    }
    for (const bad of ['../vfio-pci', 'vfio pci', '', 'a/b']) {
      await expect(port.setDriverOverride(E1000E, bad)).rejects.toBeInstanceOf(KernelInputError);
    }
    await expect(port.setNumVfs(IGB, -1)).rejects.toBeInstanceOf(KernelInputError);
    await expect(port.setNumVfs(IGB, 1.5)).rejects.toBeInstanceOf(KernelInputError);
    expect(log).toEqual([]);
    expect(read(dev(E1000E, 'driver_override'))).toBe('(null)\n');
  });

  it('upper-case input reaches the canonical lower-case path', async () => {
    const log: SysfsWrite[] = [];
    const port = openRealKernel(root, { onWrite: (w) => log.push(w) });
    await port.setDriverOverride('0000:02:00.0'.toUpperCase(), 'vfio-pci');
    expect(log[0].path).toBe(dev(E1000E, 'driver_override'));
  });

  it('a function that does not exist is ENODEV with nothing written', async () => {
    const port = openRealKernel(root);
    const err = await rejection(port.unbind('0000:09:00.0'));
    expect(err).toMatchObject({ code: 'ENODEV', bdf: '0000:09:00.0' });
    expect((err as Error).message).toContain('unbind of 0000:09:00.0 failed: no such PCI function');
  });

  it('reads the driver, the override ((null) is none), reset_method and SR-IOV counts', async () => {
    const port = openRealKernel(root);
    expect(await port.currentDriver(E1000E)).toBe('e1000e');
    expect(await port.driverOverride(E1000E)).toBeNull();
    expect(await port.resetMethods(IGB)).toEqual(['flr', 'pm', 'bus']);
    expect(await port.resetMethods(E1000_B)).toBeNull();
    expect(await port.iommuGroup('0000:05:01.0')).toBe('11');
    expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
    expect(await port.sriov(E1000E)).toBeNull();
  });
});

describe('dry-run port', () => {
  it('records every write in order and touches nothing', async () => {
    const before = treeListing(snap.dir);
    const port = openKernel({ kind: 'dry-run', sysfsRoot: root });
    await port.unbind(E1000E);
    await port.reset(E1000E, 'bus');
    await port.setDriverOverride(E1000E, 'vfio-pci');
    await port.driversProbe(E1000E);
    await port.waitForDriver(E1000E, 'vfio-pci');
    await port.setNumVfs(IGB, 2);
    await port.clearDriverOverride(E1000E);
    await port.unbind(BRIDGE); // unbound: the kernel would get nothing, so nothing is listed

    expect(port.describeWrites()).toEqual([
      { op: 'unbind', bdf: E1000E, path: dev(E1000E, 'driver/unbind'), value: E1000E },
      { op: 'reset', bdf: E1000E, path: dev(E1000E, 'reset_method'), value: 'bus' },
      { op: 'reset', bdf: E1000E, path: dev(E1000E, 'reset'), value: '1' },
      { op: 'reset', bdf: E1000E, path: dev(E1000E, 'reset_method'), value: 'pm bus' },
      { op: 'setDriverOverride', bdf: E1000E, path: dev(E1000E, 'driver_override'), value: 'vfio-pci' },
      { op: 'driversProbe', bdf: E1000E, path: join(root, 'bus/pci/drivers_probe'), value: E1000E },
      { op: 'setNumVfs', bdf: IGB, path: dev(IGB, 'sriov_numvfs'), value: '2' },
      { op: 'clearDriverOverride', bdf: E1000E, path: dev(E1000E, 'driver_override'), value: '\n' },
    ]);
    expect(treeListing(snap.dir)).toEqual(before);
  });

  it('a dry run of an impossible reset fails as the real one would, and still writes nothing', async () => {
    const before = treeListing(snap.dir);
    const port = openKernel({ kind: 'dry-run', sysfsRoot: root });
    await expect(port.reset(E1000_B)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(port.describeWrites()).toEqual([]);
    expect(treeListing(snap.dir)).toEqual(before);
  });
});
