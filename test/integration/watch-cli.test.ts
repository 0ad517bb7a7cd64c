import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import { Journal } from '../../src/hotplug/journal.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';
import { hotslot } from '../support/hotslot-cli.js';
import { startHotslot, type HotslotChild } from '../support/hotslot-child.js';
import { installedQemuVersion, startQemu, type RunningQemu } from '../support/qemu.js';

/**
 * `hotslot watch` as operators run it beside their scripts: a child process following a real
 * kernel's sysfs snapshot under the simulated kernel and guests that speak QMP on unix sockets,
 * while other hotslot commands change devices; and a real QEMU whose exit it must see.
 */
const NIC = '0000:02:00.0';

let lab: LabSnapshot | null = null;
let watch: HotslotChild | null = null;
const guests: SimulatedGuest[] = [];
let qemu: RunningQemu | null = null;

afterEach(async () => {
  watch?.signal('SIGKILL');
  await watch?.exited;
  watch = null;
  await Promise.all(guests.splice(0).map((g) => g.stop()));
  await qemu?.stop();
  qemu = null;
  lab?.remove();
  lab = null;
});

interface Line {
  event: string;
  time: string;
  [field: string]: unknown;
}
const parse = (line: string) => JSON.parse(line) as Line;
const is = (event: string, fields: Record<string, unknown> = {}) => (line: string) => {
  const l = parse(line);
  return l.event === event && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v));
};
const ownerTo = (bdf: string, to: Record<string, unknown>) => (line: string) => {
  const l = parse(line);
  return l.event === 'device.owner' && l.bdf === bdf && Object.entries(to).every(([k, v]) => (l.to as Record<string, unknown>)[k] === v);
};

