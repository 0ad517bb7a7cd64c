import { mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import { extractLabSnapshot, treeListing, type LabSnapshot } from '../support/lab-snapshot.js';
import { hotslot } from '../support/hotslot-cli.js';

/**
 * Attach, detach, move and return through the real CLI, against the simulated kernel on a real
 * kernel's sysfs snapshot and simulated guests that speak QMP on real unix sockets.
 */
let lab: LabSnapshot;
let vm1: SimulatedGuest;
let vm2: SimulatedGuest;
let base: string[];

const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));
  } catch {
    return null;
  }
};
/** The tree as the kernel would show it; the simulator's own bookkeeping folder aside. */
const listing = () => treeListing(lab.sysfsRoot).filter((l) => !l.startsWith('.hotslot-sim'));
const overrideOf = (bdf: string) => readFileSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver_override'), 'utf8').trim();

async function startGuests(opts: { vm2NeverReleases?: boolean } = {}) {
  vm1 = new SimulatedGuest({ name: 'vm1', socketPath: join(lab.dir, 'vm1.qmp'), sysfsRoot: lab.sysfsRoot, rootPorts: 2, unplugDelayMs: 50 });
  vm2 = new SimulatedGuest({
    name: 'vm2',
    socketPath: join(lab.dir, 'vm2.qmp'),
    sysfsRoot: lab.sysfsRoot,
    rootPorts: 2,
    unplugDelayMs: 50,
    neverReleases: opts.vm2NeverReleases ?? false,
  });
  await vm1.start();
  await vm2.start();
}

beforeEach(async () => {
  lab = await extractLabSnapshot('boot');
  base = [
    '--sysfs-root', lab.sysfsRoot, '--proc-root', lab.procRoot, '--kernel', 'sim', '--state-dir', join(lab.dir, 'state'),
    '--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`, '--guest', `vm2=${join(lab.dir, 'vm2.qmp')}`,
  ];
});

afterEach(async () => {
  await vm1?.stop();
  await vm2?.stop();
  lab.remove();
});

