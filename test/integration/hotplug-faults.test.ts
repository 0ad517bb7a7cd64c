import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import { Guest } from '../../src/guests/guest.js';
import { unixEndpoint } from '../../src/qmp/index.js';
import { Hotplug } from '../../src/hotplug/hotplug.js';
import { Journal } from '../../src/hotplug/journal.js';
import { SimulatedKernel } from '../../src/kernel/index.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';
import { CLI, hotslot } from '../support/hotslot-cli.js';
import { startQemu, type RunningQemu } from '../support/qemu.js';

const BDF = '0000:02:00.0';
let lab: LabSnapshot;
const guests: SimulatedGuest[] = [];

const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));
  } catch {
    return null;
  }
};
const overrideOf = (bdf: string) => readFileSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver_override'), 'utf8').trim();
const cliBase = (extra: string[] = []) => ['--sysfs-root', lab.sysfsRoot, '--proc-root', lab.procRoot, '--kernel', 'sim', '--state-dir', join(lab.dir, 'state'), ...extra];

async function simGuest(name: string, opts: { neverReleases?: boolean } = {}): Promise<SimulatedGuest> {
  const g = new SimulatedGuest({ name, socketPath: join(lab.dir, `${name}.qmp`), sysfsRoot: lab.sysfsRoot, unplugDelayMs: 20, ...opts });
  await g.start();
  guests.push(g);
  return g;
}

afterEach(async () => {
  await Promise.all(guests.splice(0).map((g) => g.stop()));
  lab?.remove();
});

