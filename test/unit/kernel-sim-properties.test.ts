/**
 * Whatever the port does to the simulated kernel, and whichever write fails, the tree stays one
 * that Linux could show: links both ways for every bind, VFs matching the PF's count, groups
 * matching their members, and lspci still reads it all.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { KernelError, SimulatedKernel, type KernelPort } from '../../src/kernel/index.js';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';

const IGB = '0000:01:00.0';
const TARGETS = ['0000:02:00.0', '0000:03:00.0', '0000:05:01.0', '0000:05:02.0', '0000:04:00.0', '0000:01:10.0', IGB];
const ERRNOS = ['EIO', 'EBUSY', 'ENODEV', 'EINVAL', 'ENOTTY', 'EACCES'];

type Step =
  | { kind: 'unbind' | 'clear' | 'probe'; bdf: string }
  | { kind: 'override'; bdf: string; driver: string }
  | { kind: 'reset'; bdf: string; method?: 'flr' | 'pm' | 'bus' }
  | { kind: 'vfs'; count: number }
  | { kind: 'fault'; errno: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('unbind' as const, 'clear' as const, 'probe' as const), bdf: fc.constantFrom(...TARGETS) }),
  fc.record({ kind: fc.constant('override' as const), bdf: fc.constantFrom(...TARGETS), driver: fc.constantFrom('vfio-pci', 'e1000e', 'igbvf') }),
  fc.record({ kind: fc.constant('reset' as const), bdf: fc.constantFrom(...TARGETS), method: fc.option(fc.constantFrom('flr' as const, 'pm' as const, 'bus' as const), { nil: undefined }) }),
  fc.record({ kind: fc.constant('vfs' as const), count: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('fault' as const), errno: fc.constantFrom(...ERRNOS) }),
);

async function apply(sim: SimulatedKernel, port: KernelPort, s: Step): Promise<void> {
  switch (s.kind) {
    case 'fault':
      return sim.failNext({ errno: s.errno });
    case 'unbind':
      await port.unbind(s.bdf);
      return;
    case 'clear':
      return port.clearDriverOverride(s.bdf);
    case 'probe':
      return port.driversProbe(s.bdf);
    case 'override':
      return port.setDriverOverride(s.bdf, s.driver);
    case 'reset':
      await port.reset(s.bdf, s.method);
      return;
    case 'vfs':
      return port.setNumVfs(IGB, s.count, { throughZero: true });
  }
}

function checkTree(root: string): void {
  const devices = join(root, 'bus/pci/devices');
  const bdfs = readdirSync(devices);
  for (const bdf of bdfs) {
    const dir = realpathSync(join(devices, bdf));
    const override = readFileSync(join(dir, 'driver_override'), 'utf8');
    expect(override).toMatch(/^(\(null\)|[a-z0-9_-]+)\n$/);
    if (existsSync(join(dir, 'driver'))) {
      const driver = readlinkSync(join(dir, 'driver')).split('/').at(-1) ?? '';
      expect(realpathSync(join(root, 'bus/pci/drivers', driver, bdf))).toBe(dir);
      if (driver === 'vfio-pci') expect(existsSync(join(dir, 'msi_irqs'))).toBe(false);
    }
    if (existsSync(join(dir, 'iommu_group'))) {
      const group = realpathSync(join(dir, 'iommu_group'));
      expect(realpathSync(join(group, 'devices', bdf))).toBe(dir);
    }
    if (existsSync(join(dir, 'physfn'))) expect(realpathSync(join(dir, 'physfn'))).toBe(realpathSync(join(devices, IGB)));
  }
  for (const driver of readdirSync(join(root, 'bus/pci/drivers'))) {
    for (const bdf of readdirSync(join(root, 'bus/pci/drivers', driver)).filter((n) => n.startsWith('0000:'))) {
      expect(readlinkSync(join(devices, bdf, 'driver')).endsWith(`/${driver}`)).toBe(true);
    }
  }
  for (const group of readdirSync(join(root, 'kernel/iommu_groups'))) {
    const members = readdirSync(join(root, 'kernel/iommu_groups', group, 'devices'));
    expect(members.length).toBeGreaterThan(0);
    for (const m of members) expect(bdfs).toContain(m);
  }
  const pf = realpathSync(join(devices, IGB));
  const numVfs = parseInt(readFileSync(join(pf, 'sriov_numvfs'), 'utf8'), 10);
  const virtfns = readdirSync(pf).filter((n) => n.startsWith('virtfn'));
  expect(virtfns.length).toBe(numVfs);
  expect(bdfs.filter((b) => b.startsWith('0000:01:1')).length).toBe(numVfs);
  const lspci = execFileSync('lspci', ['-D', '-O', `sysfs.path=${root}/bus/pci`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  expect(lspci.trim().split('\n').length).toBe(bdfs.length);
}

describe('simulated kernel, random operations and faults', () => {
  const snaps: LabSnapshot[] = [];
  afterAll(() => snaps.forEach((s) => s.remove()));

  it('keeps the tree consistent and readable after every sequence, failing or not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const snap = await extractLabSnapshot('boot');
        snaps.push(snap);
        try {
          const sim = SimulatedKernel.open(snap.sysfsRoot);
          for (const s of steps) {
            try {
              await apply(sim, sim.port, s);
            } catch (err) {
              // Refusals are part of the game; anything else is a bug in the simulator or the port.
              if (!(err instanceof KernelError)) throw err;
              expect(err.message).toContain(err.bdf);
              expect(err.message).toContain(err.code);
            }
          }
          checkTree(snap.sysfsRoot);
        } finally {
          snap.remove();
          snaps.pop();
        }
      }),
      { numRuns: 30 },
    );
  });
});