describe('hotplug through the CLI on the simulated kernel', () => {
  it('attach unbinds e1000e, resets it, binds vfio-pci and plugs it into the guest; detach brings it home with driver_override cleared', async () => {
    await startGuests();
    const a = await hotslot([...base, 'attach', '0000:02:00.0', 'vm1', '--yes', '--json']);
    expect(a.status, a.stderr).toBe(0);
    const ar = JSON.parse(a.stdout) as { outcome: string; steps: { step: string; status: string }[]; resetMethod: Record<string, string>; finalOwner: Record<string, { kind: string; guest?: string }> };
    expect(ar.outcome).toBe('done');
    expect(ar.steps.map((s) => s.step)).toEqual(['unbind', 'reset', 'bind vfio-pci', 'device_add', 'confirm in guest']);
    expect(ar.resetMethod['0000:02:00.0']).toBe('pm');
    expect(ar.finalOwner['0000:02:00.0']).toMatchObject({ kind: 'guest', guest: 'vm1' });
    expect(driverOf('0000:02:00.0')).toBe('vfio-pci');
    expect(vm1.held()).toEqual(['0000:02:00.0']);

    const d = await hotslot([...base, 'detach', '0000:02:00.0', '--yes']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/back on the host/);
    expect(vm1.held()).toEqual([]);
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
    expect(overrideOf('0000:02:00.0')).toBe('(null)');
  });

  it('move takes the device out of one guest and into another, with a reset between', async () => {
    await startGuests();
    expect((await hotslot([...base, 'attach', '0000:02:00.0', 'vm1', '--yes'])).status).toBe(0);
    const m = await hotslot([...base, 'move', '0000:02:00.0', 'vm2', '--yes', '--json']);
    expect(m.status, m.stderr).toBe(0);
    const steps = (JSON.parse(m.stdout) as { steps: { step: string }[] }).steps.map((s) => s.step);
    expect(steps).toEqual(['device_del', 'reset', 'device_add', 'confirm in guest']);
    expect(vm1.held()).toEqual([]);
    expect(vm2.held()).toEqual(['0000:02:00.0']);
    const g = await hotslot([...base, 'guests', '--json']);
    const guests = JSON.parse(g.stdout) as { name: string; devices: { hostBdf: string | null }[]; freeSlots: string[] }[];
    expect(guests.find((x) => x.name === 'vm2')!.devices.some((x) => x.hostBdf === '0000:02:00.0')).toBe(true);
    expect(guests.find((x) => x.name === 'vm2')!.freeSlots).toHaveLength(1);
  });

  it('--dry-run prints the exact sysfs writes and QMP messages in order and changes nothing', async () => {
    await startGuests();
    const before = listing();
    const r = await hotslot([...base, 'attach', '0000:02:00.0', 'vm1', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    const unbind = lines.findIndex((l) => l === `echo "0000:02:00.0" > ${lab.sysfsRoot}/bus/pci/devices/0000:02:00.0/driver/unbind`);
    const override = lines.findIndex((l) => l === `echo "vfio-pci" > ${lab.sysfsRoot}/bus/pci/devices/0000:02:00.0/driver_override`);
    const add = lines.findIndex((l) => l.startsWith('qmp vm1: {"execute":"device_add"') && l.includes('"host":"0000:02:00.0"'));
    expect(unbind).toBeGreaterThan(0);
    expect(override).toBeGreaterThan(unbind);
    expect(add).toBeGreaterThan(override);
    expect(listing()).toEqual(before);
    expect(vm1.held()).toEqual([]);
  });

  it('a refused attach names the reason code, exits 3 and changes nothing', async () => {
    await startGuests();
    const before = listing();
    const r = await hotslot([...base, 'attach', '0000:05:01.0', 'vm1', '--yes', '--json']);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout) as { outcome: string; reasons: { code: string; message: string }[] };
    expect(out.outcome).toBe('refused');
    expect(out.reasons.map((x) => x.code)).toContain('group-not-viable');
    expect(out.reasons.find((x) => x.code === 'group-not-viable')!.message).toMatch(/0000:05:02\.0 \(e1000\)/);
    expect(listing()).toEqual(before);
  });

  it('a protected device (the default-route NIC) is refused', async () => {
    await startGuests();
    const r = await hotslot([...base, 'attach', '0000:01:00.0', 'vm1', '--yes']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/protected.*default route/);
    expect(driverOf('0000:01:00.0')).toBe('igb');
  });

  it('the whole IOMMU group goes together with --group, and comes back together on detach', async () => {
    await startGuests();
    const a = await hotslot([...base, 'attach', '0000:05:01.0', 'vm1', '--group', '--yes']);
    expect(a.status, a.stderr + a.stdout).toBe(0);
    expect(vm1.held().sort()).toEqual(['0000:05:01.0', '0000:05:02.0']);
    const d = await hotslot([...base, 'detach', '0000:05:02.0', '--yes']);
    expect(d.status, d.stderr).toBe(0);
    expect(vm1.held()).toEqual([]);
    expect([driverOf('0000:05:01.0'), driverOf('0000:05:02.0')]).toEqual(['e1000', 'e1000']);
  });

  it('bad input changes nothing and exits 2 with one line: malformed BDF, unknown device, unknown guest', async () => {
    await startGuests();
    const before = listing();
    for (const args of [
      ['attach', '0000:02:00', 'vm1'],
      ['attach', '0000:99:00.0', 'vm1'],
      ['attach', '0000:02:00.0', 'vm9'],
      ['detach', '0000:02:00.0'],
    ]) {
      const r = await hotslot([...base, ...args, '--yes']);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(listing()).toEqual(before);
  });

  it('a guest that never lets go leaves the device stuck with it (exit 4) and says what to do', async () => {
    await startGuests({ vm2NeverReleases: true });
    expect((await hotslot([...base, 'attach', '0000:02:00.0', 'vm2', '--yes'])).status).toBe(0);
    const r = await hotslot([...base, 'detach', '0000:02:00.0', '--yes', '--unplug-timeout', '1.5']);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/did not release 0000:02:00\.0/);
    expect(r.stderr).toMatch(/hotplug/);
    expect(vm2.held()).toEqual(['0000:02:00.0']);
    expect(driverOf('0000:02:00.0')).toBe('vfio-pci');
  });

  it('after a stuck detach and that guest gone, detach brings the device home and leaves nothing open', async () => {
    await startGuests({ vm2NeverReleases: true });
    expect((await hotslot([...base, 'attach', '0000:02:00.0', 'vm2', '--yes'])).status).toBe(0);
    expect((await hotslot([...base, 'detach', '0000:02:00.0', '--yes', '--unplug-timeout', '1.5'])).status).toBe(4);
    await vm2.stop();
    const r = await hotslot([...base, 'detach', '0000:02:00.0', '--yes', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
    expect(overrideOf('0000:02:00.0')).toBe('(null)');
    const rec = await hotslot([...base, 'recover', '--json']);
    expect(rec.status).toBe(0);
    expect((JSON.parse(rec.stdout) as { operations: unknown[] }).operations).toEqual([]);
  });

  it('while another process holds the VFIO group open, the device is not taken off vfio-pci (exit 3, vfio-in-use)', async () => {
    await startGuests({ vm2NeverReleases: true });
    expect((await hotslot([...base, 'attach', '0000:02:00.0', 'vm2', '--yes'])).status).toBe(0);
    expect((await hotslot([...base, 'detach', '0000:02:00.0', '--yes', '--unplug-timeout', '1.5'])).status).toBe(4);
    // A QEMU hotslot is not told about: it has the group's VFIO file open.
    const group = basename(readlinkSync(join(lab.sysfsRoot, 'bus/pci/devices/0000:02:00.0/iommu_group')));
    mkdirSync(join(lab.procRoot, '4242/fd'), { recursive: true });
    writeFileSync(join(lab.procRoot, '4242/comm'), 'qemu-system-x86\n');
    symlinkSync(`/dev/vfio/${group}`, join(lab.procRoot, '4242/fd/17'));
    await vm2.stop();
    const before = listing();
    for (const args of [['detach', '0000:02:00.0', '--yes'], ['return', '0000:02:00.0', '--yes']]) {
      const r = await hotslot([...base, ...args]);
      expect(r.status, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/vfio-in-use/);
      expect(r.stderr).toMatch(/qemu-system-x86 \(pid 4242\)/);
    }
    const rec = await hotslot([...base, 'recover', '--json']);
    expect(rec.status).not.toBe(0);
    expect(rec.stdout).toMatch(/pid 4242/);
    expect(listing()).toEqual(before);
    expect(driverOf('0000:02:00.0')).toBe('vfio-pci');
  });

  it('the journal is private (0600) and records the original driver before anything is touched', async () => {
    await startGuests();
    expect((await hotslot([...base, 'attach', '0000:02:00.0', 'vm1', '--yes'])).status).toBe(0);
    const path = join(lab.dir, 'state', 'journal.jsonl');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]) as { kind: string; devices: { bdf: string; driver: string }[] };
    expect(first.kind).toBe('intent');
    expect(first.devices).toEqual([{ bdf: '0000:02:00.0', driver: 'e1000e', driverOverride: null }]);
  });
});
