import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/core/clock.js';
import { scanHost } from '../../src/host/inventory.js';
import { KernelError, SimulatedKernel, openKernel, type KernelPort } from '../../src/kernel/index.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';

const run = promisify(execFile);

const IGB = '0000:01:00.0';
const E1000E = '0000:02:00.0';
const NVME = '0000:03:00.0';
const E1000_A = '0000:05:01.0';
const E1000_B = '0000:05:02.0';

/** What `lspci -D -k` says is the driver in use, read from the tree the way lspci reads /sys. */
async function lspciDriver(sysfsRoot: string, bdf: string): Promise<string | null> {
  const { stdout } = await run('lspci', ['-D', '-k', '-s', bdf, '-O', `sysfs.path=${sysfsRoot}/bus/pci`]);
  if (!stdout.startsWith(bdf)) throw new Error(`lspci does not list ${bdf}: ${stdout}`);
  return /Kernel driver in use: (\S+)/.exec(stdout)?.[1] ?? null;
}

async function lspciNn(sysfsRoot: string, bdf: string): Promise<string> {
  const { stdout } = await run('lspci', ['-D', '-nn', '-s', bdf, '-O', `sysfs.path=${sysfsRoot}/bus/pci`]);
  return stdout.trim();
}

const devDir = (root: string, bdf: string) => realpathSync(join(root, 'bus/pci/devices', bdf));
const attr = (root: string, bdf: string, name: string) => readFileSync(join(root, 'bus/pci/devices', bdf, name), 'utf8');
const classNetInto = (root: string, bdf: string) =>
  readdirSync(join(root, 'class/net')).filter((n) => readlinkSync(join(root, 'class/net', n)).includes(`/${bdf}/`));

async function rejection(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error('expected a KernelError, but the operation succeeded');
}

