import { readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { HotslotState } from '../../src/core/state.js';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import { acquireHostLock } from '../../src/hotplug/host-lock.js';
import { Journal } from '../../src/hotplug/journal.js';
import { SimulatedKernel } from '../../src/kernel/index.js';
import { LiveSession, type LiveSessionOptions } from '../../src/live/live-session.js';
import { unixEndpoint } from '../../src/qmp/index.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';

let lab: LabSnapshot;
let session: LiveSession | null = null;
const guests: SimulatedGuest[] = [];

afterEach(async () => {
  await session?.close();
  session = null;
  await Promise.all(guests.splice(0).map((g) => g.stop()));
  lab.remove();
});

const until = (s: LiveSession, p: (st: HotslotState) => boolean, ms = 15_000) => firstValueFrom(s.bus.state$.pipe(filter(p), timeout(ms)));
const driverOf = (bdf: string) => basename(readlinkSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));

async function open(readOnly: boolean, extra: Pick<LiveSessionOptions, 'lockHost' | 'lockWaitMs'> = {}): Promise<LiveSession> {
  lab = await extractLabSnapshot('boot');
  const vm1 = new SimulatedGuest({ name: 'vm1', socketPath: join(lab.dir, 'vm1.qmp'), sysfsRoot: lab.sysfsRoot, unplugDelayMs: 20 });
  await vm1.start();
  guests.push(vm1);
  const s = new LiveSession({
    sources: { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot },
    kernel: readOnly ? null : SimulatedKernel.open(lab.sysfsRoot).port,
    journal: new Journal(join(lab.dir, 'state')),
    guests: [{ name: 'vm1', endpoint: unixEndpoint(join(lab.dir, 'vm1.qmp')), source: 'test' }],
    clock: systemClock,
    hostPollMs: 100,
    guestPollMs: 100,
    ...extra,
  });
  s.start();
  session = s;
  return s;
}

describe('live session', () => {
  it('shows the host and the guest, carries out an attach intent, and shows the device owned by the guest', async () => {
    const s = await open(false);
    await until(s, (st) => st.devices['0000:02:00.0'] !== undefined && st.guests.vm1?.connected === true);
    s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'vm1' });
    const st = await until(s, (x) => x.devices['0000:02:00.0']?.owner.kind === 'guest');
    expect(st.devices['0000:02:00.0'].owner).toMatchObject({ kind: 'guest', guest: 'vm1' });
    const op = Object.values(st.operations).find((o) => o.op === 'attach')!;
    expect(op.steps.map((x) => x.step)).toContain('device_add');
  });

  it("returns a guest's devices to their host drivers when its QEMU exits", async () => {
    const s = await open(false);
    await until(s, (st) => st.guests.vm1?.connected === true && st.devices['0000:02:00.0'] !== undefined);
    s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'vm1' });
    await until(s, (x) => x.devices['0000:02:00.0']?.owner.kind === 'guest');
    await guests[0].stop();
    const st = await until(s, (x) => Object.values(x.operations).some((o) => o.op === 'return' && o.outcome !== null));
    expect(st.guests.vm1.connected).toBe(false);
    expect(Object.values(st.operations).find((o) => o.op === 'return')!.outcome).toBe('done');
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
    await until(s, (x) => x.devices['0000:02:00.0']?.owner.kind === 'host');
  });

  it('read-only refuses every intent and changes nothing', async () => {
    const s = await open(true);
    await until(s, (st) => st.guests.vm1?.connected === true);
    const refused = firstValueFrom(s.bus.events$.pipe(filter((e) => e.type === 'op.finished'), timeout(5_000)));
    s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'vm1' });
    expect(await refused).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/read-only/) as unknown });
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
  });

  it('an operation waits while another hotslot holds the host lock, and runs once it is released', async () => {
    const stateDir = () => join(lab.dir, 'state');
    const s = await open(false, { lockHost: () => acquireHostLock(stateDir()) });
    await until(s, (st) => st.guests.vm1?.connected === true && st.devices['0000:02:00.0'] !== undefined);
    const other = acquireHostLock(stateDir());
    s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'vm1' });
    // A while later (an unhindered attach takes a few milliseconds here) it has not begun.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
    other.release();
    const st = await until(s, (x) => Object.values(x.operations).some((o) => o.op === 'attach' && o.outcome !== null));
    expect(Object.values(st.operations).find((o) => o.op === 'attach')!.outcome).toBe('done');
    expect(driverOf('0000:02:00.0')).toBe('vfio-pci');
  });

  it('an operation that cannot get the host lock in time is refused, naming the holder, and changes nothing', async () => {
    const stateDir = () => join(lab.dir, 'state');
    const s = await open(false, { lockHost: () => acquireHostLock(stateDir()), lockWaitMs: 0 });
    await until(s, (st) => st.guests.vm1?.connected === true && st.devices['0000:02:00.0'] !== undefined);
    const other = acquireHostLock(stateDir());
    const refused = firstValueFrom(s.bus.events$.pipe(filter((e) => e.type === 'op.finished'), timeout(5_000)));
    s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'vm1' });
    expect(await refused).toMatchObject({ outcome: 'refused', message: expect.stringMatching(new RegExp(`another hotslot \\(pid ${process.pid}\\)`)) as unknown });
    other.release();
    expect(driverOf('0000:02:00.0')).toBe('e1000e');
  });

  it('recover runs as one operation on the bus and says when there was nothing to do', async () => {
    const s = await open(false);
    await s.firstContact();
    const results = await s.recover();
    expect(results).toEqual([]);
    const st = await until(s, (x) => Object.values(x.operations).some((o) => o.op === 'recover' && o.outcome !== null));
    expect(Object.values(st.operations).find((o) => o.op === 'recover')).toMatchObject({ outcome: 'done', message: expect.stringMatching(/nothing to recover/) as unknown });
  });

  it('follows a guest whose QEMU was not up at start once it comes up', async () => {
    lab = await extractLabSnapshot('boot');
    const socket = join(lab.dir, 'late.qmp');
    const s = new LiveSession({
      sources: { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot },
      kernel: null,
      journal: null,
      guests: [{ name: 'late', endpoint: unixEndpoint(socket), source: 'test' }],
      clock: systemClock,
      hostPollMs: 100,
      guestPollMs: 100,
    });
    session = s;
    const unreachable = firstValueFrom(s.bus.events$.pipe(filter((e) => e.type === 'guest.disconnected'), timeout(10_000)));
    s.start();
    expect(await unreachable).toMatchObject({ guest: 'late' });
    const late = new SimulatedGuest({ name: 'late', socketPath: socket, sysfsRoot: lab.sysfsRoot });
    await late.start();
    guests.push(late);
    const st = await until(s, (x) => x.guests.late?.connected === true);
    expect(st.guests.late.qemuVersion).toBe('10.0.0');
  });
});