async function labWithGuest(opts: { neverReleases?: boolean } = {}) {
  const l = await extractLabSnapshot('boot');
  lab = l;
  const vm1 = new SimulatedGuest({ name: 'vm1', socketPath: join(l.dir, 'vm1.qmp'), sysfsRoot: l.sysfsRoot, unplugDelayMs: 50, neverReleases: opts.neverReleases ?? false });
  await vm1.start();
  guests.push(vm1);
  const base = ['--sysfs-root', l.sysfsRoot, '--proc-root', l.procRoot, '--kernel', 'sim', '--state-dir', join(l.dir, 'state'), '--guest', `vm1=${join(l.dir, 'vm1.qmp')}`];
  const driverOf = (bdf: string) => basename(readlinkSync(join(l.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));
  const overrideOf = (bdf: string) => readFileSync(join(l.sysfsRoot, 'bus/pci/devices', bdf, 'driver_override'), 'utf8').trim();
  return { lab: l, vm1, base, driverOf, overrideOf };
}

/** Starts `watch --json` and waits until it is following vm1 and has run its start-up recovery. */
async function startWatch(globals: string[], options: string[]): Promise<HotslotChild> {
  const w = startHotslot([...globals, 'watch', '--json', ...options]);
  watch = w;
  await w.waitForLine(is('guest.connected', { guest: 'vm1' }), 'that vm1 connected');
  await w.waitForLine(is('op.finished', { op: 'recover' }), 'that start-up recovery finished');
  return w;
}

describe('hotslot watch', () => {
  it("returns a device to its original driver, driver_override cleared, when its guest's QEMU exits; SIGTERM ends it with 0", async () => {
    const { lab: l, vm1, base, driverOf, overrideOf } = await labWithGuest();
    const recording = join(l.dir, 'session.jsonl');
    const w = await startWatch(base, ['--record', recording]);
    expect(parse(w.lines[0])).toMatchObject({ event: 'watch.started', guests: ['vm1'], returnOnExit: true, recording });

    // Another hotslot changes the host meanwhile: watch holds the host lock only while it writes.
    const a = await hotslot([...base, 'attach', NIC, 'vm1', '--yes']);
    expect(a.status, a.stderr).toBe(0);
    expect(driverOf(NIC)).toBe('vfio-pci');
    await w.waitForLine(ownerTo(NIC, { kind: 'guest', guest: 'vm1' }), `that ${NIC} is with vm1`);

    await vm1.stop(); // its QMP server closes, as when QEMU exits
    const gone = parse(await w.waitForLine(is('guest.gone', { guest: 'vm1' }), 'that vm1 is gone'));
    expect(gone).toMatchObject({ devices: [NIC], returning: true });
    const started = parse(await w.waitForLine(is('op.started', { op: 'return', bdfs: [NIC] }), `that the return of ${NIC} started`));
    const finished = parse(await w.waitForLine(is('op.finished', { opId: started.opId }), `that the return of ${NIC} finished`));
    expect(finished).toMatchObject({ op: 'return', bdfs: [NIC], outcome: 'done' });
    expect(finished.message).toMatch(/back on the host \(e1000e\)/);
    await w.waitForLine(ownerTo(NIC, { kind: 'host' }), `that ${NIC} is with the host again`);

    expect(driverOf(NIC)).toBe('e1000e');
    expect(overrideOf(NIC)).toBe('(null)');
    expect(new Journal(join(l.dir, 'state')).open()).toEqual([]);

    w.signal('SIGTERM');
    expect((await w.exited).status).toBe(0);
    expect(w.lines.map(parse).at(-1)).toMatchObject({ event: 'watch.stopped', reason: 'SIGTERM' });
    for (const line of w.lines) expect(new Date(parse(line).time).toISOString()).toBe(parse(line).time);
    expect(w.stderr()).toBe('');

    // The recording was flushed: its header, then the session's events up to the return.
    const recorded = readFileSync(recording, 'utf8').trim().split('\n').map((x) => JSON.parse(x) as { kind?: string; event?: { type: string; opId?: string; outcome?: string } });
    expect(recorded[0].kind).toBe('hotslot-session');
    expect(recorded.some((r) => r.event?.type === 'op.finished' && r.event.opId === started.opId && r.event.outcome === 'done')).toBe(true);
  });

  it('with --no-return-on-exit it only reports: the device stays on vfio-pci', async () => {
    const { vm1, base, driverOf } = await labWithGuest();
    const w = await startWatch(base, ['--no-record', '--no-return-on-exit']);
    expect(parse(w.lines[0])).toMatchObject({ event: 'watch.started', returnOnExit: false, recording: null });
    expect((await hotslot([...base, 'attach', NIC, 'vm1', '--yes'])).status).toBe(0);
    await w.waitForLine(ownerTo(NIC, { kind: 'guest', guest: 'vm1' }), `that ${NIC} is with vm1`);
    await vm1.stop();
    expect(parse(await w.waitForLine(is('guest.gone', { guest: 'vm1' }), 'that vm1 is gone'))).toMatchObject({ devices: [NIC], returning: false });
    await w.waitForLine(ownerTo(NIC, { kind: 'vfio' }), `that ${NIC} is left on vfio-pci`);
    w.signal('SIGINT');
    expect((await w.exited).status).toBe(0);
    expect(w.lines.map(parse).filter((x) => x.event === 'op.started' && x.op === 'return')).toEqual([]);
    expect(driverOf(NIC)).toBe('vfio-pci');
  });

  it('recovers at start: a device left stuck with a guest that has since gone comes home', async () => {
    const { vm1, base, driverOf, overrideOf } = await labWithGuest({ neverReleases: true });
    expect((await hotslot([...base, 'attach', NIC, 'vm1', '--yes'])).status).toBe(0);
    expect((await hotslot([...base, 'detach', NIC, '--yes', '--unplug-timeout', '1.5'])).status).toBe(4);
    await vm1.stop();
    const w = startHotslot([...base, 'watch', '--json', '--no-record']);
    watch = w;
    await w.waitForLine(is('guest.unreachable', { guest: 'vm1' }), 'that vm1 cannot be reached');
    const done = parse(await w.waitForLine(is('op.finished', { op: 'recover' }), 'that recovery finished'));
    expect(done).toMatchObject({ bdfs: [NIC], outcome: 'done' });
    expect(done.message).toMatch(/back/);
    expect(driverOf(NIC)).toBe('e1000e');
    expect(overrideOf(NIC)).toBe('(null)');
    w.signal('SIGTERM');
    expect((await w.exited).status).toBe(0);
  });

  it('prints one line per event without --json', async () => {
    const { base } = await labWithGuest();
    const w = startHotslot([...base, 'watch', '--no-record']);
    watch = w;
    await w.waitForLine((l) => / guest vm1 connected \(QEMU 10\.0\.0\)$/.test(l), 'that vm1 connected');
    await w.waitForLine((l) => / recover done: nothing to recover/.test(l), 'that there was nothing to recover');
    expect(w.lines[0]).toMatch(/^\S+ watching vm1; a guest's devices return to the host when its QEMU exits; not recording$/);
    w.signal('SIGTERM');
    expect((await w.exited).status).toBe(0);
    expect(w.lines.at(-1)).toMatch(/ stopped \(SIGTERM\)$/);
  });

  it('with no guest configured there is nothing to watch: exit 2 and one line', async () => {
    const l = await extractLabSnapshot('boot');
    lab = l;
    const r = await hotslot(['--sysfs-root', l.sysfsRoot, '--proc-root', l.procRoot, '--kernel', 'sim', '--state-dir', join(l.dir, 'state'), 'watch', '--json'], { timeoutMs: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nothing to watch: no guest is configured/);
  });

  it('bad input exits 2 with one line and records nothing: a malformed --guest, a recording path that cannot be made', async () => {
    const { lab: l, base } = await labWithGuest();
    const cases = [
      [...base.slice(0, -2), '--guest', 'vm1', 'watch'],
      [...base, 'watch', '--record', join(l.sysfsRoot, 'bus/pci/devices', NIC, 'vendor', 'session.jsonl')],
    ];
    // The default recording folder of these runs: it must not come into being.
    const env = { XDG_STATE_HOME: join(l.dir, 'xdg-state') };
    for (const args of cases) {
      const r = await hotslot(args, { timeoutMs: 20_000, env });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.trim().split('\n'), `${args.join(' ')}\n${r.stderr}`).toHaveLength(1);
    }
    const unknown = await hotslot([...base, 'watch', '--bogus'], { timeoutMs: 20_000, env });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    expect(existsSync(join(l.dir, 'xdg-state'))).toBe(false);
  });

  it("sees a real QEMU's exit: killed, the guest is reported gone", async () => {
    const l = await extractLabSnapshot('boot');
    lab = l;
    qemu = await startQemu({ rootPorts: 1 });
    const w = startHotslot(['--sysfs-root', l.sysfsRoot, '--proc-root', l.procRoot, '--kernel', 'sim', '--state-dir', join(l.dir, 'state'), '--guest', `q=${qemu.qmpSocket}`, 'watch', '--json', '--no-record']);
    watch = w;
    const installed = await installedQemuVersion();
    const connected = parse(await w.waitForLine(is('guest.connected', { guest: 'q' }), 'that the QEMU guest connected', 30_000));
    expect(connected.qemuVersion).toBe(`${installed.major}.${installed.minor}.${installed.micro}`);
    qemu.signal('SIGKILL');
    await qemu.exited;
    const gone = parse(await w.waitForLine(is('guest.gone', { guest: 'q' }), 'that the QEMU guest is gone'));
    expect(gone).toMatchObject({ devices: [], returning: false });
    w.signal('SIGINT');
    expect((await w.exited).status).toBe(0);
    expect(w.lines.map(parse).at(-1)).toMatchObject({ event: 'watch.stopped', reason: 'SIGINT' });
  });
});
