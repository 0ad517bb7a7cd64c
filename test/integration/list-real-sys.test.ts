/**
 * This machine's own /sys and /proc, read only, through the built CLI with its default roots:
 * `list --json --all` agrees with `lspci -D -nn -k`, and the devices under the root filesystem and
 * the default route, found here by other means (findmnt, ip route, the kernel's links), are
 * protected.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostDevice } from '../../src/host/host-device.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const BDF = /[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/g;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
/** The PCI function nearest the end of a resolved sysfs path. */
const lastBdf = (p: string) => [...p.matchAll(BDF)].pop()?.[0];

let devices: HostDevice[];
let byBdf: Map<string, HostDevice>;

beforeAll(() => {
  const r = spawnSync(process.execPath, [CLI, 'list', '--json', '--all'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  devices = JSON.parse(r.stdout) as HostDevice[];
  byBdf = new Map(devices.map((d) => [d.bdf, d]));
});

describe('list on this machine', () => {
  it('agrees with lspci -D -nn -k on BDFs, ids and drivers', () => {
    const lspci = new Map<string, { ids: string; driver: string | null }>();
    for (const chunk of sh('lspci', ['-D', '-nn', '-k']).split(/\n(?=[0-9a-f]{4}:)/)) {
      const m = /^(\S+) .*\[([0-9a-f]{4}:[0-9a-f]{4})\]/.exec(chunk);
      if (m) lspci.set(m[1], { ids: m[2], driver: /Kernel driver in use: (\S+)/.exec(chunk)?.[1] ?? null });
    }
    expect(lspci.size).toBeGreaterThan(0);
    expect(devices.map((d) => d.bdf)).toEqual([...lspci.keys()].sort());
    for (const [bdf, l] of lspci) {
      const d = byBdf.get(bdf);
      expect(`${d?.vendorId.slice(2)}:${d?.deviceId.slice(2)}`, bdf).toBe(l.ids);
      expect(d?.driver ?? null, bdf).toBe(l.driver);
    }
  });

  it('says whether there is an IOMMU as /sys/kernel/iommu_groups does', () => {
    const groups = existsSync('/sys/kernel/iommu_groups') ? readdirSync('/sys/kernel/iommu_groups') : [];
    for (const d of devices) {
      expect(d.assignable.reasons.some((r) => r.code === 'no-iommu'), d.bdf).toBe(groups.length === 0);
    }
  });

  it('protects the device that holds the root filesystem', () => {
    const majMin = sh('findmnt', ['-n', '-o', 'MAJ:MIN', '/']).trim();
    const bdf = lastBdf(realpathSync(`/sys/dev/block/${majMin}`));
    expect(bdf, `root filesystem ${majMin}`).toBeDefined();
    const d = byBdf.get(bdf ?? '');
    expect(d?.protected.map((p) => p.kind)).toContain('root-filesystem');
    expect(d?.assignable.ok).toBe(false);
    expect(d?.assignable.reasons.map((r) => r.code)).toContain('protected');
  });

  it('protects the NIC that carries the default route', () => {
    const dev = /\bdev (\S+)/.exec(sh('ip', ['route', 'show', 'default']))?.[1];
    expect(dev).toBeDefined();
    const bdf = lastBdf(realpathSync(`/sys/class/net/${dev}/device`));
    const d = byBdf.get(bdf ?? '');
    expect(d?.protected.map((p) => p.kind)).toContain('default-route');
    expect(d?.protected.find((p) => p.kind === 'default-route')?.message).toContain(`(${dev})`);
  });

  it('leaves the other devices unprotected unless they are host bridges', () => {
    const majMin = sh('findmnt', ['-n', '-o', 'MAJ:MIN', '/']).trim();
    const dev = /\bdev (\S+)/.exec(sh('ip', ['route', 'show', 'default']))?.[1];
    const kept = new Set([lastBdf(realpathSync(`/sys/dev/block/${majMin}`)), lastBdf(realpathSync(`/sys/class/net/${dev}/device`))]);
    for (const d of devices) {
      if (kept.has(d.bdf)) continue;
      const expected = d.classCode.startsWith('0x0600') ? ['host-bridge'] : [];
      expect(d.protected.map((p) => p.kind).filter((k) => k !== 'mounted-filesystem' && k !== 'swap'), d.bdf).toEqual(expected);
    }
  });
});