describe('simulated kernel on the boot snapshot', () => {
  let snap: LabSnapshot;
  let root: string;
  let sim: SimulatedKernel;
  let port: KernelPort;

  beforeEach(async () => {
    snap = await extractLabSnapshot('boot');
    root = snap.sysfsRoot;
    sim = SimulatedKernel.open(root);
    port = sim.port;
  });
  afterEach(() => snap.remove());

  it('moves e1000e 02:00.0 to vfio-pci and back to e1000e, and lspci sees each step', async () => {
    expect(await lspciDriver(root, E1000E)).toBe('e1000e');
    const nics = classNetInto(root, E1000E);
    expect(nics).toEqual(['eth3']);

    expect(await port.unbind(E1000E)).toEqual({ from: 'e1000e' });
    await port.setDriverOverride(E1000E, 'vfio-pci');
    await port.driversProbe(E1000E);
    await port.waitForDriver(E1000E, 'vfio-pci', { timeoutMs: 100 });

    const dir = devDir(root, E1000E);
    expect(readlinkSync(join(dir, 'driver'))).toBe('../../../../bus/pci/drivers/vfio-pci');
    expect(realpathSync(join(root, 'bus/pci/drivers/vfio-pci', E1000E))).toBe(dir);
    expect(existsSync(join(root, 'bus/pci/drivers/e1000e', E1000E))).toBe(false);
    expect(attr(root, E1000E, 'driver_override')).toBe('vfio-pci\n');
    expect(await port.driverOverride(E1000E)).toBe('vfio-pci');
    expect(existsSync(join(dir, 'msi_irqs'))).toBe(false);
    expect(classNetInto(root, E1000E)).toEqual([]);
    expect(attr(root, E1000E, 'uevent').split('\n')[0]).toBe('DRIVER=vfio-pci');
    expect(await lspciDriver(root, E1000E)).toBe('vfio-pci');

    await port.clearDriverOverride(E1000E);
    expect(await port.unbind(E1000E)).toEqual({ from: 'vfio-pci' });
    await port.driversProbe(E1000E);
    await port.waitForDriver(E1000E, 'e1000e', { timeoutMs: 100 });

    expect(attr(root, E1000E, 'driver_override')).toBe('(null)\n');
    expect(await port.driverOverride(E1000E)).toBeNull();
    expect(readdirSync(join(dir, 'msi_irqs')).sort()).toEqual(['41', '42', '43']);
    expect(classNetInto(root, E1000E)).toEqual(nics);
    expect(existsSync(join(root, 'bus/pci/drivers/vfio-pci', E1000E))).toBe(false);
    expect(await lspciDriver(root, E1000E)).toBe('e1000e');
  });

  it('the host reader sees what the simulator did: vfio-pci owner, override, VFs with groups and a physfn', async () => {
    await port.unbind(E1000E);
    await port.setDriverOverride(E1000E, 'vfio-pci');
    await port.driversProbe(E1000E);
    await port.setNumVfs(IGB, 2);
    const inv = scanHost({ sysfsRoot: root, procRoot: snap.procRoot });
    const nic = inv.byBdf.get(E1000E);
    expect(nic).toMatchObject({ driver: 'vfio-pci', driverOverride: 'vfio-pci', owner: { kind: 'vfio' }, iommuGroup: 9 });
    expect(inv.byBdf.get(IGB)).toMatchObject({ sriov: { numVFs: 2 }, virtfns: ['0000:01:10.0', '0000:01:10.2'] });
    expect(inv.byBdf.get('0000:01:10.2')).toMatchObject({ driver: 'igbvf', physfn: IGB, iommuGroup: 13, vendorId: '0x8086', deviceId: '0x10ca' });
    expect(inv.groups.get(12)).toEqual(['0000:01:10.0']);
  });

  it('an unbound device with no override goes home to its own driver at drivers_probe', async () => {
    await port.unbind(NVME);
    expect(await port.currentDriver(NVME)).toBeNull();
    expect(await lspciDriver(root, NVME)).toBeNull();
    await port.driversProbe(NVME);
    expect(await port.currentDriver(NVME)).toBe('nvme');
  });

  it('unbinding an unbound device writes nothing and says it was unbound', async () => {
    expect(await port.currentDriver('0000:04:00.0')).toBeNull();
    expect(await port.unbind('0000:04:00.0')).toEqual({ from: null });
  });

  it('a driver_override naming another real driver leaves the device unbound, as that probe refuses it', async () => {
    await port.unbind(E1000E);
    await port.setDriverOverride(E1000E, 'nvme');
    await port.driversProbe(E1000E);
    expect(await port.currentDriver(E1000E)).toBeNull();
    expect(sim.state().probeFailures.at(-1)).toMatchObject({ bdf: E1000E, driver: 'nvme', errno: 'ENODEV' });
  });

  it('vfio-pci refuses a function without an IOMMU group: a clear sentence, and the device stays unbound', async () => {
    rmSync(join(devDir(root, E1000E), 'iommu_group'));
    rmSync(join(root, 'kernel/iommu_groups/9'), { recursive: true });
    await port.unbind(E1000E);
    await port.setDriverOverride(E1000E, 'vfio-pci');
    await port.driversProbe(E1000E); // the kernel reports success and only logs the refusal
    const err = await rejection(port.waitForDriver(E1000E, 'vfio-pci', { timeoutMs: 1000 }));
    expect(err.code).toBe('EINVAL');
    expect(err.bdf).toBe(E1000E);
    expect(err.message).toBe(
      `binding ${E1000E} to vfio-pci failed: the kernel refused (EINVAL: vfio-pci needs an IOMMU group and this function has none; it stays unbound) (${join(root, 'bus/pci/devices', E1000E, 'iommu_group')})`,
    );
    expect(await port.currentDriver(E1000E)).toBeNull();
    expect(await lspciDriver(root, E1000E)).toBeNull();
  });

  it('vfio-pci refuses a bridge', async () => {
    const bridge = '0000:04:00.0';
    await port.setDriverOverride(bridge, 'vfio-pci');
    await port.driversProbe(bridge);
    expect(await port.currentDriver(bridge)).toBeNull();
    expect(sim.state().probeFailures.at(-1)).toMatchObject({ bdf: bridge, driver: 'vfio-pci', errno: 'EINVAL' });
  });

  describe('reset', () => {
    it('pm and bus resets of e1000e (pm bus) run, and reset_method reads as before', async () => {
      expect(await port.resetMethods(E1000E)).toEqual(['pm', 'bus']);
      expect(await port.reset(E1000E, 'pm')).toEqual({ method: 'pm', methodsBefore: ['pm', 'bus'], restored: 'exact' });
      expect(await port.reset(E1000E, 'bus')).toMatchObject({ method: 'bus', restored: 'exact' });
      expect(attr(root, E1000E, 'reset_method')).toBe('pm bus\n');
      expect(sim.state().resets.map((r) => `${r.bdf} ${r.method}`)).toEqual([`${E1000E} pm`, `${E1000E} bus`]);
    });

    it('flr on nvme (flr bus) and igb (flr pm bus) runs; without a method the kernel takes the first that works', async () => {
      await port.reset(NVME, 'flr');
      await port.reset(IGB, 'flr');
      expect(await port.reset(E1000E)).toEqual({ method: null, methodsBefore: ['pm', 'bus'], restored: 'unchanged' });
      expect(sim.state().resets.map((r) => r.method)).toEqual(['flr', 'flr', 'pm']);
      expect(attr(root, IGB, 'reset_method')).toBe('flr pm bus\n');
      expect(attr(root, NVME, 'reset_method')).toBe('flr bus\n');
    });

    it('flr on e1000e, which has no FLR, is refused when the method is selected, and nothing is reset', async () => {
      const err = await rejection(port.reset(E1000E, 'flr'));
      expect(err.code).toBe('EINVAL');
      expect(err.message).toContain(`flr reset of ${E1000E} failed: the kernel refused (EINVAL:`);
      expect(err.path).toBe(join(root, 'bus/pci/devices', E1000E, 'reset_method'));
      expect(attr(root, E1000E, 'reset_method')).toBe('pm bus\n');
      expect(sim.state().resets).toEqual([]);
    });

    it('a bus reset of 05:01.0 while 05:02.0 shares its bus bound to e1000 fails with ENOTTY', async () => {
      expect(await port.currentDriver(E1000_B)).toBe('e1000');
      const err = await rejection(port.reset(E1000_A, 'bus'));
      expect(err).toMatchObject({ op: 'reset', bdf: E1000_A, code: 'ENOTTY', path: join(root, 'bus/pci/devices', E1000_A, 'reset') });
      expect(err.message).toBe(
        `bus reset of ${E1000_A} failed: the kernel refused (ENOTTY: no reset method works for this function now, e.g. a bus reset with a sibling still on the bus); wrote "1" to ${join(root, 'bus/pci/devices', E1000_A, 'reset')}`,
      );
      expect(attr(root, E1000_A, 'reset_method')).toBe('bus\n');
    });

    it('05:02.0, which has no reset file, cannot be reset, and says so', async () => {
      expect(await port.resetMethods(E1000_B)).toBeNull();
      const err = await rejection(port.reset(E1000_B));
      expect(err.code).toBe('ENOENT');
      expect(err.message).toContain(`reset of ${E1000_B} failed: the function has no reset file, so the kernel knows no way to reset it`);
    });

    it('a failed reset still puts reset_method back', async () => {
      sim.failNext({ op: 'reset', file: 'reset', errno: 'EIO' });
      const err = await rejection(port.reset(IGB, 'pm'));
      expect(err.code).toBe('EIO');
      expect(attr(root, IGB, 'reset_method')).toBe('flr pm bus\n');
    });

    it('once VFs share the PF bus, the old list (with bus) no longer passes, and the kernel default is restored', async () => {
      await port.setNumVfs(IGB, 2);
      expect(await port.reset(IGB, 'pm')).toMatchObject({ method: 'pm', restored: 'default' });
      expect(attr(root, IGB, 'reset_method')).toBe('flr pm\n');
    });
  });

  describe('SR-IOV on the igb PF 01:00.0', () => {
    it('0 -> 2 makes two VFs at offset 128 stride 2, each in a new IOMMU group, with physfn and virtfn links', async () => {
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
      await port.setNumVfs(IGB, 2);
      expect(await port.sriov(IGB)).toEqual({ numVfs: 2, totalVfs: 7 });
      const pfDir = devDir(root, IGB);
      const vfs = ['0000:01:10.0', '0000:01:10.2'];
      expect(readlinkSync(join(pfDir, 'virtfn0'))).toBe('../0000:01:10.0');
      expect(readlinkSync(join(pfDir, 'virtfn1'))).toBe('../0000:01:10.2');
      for (const [i, vf] of vfs.entries()) {
        const dir = devDir(root, vf);
        expect(dir).toBe(join(pfDir, '..', vf));
        expect(readlinkSync(join(dir, 'physfn'))).toBe(`../${IGB}`);
        expect(await port.iommuGroup(vf)).toBe(String(12 + i));
        expect(realpathSync(join(root, 'kernel/iommu_groups', String(12 + i), 'devices', vf))).toBe(dir);
        expect(attr(root, vf, 'device')).toBe('0x10ca\n');
        expect(await port.resetMethods(vf)).toEqual(['flr']);
        expect(await port.currentDriver(vf)).toBe('igbvf');
      }
      const assigned = await extractLabSnapshot('assigned');
      try {
        for (const vf of vfs) {
          // The same line lspci printed for the real kernel's VFs.
          expect(await lspciNn(root, vf)).toBe(await lspciNn(assigned.sysfsRoot, vf));
        }
        expect(attr(root, '0000:01:10.0', 'resource')).toBe(attr(assigned.sysfsRoot, '0000:01:10.0', 'resource'));
      } finally {
        assigned.remove();
      }
      expect(await lspciDriver(root, '0000:01:10.2')).toBe('igbvf');
    });

    it('2 -> 3 is refused with EBUSY and a sentence that says the count must go through 0', async () => {
      await port.setNumVfs(IGB, 2);
      const err = await rejection(port.setNumVfs(IGB, 3));
      expect(err.code).toBe('EBUSY');
      expect(err.message).toBe(
        `sriov_numvfs=3 of ${IGB} failed: the kernel refused (EBUSY: VFs are already enabled, and the count must go through 0 first (write 0, then the new count; that removes every VF)); wrote "3" to ${join(root, 'bus/pci/devices', IGB, 'sriov_numvfs')}`,
      );
      expect(await port.sriov(IGB)).toEqual({ numVfs: 2, totalVfs: 7 });
      await port.setNumVfs(IGB, 3, { throughZero: true });
      expect(readdirSync(devDir(root, IGB)).filter((n) => n.startsWith('virtfn')).sort()).toEqual(['virtfn0', 'virtfn1', 'virtfn2']);
      expect(await port.exists('0000:01:10.4')).toBe(true);
    });

    it('back to 0 removes the VFs, their groups and links, even one bound to vfio-pci', async () => {
      await port.setNumVfs(IGB, 2);
      const vf = '0000:01:10.0';
      await port.unbind(vf);
      await port.setDriverOverride(vf, 'vfio-pci');
      await port.driversProbe(vf);
      expect(await port.currentDriver(vf)).toBe('vfio-pci');
      await port.setNumVfs(IGB, 0);
      expect(await port.exists(vf)).toBe(false);
      expect(await port.exists('0000:01:10.2')).toBe(false);
      expect(existsSync(join(root, 'kernel/iommu_groups/12'))).toBe(false);
      expect(existsSync(join(root, 'kernel/iommu_groups/13'))).toBe(false);
      expect(readdirSync(devDir(root, IGB)).filter((n) => n.startsWith('virtfn'))).toEqual([]);
      expect(readdirSync(join(root, 'bus/pci/drivers/vfio-pci')).filter((n) => n.startsWith('0000:'))).toEqual([]);
      expect(readdirSync(join(root, 'bus/pci/drivers/igbvf')).filter((n) => n.startsWith('0000:'))).toEqual([]);
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
    });

    it('more VFs than sriov_totalvfs are refused', async () => {
      const err = await rejection(port.setNumVfs(IGB, 8));
      expect(err.code).toBe('ERANGE');
      expect(err.message).toContain('more VFs than the device supports');
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
    });

    it('a function without SR-IOV says it is not a PF', async () => {
      const err = await rejection(port.setNumVfs(E1000E, 1));
      expect(err.code).toBe('ENOENT');
      expect(err.message).toContain('is not an SR-IOV physical function');
    });

    it('unbinding the PF driver takes its VFs away, as igb does on remove, and the hardware\'s 8 VFs show', async () => {
      await port.setNumVfs(IGB, 2);
      await port.unbind(IGB);
      expect(await port.exists('0000:01:10.0')).toBe(false);
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 8 });
      const err = await rejection(port.setNumVfs(IGB, 1));
      expect(err.message).toContain('the PF has no driver bound');
      await port.driversProbe(IGB);
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
    });
  });

  describe('fault injection', () => {
    const ops: [string, (p: KernelPort) => Promise<unknown>, string][] = [
      ['unbind', (p) => p.unbind(E1000E), 'unbind'],
      ['setDriverOverride', (p) => p.setDriverOverride(E1000E, 'vfio-pci'), 'driver_override=vfio-pci'],
      ['clearDriverOverride', (p) => p.clearDriverOverride(E1000E), 'clearing driver_override'],
      ['driversProbe', (p) => p.driversProbe(E1000E), 'drivers_probe'],
      ['reset', (p) => p.reset(E1000E, 'bus'), 'bus reset'],
      ['setNumVfs', (p) => p.setNumVfs(IGB, 2), 'sriov_numvfs=2'],
    ];

    it.each(ops)('%s can be made to fail with a chosen errno; the sentence names it, the device and the errno', async (op, call, label) => {
      const bdf = op === 'setNumVfs' ? IGB : E1000E;
      sim.failNext({ op: op as KernelError['op'], bdf, errno: 'EIO' });
      const err = await rejection(call(port));
      expect(err).toMatchObject({ op, bdf, code: 'EIO' });
      expect(err.message.startsWith(`${label} of ${bdf} failed: the kernel refused (EIO: `)).toBe(true);
      expect(await port.currentDriver(E1000E)).toBe('e1000e');
      expect(await port.sriov(IGB)).toEqual({ numVfs: 0, totalVfs: 7 });
      expect(sim.state().resets).toEqual([]);
      await call(port); // the fault was for one write only
    });

    it('a hook can fail any write it picks, e.g. every probe', async () => {
      sim.setFaultHook((w) => (w.op === 'driversProbe' ? 'EBUSY' : undefined));
      await port.unbind(E1000E);
      const err = await rejection(port.driversProbe(E1000E));
      expect(err.message).toContain(`drivers_probe of ${E1000E} failed: the kernel refused (EBUSY:`);
      expect(await port.currentDriver(E1000E)).toBeNull();
      sim.setFaultHook(undefined);
      await port.driversProbe(E1000E);
      expect(await port.currentDriver(E1000E)).toBe('e1000e');
    });
  });

  it('a bind slower than the wait times out with a clear error, and completes later', async () => {
    const clock = manualClock(1_000_000);
    const sleep = (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    };
    const slow = SimulatedKernel.open(root, { clock, sleep });
    slow.setBindDelay(5000, 'vfio-pci');
    const p = slow.port;
    await p.unbind(E1000E);
    await p.setDriverOverride(E1000E, 'vfio-pci');
    await p.driversProbe(E1000E);
    const err = await rejection(p.waitForDriver(E1000E, 'vfio-pci', { timeoutMs: 1000, pollMs: 100 }));
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.op).toBe('waitForDriver');
    expect(err.message).toContain(`binding ${E1000E} to vfio-pci timed out after 1000 ms: the driver link is still absent (driver_override: vfio-pci)`);
    expect(clock.now()).toBe(1_001_000);
    await p.waitForDriver(E1000E, 'vfio-pci', { timeoutMs: 10_000, pollMs: 100 });
    expect(clock.now()).toBe(1_005_000);
    expect(await lspciDriver(root, E1000E)).toBe('vfio-pci');
  });

  it('waiting for one driver while another holds the device fails at once', async () => {
    const err = await rejection(port.waitForDriver(E1000E, 'vfio-pci', { timeoutMs: 60_000 }));
    expect(err.code).toBe('EBUSY');
    expect(err.message).toContain(`binding ${E1000E} to vfio-pci failed: it is bound to e1000e instead`);
  });
});

