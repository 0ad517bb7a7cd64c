import { existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import type { HostDevice } from '../../src/host/host-device.js';
import { extractLabSnapshot, treeListing, type LabSnapshot } from '../support/lab-snapshot.js';
import { hotslot } from '../support/hotslot-cli.js';

/**
 * The configuration file through the real CLI, on the simulated kernel over a real kernel's sysfs
 * snapshot, with simulated guests on real unix sockets: guests named in it, the allow-list, the
 * reservations, and files that are wrong.
 *
 * In the `boot` snapshot 0000:02:00.0 (e1000e) is the one device assignable on its own, and
 * 0000:05:01.0 + 0000:05:02.0 (e1000, IOMMU group 11) are assignable together with --group.
 */
const NIC = '0000:02:00.0';
const PAIR = ['0000:05:01.0', '0000:05:02.0'];

let lab: LabSnapshot;
let vm1: SimulatedGuest;
let vm2: SimulatedGuest;

const sock = (name: string) => join(lab.dir, `${name}.qmp`);
/** The host, without guests: the sysfs and procfs roots, the simulated kernel, a state dir. */
const host = () => ['--sysfs-root', lab.sysfsRoot, '--proc-root', lab.procRoot, '--kernel', 'sim', '--state-dir', join(lab.dir, 'state')];
const guestArgs = () => ['--guest', `vm1=${sock('vm1')}`, '--guest', `vm2=${sock('vm2')}`];
const listing = () => treeListing(lab.sysfsRoot).filter((l) => !l.startsWith('.hotslot-sim'));
const journalPath = () => join(lab.dir, 'state', 'journal.jsonl');
const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(join(lab.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));
  } catch {
    return null;
  }
};