describe('failures put the device back', () => {
  it('a vfio-pci bind the kernel refuses is undone: the device is back on e1000e with driver_override cleared (exit 1)', async () => {
    lab = await extractLabSnapshot('boot');
    await simGuest('vm1');
    SimulatedKernel.open(lab.sysfsRoot).failNext({ op: 'setDriverOverride', bdf: BDF, errno: 'EACCES' });
    const r = await hotslot([...cliBase(['--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`]), 'attach', BDF, 'vm1', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bind vfio-pci of 0000:02:00\.0 failed: .*EACCES/);
    expect(r.stderr).toMatch(/every step was undone/);
    expect(driverOf(BDF)).toBe('e1000e');
    expect(overrideOf(BDF)).toBe('(null)');
  });

  it('killed in the middle of an attach, `recover` brings the device home', async () => {
    lab = await extractLabSnapshot('boot');
    await simGuest('vm1');
    SimulatedKernel.open(lab.sysfsRoot).setBindDelay(60_000, 'vfio-pci');
    const child = spawn(process.execPath, [CLI, ...cliBase(['--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`]), 'attach', BDF, 'vm1', '--yes'], { stdio: 'ignore' });
    const journal = join(lab.dir, 'state', 'journal.jsonl');
    const deadline = Date.now() + 20_000;
    while (!(existsSync(journal) && readFileSync(journal, 'utf8').includes('"step":"bind vfio-pci"'))) {
      if (Date.now() > deadline) throw new Error('attach never reached the vfio-pci bind');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    SimulatedKernel.open(lab.sysfsRoot).setBindDelay(0, 'vfio-pci');
    expect(driverOf(BDF)).not.toBe('e1000e');

    const r = await hotslot([...cliBase(), 'recover', '--json']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; operations: { op: string; devices: { action: string }[] }[] };
    expect(out.operations).toHaveLength(1);
    expect(out.operations[0].devices[0].action).toBe('returned-home');
    expect(driverOf(BDF)).toBe('e1000e');
    expect(overrideOf(BDF)).toBe('(null)');
    const again = await hotslot([...cliBase(), 'recover']);
    expect(again.stdout).toMatch(/nothing to recover/);
  });

  it('whatever single sysfs write fails during attach or detach, every device ends with the guest or back on its driver', async () => {
    lab = await extractLabSnapshot('boot');
    await simGuest('vm1');
    const sim = SimulatedKernel.open(lab.sysfsRoot);
    const guest = await Guest.connect({ name: 'vm1', endpoint: unixEndpoint(join(lab.dir, 'vm1.qmp')), source: 'test' });
    const sources = { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot };
    const hotplug = new Hotplug({
      kernel: sim.port,
      journal: new Journal(join(lab.dir, 'state')),
      clock: systemClock,
      emit: () => undefined,
      host: sources,
      guests: [{ name: 'vm1', socket: guest.socket, qmp: guest.client }],
      dryRun: false,
      timeouts: { driverMs: 500, unplugMs: 3_000, pollMs: 20 },
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat(12), fc.constantFrom('EIO', 'EBUSY', 'ENODEV', 'EINVAL'), fc.boolean(), async (failAt, errno, duringDetach) => {
          let writes = 0;
          if (duringDetach) expect((await hotplug.attach(BDF, 'vm1')).outcome).toBe('done');
          sim.setFaultHook(() => (writes++ === failAt ? errno : undefined));
          const r = duringDetach ? await hotplug.detach(BDF) : await hotplug.attach(BDF, 'vm1');
          sim.setFaultHook(undefined);
          const inGuest = (await guest.pci()).devices.some((d) => d.hostBdf === BDF);
          if (inGuest) {
            expect(driverOf(BDF)).toBe('vfio-pci');
            expect(r.outcome === 'done' ? !duringDetach : true).toBe(true);
          } else {
            expect(r.outcome).not.toBe('stuck');
            expect(driverOf(BDF)).toBe('e1000e');
            expect(overrideOf(BDF)).toBe('(null)');
          }
          // Start the next run from home.
          if (inGuest) expect((await hotplug.detach(BDF)).outcome).toBe('done');
          expect(driverOf(BDF)).toBe('e1000e');
        }),
        { numRuns: 40 },
      );
    } finally {
      await guest.close();
    }
  });
});

describe('real QEMU refuses', () => {
  let qemu: RunningQemu;
  beforeAll(async () => {
    qemu = await startQemu({ rootPorts: 2 });
  });
  afterAll(async () => {
    await qemu?.stop();
  });

  it("QEMU's own refusal of device_add is reported in its words and the device goes back on its host driver", async () => {
    lab = await extractLabSnapshot('boot');
    // The device exists only in the snapshot, not on this machine: QEMU cannot open it.
    const r = await hotslot([...cliBase(['--guest', `real=${qemu.qmpSocket}`]), 'attach', BDF, 'real', '--yes', '--json']);
    expect(r.status, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { outcome: string; message: string; steps: { step: string; status: string }[] };
    expect(out.outcome).toBe('failed');
    expect(out.message).toMatch(/device_add of 0000:02:00\.0 failed: .*GenericError|device_add of 0000:02:00\.0 failed: .*vfio/);
    // Undone newest first.
    expect(out.steps.filter((s) => s.status === 'undone').map((s) => s.step)).toEqual(['bind vfio-pci', 'unbind']);
    expect(driverOf(BDF)).toBe('e1000e');
    expect(overrideOf(BDF)).toBe('(null)');
  });
});

async function killDuring(args: string[], journalMark: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
  const journal = join(lab.dir, 'state', 'journal.jsonl');
  const deadline = Date.now() + 20_000;
  // The mark is the last journal line written before the step that is slow here.
  while (!(existsSync(journal) && readFileSync(journal, 'utf8').trimEnd().split('\n').at(-1)!.includes(journalMark))) {
    if (Date.now() > deadline) throw new Error(`never reached ${journalMark}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
}

describe('crash and recover at each slow step', () => {
  const guestArg = () => ['--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`];

  it('killed while QEMU opens the device (device_add pending): recover settles it with the guest or at home', async () => {
    lab = await extractLabSnapshot('boot');
    const g = new SimulatedGuest({ name: 'vm1', socketPath: join(lab.dir, 'vm1.qmp'), sysfsRoot: lab.sysfsRoot, addDelayMs: 800 });
    await g.start();
    guests.push(g);
    await killDuring([...cliBase(guestArg()), 'attach', BDF, 'vm1', '--yes'], '"step":"device_add"');
    await new Promise((r) => setTimeout(r, 1_000)); // QEMU finishes the device_add on its own
    const r = await hotslot([...cliBase(guestArg()), 'recover', '--json']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const action = (JSON.parse(r.stdout) as { operations: { devices: { action: string }[] }[] }).operations[0].devices[0].action;
    if (action === 'kept-with-guest') {
      expect(g.held()).toEqual([BDF]);
      expect(driverOf(BDF)).toBe('vfio-pci');
    } else {
      expect(action).toBe('returned-home');
      expect(g.held()).toEqual([]);
      expect(driverOf(BDF)).toBe('e1000e');
    }
  });

  it('killed while binding the host driver back after a detach: recover finishes the return', async () => {
    lab = await extractLabSnapshot('boot');
    await simGuest('vm1');
    expect((await hotslot([...cliBase(guestArg()), 'attach', BDF, 'vm1', '--yes'])).status).toBe(0);
    SimulatedKernel.open(lab.sysfsRoot).setBindDelay(60_000, 'e1000e');
    await killDuring([...cliBase(guestArg()), 'detach', BDF, '--yes'], '"step":"bind host driver"');
    SimulatedKernel.open(lab.sysfsRoot).setBindDelay(0, 'e1000e');
    const r = await hotslot([...cliBase(), 'recover', '--json']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(driverOf(BDF)).toBe('e1000e');
    expect(overrideOf(BDF)).toBe('(null)');
  });
});

describe('one writer per host', () => {
  it('a second hotslot changing devices on the same host is refused with the first one named', async () => {
    lab = await extractLabSnapshot('boot');
    await simGuest('vm1');
    SimulatedKernel.open(lab.sysfsRoot).setBindDelay(60_000, 'vfio-pci');
    const args = [...cliBase(['--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`]), 'attach', BDF, 'vm1', '--yes'];
    const first = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const journal = join(lab.dir, 'state', 'journal.jsonl');
    while (!(existsSync(journal) && readFileSync(journal, 'utf8').includes('bind vfio-pci'))) await new Promise((r) => setTimeout(r, 10));
    const second = await hotslot([...cliBase(['--guest', `vm1=${join(lab.dir, 'vm1.qmp')}`]), 'attach', '0000:03:00.0', 'vm1', '--yes']);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('close', r));
    expect(second.status).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`another hotslot \\(pid ${first.pid}\\)`));
    expect(driverOf('0000:03:00.0')).toBe('nvme');
  });
});

describe("this machine's real /sys, read only", () => {
  it("refuses to attach the root disk's device (exit 3, protected), and --dry-run prints the plan; nothing is written", async () => {
    const state = (lab = await extractLabSnapshot('boot')).dir;
    const list = await hotslot(['list', '--all', '--json']);
    const devices = JSON.parse(list.stdout) as { bdf: string; assignable: { reasons: { code: string; message: string }[] } }[];
    const rootDisk = devices.find((d) => d.assignable.reasons.some((r) => r.code === 'protected' && /root filesystem/.test(r.message)));
    expect(rootDisk, 'the root filesystem device is found on this machine').toBeDefined();
    const g = new SimulatedGuest({ name: 'vm1', socketPath: join(state, 'vm1.qmp'), sysfsRoot: '/sys' });
    await g.start();
    guests.push(g);
    const base = ['--state-dir', join(state, 'hs'), '--guest', `vm1=${join(state, 'vm1.qmp')}`];
    const driverBefore = readlinkSync(`/sys/bus/pci/devices/${rootDisk!.bdf}/driver`);

    const r = await hotslot([...base, 'attach', rootDisk!.bdf, 'vm1', '--yes', '--json']);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout) as { outcome: string; reasons: { code: string }[]; steps: unknown[] };
    expect(out.outcome).toBe('refused');
    expect(out.reasons.map((x) => x.code)).toContain('protected');
    expect(out.steps).toEqual([]);

    const dry = await hotslot([...base, 'attach', rootDisk!.bdf, 'vm1', '--dry-run']);
    expect(dry.status).toBe(3);
    expect(dry.stderr).toContain(`echo "${rootDisk!.bdf}" > /sys/bus/pci/devices/${rootDisk!.bdf}/driver/unbind`);
    expect(dry.stderr).toMatch(/protected/);
    expect(readlinkSync(`/sys/bus/pci/devices/${rootDisk!.bdf}/driver`)).toBe(driverBefore);
    expect(g.held()).toEqual([]);
  });
});