describe('simulated kernel state across commands', () => {
  let snap: LabSnapshot;
  beforeEach(async () => {
    snap = await extractLabSnapshot('boot');
  });
  afterEach(() => snap.remove());

  it('a second port on the same tree sees the first one’s binds, home drivers, faults and slow binds', async () => {
    const clock = manualClock(5000);
    const first = openKernel({ kind: 'sim', sysfsRoot: snap.sysfsRoot, clock });
    await first.unbind(E1000E);
    await first.setDriverOverride(E1000E, 'vfio-pci');
    await first.driversProbe(E1000E);

    // A new command: it must know e1000e is this device's home, although the tree now shows vfio-pci.
    const second = openKernel({ kind: 'sim', sysfsRoot: snap.sysfsRoot, clock });
    expect(await second.currentDriver(E1000E)).toBe('vfio-pci');
    await second.clearDriverOverride(E1000E);
    await second.unbind(E1000E);
    await second.driversProbe(E1000E);
    expect(await second.currentDriver(E1000E)).toBe('e1000e');

    const control = SimulatedKernel.open(snap.sysfsRoot, { clock });
    control.failNext({ op: 'unbind', errno: 'EBUSY' });
    control.setBindDelay(300);
    const third = openKernel({ kind: 'sim', sysfsRoot: snap.sysfsRoot, clock });
    expect((await rejection(third.unbind(NVME))).code).toBe('EBUSY');
    await third.unbind(NVME);
    await third.driversProbe(NVME);
    const fourth = openKernel({ kind: 'sim', sysfsRoot: snap.sysfsRoot, clock });
    expect(await fourth.currentDriver(NVME)).toBeNull();
    clock.advance(300);
    expect(await fourth.currentDriver(NVME)).toBe('nvme');
  });

  it('the simulator refuses to run on the real /sys', () => {
    expect(() => SimulatedKernel.open('/sys')).toThrow(/refusing \/sys: it is the real sysfs/);
  });

  it('the simulator refuses a directory that is not a sysfs tree', () => {
    expect(() => SimulatedKernel.open(snap.procRoot)).toThrow(/is not a sysfs tree/);
  });
});

