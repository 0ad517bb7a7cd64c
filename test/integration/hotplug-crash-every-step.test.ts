import { readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedGuest } from '../../src/demo/simulated-guest.js';
import { Journal, type JournalRecord } from '../../src/hotplug/journal.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';
import { hotslot } from '../support/hotslot-cli.js';

/**
 * Crash at every journalled step: a real hotslot process runs attach, detach or move and kills
 * itself with SIGKILL right after its k-th journal record is on disk (the test-only hook
 * HOTSLOT_TEST_CRASH_AFTER_RECORD in src/hotplug/journal.ts), for every k the operation writes.
 * The steps are not listed here: a first, uninterrupted run of the same operation writes them,
 * and the test reads them back from its journal. After each kill `hotslot recover` must leave
 * every device fully with a guest (in its PCI tree and on vfio-pci) or home (its original driver
 * and driver_override), and the journal with nothing open.
 */
const NIC = '0000:02:00.0';
const PAIR = ['0000:05:01.0', '0000:05:02.0'];
const HOME_DRIVER: Record<string, string> = { [NIC]: 'e1000e', [PAIR[0]]: 'e1000', [PAIR[1]]: 'e1000' };

interface Scenario {
  name: string;
  devices: string[];
  /** Puts the host where the operation starts from. */
  before: string[][];
  operation: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'attach', devices: [NIC], before: [], operation: ['attach', NIC, 'vm1'] },
  { name: 'attach --group of two functions', devices: PAIR, before: [], operation: ['attach', PAIR[0], 'vm1', '--group'] },
  { name: 'detach', devices: [NIC], before: [['attach', NIC, 'vm1']], operation: ['detach', NIC] },
  { name: 'move', devices: [NIC], before: [['attach', NIC, 'vm1']], operation: ['move', NIC, 'vm2'] },
];

interface Lab {
  snapshot: LabSnapshot;
  guests: SimulatedGuest[];
  args: string[];
  journal: Journal;
}

const labs: Lab[] = [];

async function openLab(): Promise<Lab> {
  const snapshot = await extractLabSnapshot('boot');
  const guests = ['vm1', 'vm2'].map(
    (name) => new SimulatedGuest({ name, socketPath: join(snapshot.dir, `${name}.qmp`), sysfsRoot: snapshot.sysfsRoot, rootPorts: 2, unplugDelayMs: 10 }),
  );
  for (const g of guests) await g.start();
  const state = join(snapshot.dir, 'state');
  const lab = {
    snapshot,
    guests,
    args: ['--sysfs-root', snapshot.sysfsRoot, '--proc-root', snapshot.procRoot, '--kernel', 'sim', '--state-dir', state],
    journal: new Journal(state),
  };
  labs.push(lab);
  return lab;
}

afterEach(async () => {
  for (const lab of labs.splice(0)) {
    await Promise.all(lab.guests.map((g) => g.stop()));
    lab.snapshot.remove();
  }
});

const guestArgs = (lab: Lab) => lab.guests.flatMap((g) => ['--guest', `${g.opts.name}=${g.opts.socketPath}`]);

async function prepare(s: Scenario): Promise<Lab> {
  const lab = await openLab();
  for (const step of s.before) {
    const r = await hotslot([...lab.args, ...guestArgs(lab), ...step, '--yes']);
    expect(r.status, `${step.join(' ')}: ${r.stderr}`).toBe(0);
  }
  return lab;
}

/** `intent`, each step by name and device, `end done`: what one operation wrote, in order. */
const label = (r: JournalRecord) => (r.kind === 'step' ? `step ${r.step}${r.bdf ? ` ${r.bdf}` : ''}` : r.kind === 'end' ? `end ${r.outcome}` : r.kind);

/** The records of the last operation in the journal. */
function lastOperation(journal: Journal): JournalRecord[] {
  const records = journal.read();
  const opId = records.filter((r) => r.kind === 'intent').at(-1)?.opId;
  return records.filter((r) => r.kind !== 'origins' && r.opId === opId);
}

function driverOf(lab: Lab, bdf: string): string | null {
  try {
    return basename(readlinkSync(join(lab.snapshot.sysfsRoot, 'bus/pci/devices', bdf, 'driver')));
  } catch {
    return null;
  }
}

const overrideOf = (lab: Lab, bdf: string) => readFileSync(join(lab.snapshot.sysfsRoot, 'bus/pci/devices', bdf, 'driver_override'), 'utf8').trim();

/** Where a device is: with exactly one guest on vfio-pci, home on its own driver, or in between (an error). */
function settledPlace(lab: Lab, bdf: string): string {
  const holders = lab.guests.filter((g) => g.held().includes(bdf)).map((g) => g.opts.name);
  const driver = driverOf(lab, bdf);
  const override = overrideOf(lab, bdf);
  if (holders.length === 1 && driver === 'vfio-pci') return `with ${holders[0]}`;
  if (holders.length === 0 && driver === HOME_DRIVER[bdf] && override === '(null)') return 'home';
  return `half-way: held by [${holders.join(', ')}], driver ${driver ?? 'none'}, driver_override ${override}`;
}

describe('killed after each journalled step, `recover` settles every device', () => {
  it.each(SCENARIOS)('$name', { timeout: 180_000 }, async (s) => {
    const reference = await prepare(s);
    const done = await hotslot([...reference.args, ...guestArgs(reference), ...s.operation, '--yes']);
    expect(done.status, done.stderr).toBe(0);
    const steps = lastOperation(reference.journal).map(label);
    expect(steps[0]).toBe('intent');
    expect(steps.at(-1)).toBe('end done');
    expect(steps.filter((l) => l.startsWith('step ')).length).toBeGreaterThanOrEqual(3);

    const places = new Set<string>();
    const killAndRecover = async (k: number) => {
      const lab = await prepare(s);
      const killed = await hotslot([...lab.args, ...guestArgs(lab), ...s.operation, '--yes'], { env: { HOTSLOT_TEST_CRASH_AFTER_RECORD: String(k) } });
      const at = `killed after record ${k} (${steps[k - 1]})`;
      expect(killed.signal, `${at}: ${killed.stderr}`).toBe('SIGKILL');
      // The run stopped exactly where the reference run wrote the same record.
      expect(lastOperation(lab.journal).map(label), at).toEqual(steps.slice(0, k));

      // No --guest: recover finds the guests' sockets in the journal.
      const r = await hotslot([...lab.args, 'recover', '--json']);
      expect(r.status, `${at}: ${r.stderr}${r.stdout}`).toBe(0);
      expect(lab.journal.open(), at).toEqual([]);
      for (const bdf of s.devices) {
        const place = settledPlace(lab, bdf);
        expect(place, `${at}: ${bdf}`).toMatch(/^(with vm[12]|home)$/);
        places.add(place);
      }
    };
    // A few labs at a time: each is its own tree, guests and journal.
    const pending = steps.map((_, i) => i + 1);
    const worker = async () => {
      for (let k = pending.shift(); k !== undefined; k = pending.shift()) await killAndRecover(k);
    };
    await Promise.all([worker(), worker(), worker()]);
    // Early kills leave it where it started, late ones where it was going: both ends were seen.
    expect(places.size, [...places].join(', ')).toBeGreaterThanOrEqual(2);
  });
});