function writeConfig(value: unknown, name = 'hotslot.json'): string {
  const file = join(lab.dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

interface OpJson {
  outcome: string;
  reasons?: { code: string; message: string }[];
}

beforeEach(async () => {
  lab = await extractLabSnapshot('boot');
  vm1 = new SimulatedGuest({ name: 'vm1', socketPath: sock('vm1'), sysfsRoot: lab.sysfsRoot, rootPorts: 2, unplugDelayMs: 20 });
  vm2 = new SimulatedGuest({ name: 'vm2', socketPath: sock('vm2'), sysfsRoot: lab.sysfsRoot, rootPorts: 2, unplugDelayMs: 20 });
  await vm1.start();
  await vm2.start();
});

afterEach(async () => {
  await vm1.stop();
  await vm2.stop();
  lab.remove();
});

describe('guests from the configuration file', () => {
  it('are found without --guest (a relative socket path is taken from the file\'s folder) and can be attached to', async () => {
    const config = writeConfig({ guests: { vm1: 'vm1.qmp', vm2: sock('vm2') } });
    const g = await hotslot([...host(), '--config', config, 'guests', '--json']);
    expect(g.status, g.stderr).toBe(0);
    const guests = JSON.parse(g.stdout) as { name: string; connected: boolean; socket: string }[];
    expect(guests.map((x) => [x.name, x.connected, x.socket])).toEqual([
      ['vm1', true, sock('vm1')],
      ['vm2', true, sock('vm2')],
    ]);
    const a = await hotslot([...host(), '--config', config, 'attach', NIC, 'vm2', '--yes']);
    expect(a.status, a.stderr).toBe(0);
    expect(vm2.held()).toEqual([NIC]);
    // list asks the configured guests who holds what.
    const l = await hotslot([...host(), '--config', config, 'list', '--json']);
    expect((JSON.parse(l.stdout) as HostDevice[]).find((d) => d.bdf === NIC)!.owner).toMatchObject({ kind: 'guest', guest: 'vm2' });
  });

  it('add to --guest and --guest-dir, and a name given twice is bad usage (exit 2) naming both places, touching nothing', async () => {
    const config = writeConfig({ guests: { vm1: sock('vm1') } });
    const both = await hotslot([...host(), '--config', config, '--guest', `vm2=${sock('vm2')}`, 'guests', '--json']);
    expect(both.status, both.stderr).toBe(0);
    expect((JSON.parse(both.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['vm1', 'vm2']);

    const before = listing();
    const twice = await hotslot([...host(), '--config', config, '--guest', `vm1=${sock('vm2')}`, 'attach', NIC, 'vm1', '--yes']);
    expect(twice.status).toBe(2);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
    expect(twice.stderr).toContain(`guest vm1 is named twice: by --guest vm1=${sock('vm2')} and by config ${config}`);

    const dir = join(lab.dir, 'sockets');
    mkdirSync(dir);
    const inDir = new SimulatedGuest({ name: 'vm1', socketPath: join(dir, 'vm1.qmp'), sysfsRoot: lab.sysfsRoot });
    await inDir.start();
    try {
      const r = await hotslot([...host(), '--config', config, '--guest-dir', dir, 'guests']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`guest vm1 is named twice: by --guest-dir ${dir} and by config ${config}`);
    } finally {
      await inDir.stop();
    }
    expect(listing()).toEqual(before);
    expect(vm1.held()).toEqual([]);
    expect(existsSync(journalPath())).toBe(false);
  });
});

describe('allow-list mode', () => {
  it('refuses a device the list does not name (exit 3, not-allowed) though nothing else stands in its way, and touches nothing', async () => {
    const config = writeConfig({ allow: PAIR });
    const before = listing();
    const r = await hotslot([...host(), ...guestArgs(), '--config', config, 'attach', NIC, 'vm1', '--yes', '--json']);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout) as OpJson;
    expect(out.outcome).toBe('refused');
    expect(out.reasons!.map((x) => x.code)).toEqual(['not-allowed']);
    expect(out.reasons![0].message).toContain(`${NIC}: it is not on the allow list of ${config}`);
    expect(listing()).toEqual(before);
    expect(vm1.held()).toEqual([]);

    const human = await hotslot([...host(), ...guestArgs(), '--config', config, 'park', NIC, '--yes']);
    expect(human.status).toBe(3);
    expect(human.stderr).toMatch(/refused by a safety check \(not-allowed\)/);
    expect(driverOf(NIC)).toBe('e1000e');
  });

  it('lets through the devices it names', async () => {
    const config = writeConfig({ allow: PAIR });
    const r = await hotslot([...host(), ...guestArgs(), '--config', config, 'attach', PAIR[0], 'vm1', '--group', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(vm1.held().sort()).toEqual(PAIR);
    const d = await hotslot([...host(), ...guestArgs(), '--config', config, 'detach', PAIR[0], '--yes']);
    expect(d.status, d.stderr).toBe(0);
    expect(PAIR.map(driverOf)).toEqual(['e1000', 'e1000']);
  });

  it('also keeps hotslot from taking back a device a guest holds, or giving it to another guest', async () => {
    expect((await hotslot([...host(), ...guestArgs(), 'attach', NIC, 'vm1', '--yes'])).status).toBe(0);
    const config = writeConfig({ allow: PAIR });
    for (const args of [['detach', NIC], ['return', NIC], ['move', NIC, 'vm2']]) {
      const r = await hotslot([...host(), ...guestArgs(), '--config', config, ...args, '--yes']);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr, args[0]).toMatch(/not-allowed/);
    }
    expect(vm1.held()).toEqual([NIC]);
    expect(vm2.held()).toEqual([]);
    expect(driverOf(NIC)).toBe('vfio-pci');
  });

  it('is shown by check and list like the other reasons', async () => {
    const config = writeConfig({ allow: PAIR });
    const c = await hotslot([...host(), '--config', config, 'check', NIC]);
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/assignable: no/);
    expect(c.stdout).toMatch(/✗ not-allowed: it is not on the allow list of/);
    const l = await hotslot([...host(), '--config', config, 'list']);
    expect(l.stdout.split('\n').find((line) => line.startsWith(NIC))).toMatch(/✗ not-allowed$/);
    const j = await hotslot([...host(), '--config', config, 'list', '--json']);
    const devices = JSON.parse(j.stdout) as HostDevice[];
    expect(devices.find((d) => d.bdf === NIC)!.assignable).toMatchObject({ ok: false, reasons: [{ code: 'not-allowed' }] });
    // Allowed devices keep their own verdict: the pair is only blocked by each other, as without a config.
    expect(devices.find((d) => d.bdf === PAIR[0])!.assignable.reasons.map((r) => r.code)).not.toContain('not-allowed');
  });

  it('an empty list allows nothing', async () => {
    const config = writeConfig({ allow: [] });
    const r = await hotslot([...host(), ...guestArgs(), '--config', config, 'attach', PAIR[0], 'vm1', '--group', '--yes', '--json']);
    expect(r.status).toBe(3);
    expect((JSON.parse(r.stdout) as OpJson).reasons!.map((x) => x.code)).toEqual(['not-allowed', 'not-allowed']);
  });
});

describe('reservations', () => {
  it('refuse attaching a reserved device to another guest (exit 3, reserved) and allow its own guest', async () => {
    const config = writeConfig({ reservations: { '02:00.0': 'vm2' } });
    const before = listing();
    const r = await hotslot([...host(), ...guestArgs(), '--config', config, 'attach', NIC, 'vm1', '--yes', '--json']);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout) as OpJson;
    expect(out.reasons).toEqual([{ code: 'reserved', message: `${NIC} is reserved for guest vm2, not vm1` }]);
    expect(listing()).toEqual(before);

    const ok = await hotslot([...host(), ...guestArgs(), '--config', config, 'attach', NIC, 'vm2', '--yes']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(vm2.held()).toEqual([NIC]);
  });

  it('refuse moving a reserved device away from its guest, and allow moving it to its guest', async () => {
    expect((await hotslot([...host(), ...guestArgs(), 'attach', NIC, 'vm1', '--yes'])).status).toBe(0);
    const toVm1 = writeConfig({ reservations: { [NIC]: 'vm1' } }, 'vm1.json');
    const away = await hotslot([...host(), ...guestArgs(), '--config', toVm1, 'move', NIC, 'vm2', '--yes']);
    expect(away.status).toBe(3);
    expect(away.stderr).toMatch(/reserved: 0000:02:00\.0 is reserved for guest vm1, not vm2/);
    expect(vm1.held()).toEqual([NIC]);

    const toVm2 = writeConfig({ reservations: { [NIC]: 'vm2' } }, 'vm2.json');
    const home = await hotslot([...host(), ...guestArgs(), '--config', toVm2, 'move', NIC, 'vm2', '--yes']);
    expect(home.status, home.stderr).toBe(0);
    expect(vm2.held()).toEqual([NIC]);
  });

  it('are shown by check and list as a warning: the device stays assignable, to its guest', async () => {
    const config = writeConfig({ reservations: { [NIC]: 'vm2' } });
    const c = await hotslot([...host(), '--config', config, 'check', NIC]);
    expect(c.stdout).toMatch(/assignable: yes, with warnings/);
    expect(c.stdout).toMatch(/! reserved: it is reserved for guest vm2/);
    const l = await hotslot([...host(), '--config', config, 'list']);
    expect(l.stdout.split('\n').find((line) => line.startsWith(NIC))).toMatch(/✓ reserved$/);
  });
});

describe('a bad configuration file', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{"allow": [', /not valid JSON/],
    ['not an object', '["0000:02:00.0"]', /: expected a JSON object/],
    ['a misspelt key', { alow: ['0000:02:00.0'] }, /: alow: unknown field/],
    ['allow not a list', { allow: '0000:02:00.0' }, /: allow: expected a list of PCI addresses/],
    ['a bad BDF in allow', { allow: [NIC, '02:00'] }, /: allow\[1\]: not a PCI address: "02:00"/],
    ['a bad BDF as a reservation key', { reservations: { '0000:02:00': 'vm1' } }, /: reservations\.0000:02:00: not a PCI address/],
    ['a bad guest name in a reservation', { reservations: { [NIC]: 'vm 1' } }, /: reservations\.0000:02:00\.0: guest name "vm 1" must be/],
    ['one device reserved twice', { reservations: { '02:00.0': 'vm1', [NIC]: 'vm2' } }, /: reservations\.0000:02:00\.0: reserved twice, for vm1 and for vm2/],
    ['a guest socket that is not a string', { guests: { vm1: 4444 } }, /: guests\.vm1: expected a QMP socket path or tcp:HOST:PORT/],
    ['a bad tcp endpoint', { guests: { vm1: 'tcp:localhost' } }, /: guests\.vm1: expected tcp:HOST:PORT/],
    ['a bad guest name', { guests: { 'vm/1': '/run/vm1.qmp' } }, /: guests\.vm\/1: guest name "vm\/1" must be/],
  ];

  it.each(cases)('%s: one line naming the file and the field, exit 2, nothing touched', async (_what, value, expected) => {
    const config = writeConfig(value);
    const before = listing();
    const commands = [['attach', NIC, 'vm1', '--yes'], ['list'], ['check', NIC], ['guests']];
    const runs = await Promise.all(commands.map((args) => hotslot([...host(), ...guestArgs(), '--config', config, ...args])));
    for (const [i, args] of commands.entries()) {
      const r = runs[i];
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stdout, args[0]).toBe('');
      expect(r.stderr.trimEnd().split('\n'), args[0]).toHaveLength(1);
      expect(r.stderr, args[0]).toContain(`hotslot: bad config: ${config}`);
      expect(r.stderr, args[0]).toMatch(expected);
    }
    expect(listing()).toEqual(before);
    expect(vm1.held()).toEqual([]);
    expect(existsSync(journalPath())).toBe(false);
  });

  it('a --config file that does not exist is an error; a missing default file is not', async () => {
    const missing = join(lab.dir, 'nope.json');
    const r = await hotslot([...host(), '--config', missing, 'list']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`hotslot: bad config: ${missing}: no such file\n`);
    const d = await hotslot([...host(), 'list'], { env: { XDG_CONFIG_HOME: join(lab.dir, 'empty-config-home') } });
    expect(d.status, d.stderr).toBe(0);
  });
});

describe('the default configuration file', () => {
  it('is $XDG_CONFIG_HOME/hotslot/config.json, read when --config is not given', async () => {
    const home = join(lab.dir, 'config-home');
    mkdirSync(join(home, 'hotslot'), { recursive: true });
    writeFileSync(join(home, 'hotslot', 'config.json'), JSON.stringify({ allow: PAIR, guests: { vm1: sock('vm1') } }));
    const r = await hotslot([...host(), 'attach', NIC, 'vm1', '--yes', '--json'], { env: { XDG_CONFIG_HOME: home } });
    expect(r.status, r.stderr).toBe(3);
    expect((JSON.parse(r.stdout) as OpJson).reasons!.map((x) => x.code)).toEqual(['not-allowed']);
    // --config names another file instead.
    const other = writeConfig({ guests: { vm1: sock('vm1') } });
    const a = await hotslot([...host(), '--config', other, 'attach', NIC, 'vm1', '--yes'], { env: { XDG_CONFIG_HOME: home } });
    expect(a.status, a.stderr).toBe(0);
  });
});