describe('simulated kernel on the assigned snapshot', () => {
  let snap: LabSnapshot;
  let root: string;
  let port: KernelPort;
  beforeEach(async () => {
    snap = await extractLabSnapshot('assigned');
    root = snap.sysfsRoot;
    port = SimulatedKernel.open(root).port;
  });
  afterEach(() => snap.remove());

  it('returns devices found on vfio-pci to their own drivers: e1000e, e1000 (its sibling’s), igbvf', async () => {
    for (const [bdf, home] of [
      [E1000E, 'e1000e'],
      [E1000_A, 'e1000'],
      ['0000:01:10.0', 'igbvf'],
    ]) {
      expect(await port.currentDriver(bdf)).toBe('vfio-pci');
      expect(await port.driverOverride(bdf)).toBe('vfio-pci');
      await port.clearDriverOverride(bdf);
      await port.unbind(bdf);
      await port.driversProbe(bdf);
      await port.waitForDriver(bdf, home, { timeoutMs: 100 });
      expect(await lspciDriver(root, bdf)).toBe(home);
    }
  });

  it('setting the VF count to 0 removes both VFs with the netdev of the igbvf one; 2 again reuses groups 12 and 13', async () => {
    expect(classNetInto(root, '0000:01:10.2')).toEqual(['eth4']);
    await port.setNumVfs(IGB, 0);
    expect(await port.exists('0000:01:10.0')).toBe(false);
    expect(await port.exists('0000:01:10.2')).toBe(false);
    expect(existsSync(join(root, 'class/net/eth4'))).toBe(false);
    await port.setNumVfs(IGB, 2);
    expect(await port.iommuGroup('0000:01:10.0')).toBe('12');
    expect(await port.iommuGroup('0000:01:10.2')).toBe('13');
  });
});
