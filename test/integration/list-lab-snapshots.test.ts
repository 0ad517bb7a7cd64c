/**
 * `hotslot list --json` (the built CLI) on the real-kernel snapshots of
 * ../shared/corpus/lab-sysfs, against what the lab's own tools said at the same moment
 * (oracle/lspci-D-nn-k.txt, lspci-D-vvv.txt, state.txt): BDFs, ids, drivers, IOMMU groups, reset
 * methods, interrupt modes, and the verdicts its README describes. Expected values are read from
 * the oracle files wherever they say them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractLabSnapshot } from '../support/lab-snapshot.js';
import { lspciNnK, lspciVvv, nonEmpty } from '../support/lspci-oracle.js';
import type { HostDevice } from '../../src/host/host-device.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');

interface Snapshot {
  sys: string;
  proc: string;
  oracle: (name: string) => string;
  remove(): void;
}

async function extract(name: 'boot' | 'assigned'): Promise<Snapshot> {
  const lab = await extractLabSnapshot(name);
  return { sys: lab.sysfsRoot, proc: lab.procRoot, oracle: (f) => readFileSync(join(lab.oracleDir, f), 'utf8'), remove: () => lab.remove() };
}

function hotslot(snap: Snapshot, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, '--sysfs-root', snap.sys, '--proc-root', snap.proc, ...args], { encoding: 'utf8' });
}

function listJson(snap: Snapshot): HostDevice[] {
  const r = hotslot(snap, 'list', '--json', '--all');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as HostDevice[];
}

/** `state.txt`: per BDF the driver, group, reset_method (null when absent), msi_irqs and override. */
function stateTxt(text: string) {
  const devices = new Map<string, { driver: string | null; group: number; reset: string[] | null; msiIrqs: number; override: string | null }>();
  const groups = new Map<number, string[]>();
  for (const line of text.split('\n')) {
    const d = /^\[[^\]]*\] (\S+) driver=(\S*) group=(\d+) reset_method=(.*) msi_irqs=(\S*) override=(\S+)$/.exec(line);
    if (d) {
      devices.set(d[1], {
        driver: d[2] || null,
        group: Number(d[3]),
        reset: d[4] === '<absent>' ? null : d[4].trim().split(' '),
        msiIrqs: d[5].split(',').filter((x) => x !== '').length,
        override: d[6] === '(null)' ? null : d[6],
      });
    }
    const g = /^iommu_group (\d+): (.*?)\s+type=/.exec(line);
    if (g) groups.set(Number(g[1]), g[2].trim().split(/\s+/));
  }
  return { devices: nonEmpty(devices, 'state.txt devices'), groups: nonEmpty(groups, 'state.txt groups'), text };
}

const codes = (d: HostDevice | undefined) => d?.assignable.reasons.map((r) => r.code) ?? [];
const reason = (d: HostDevice | undefined, code: string) => d?.assignable.reasons.find((r) => r.code === code);

/** The function a class/net or bus/virtio link leads to, read by the test itself. */
const bdfOfLink = (link: string) => [...readlinkSync(link).matchAll(/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/g)].pop()?.[0];

for (const name of ['boot', 'assigned'] as const) {
  describe(`the ${name} snapshot`, () => {
    let snap: Snapshot;
    let devices: HostDevice[];
    let byBdf: Map<string, HostDevice>;
    beforeAll(async () => {
      snap = await extract(name);
      devices = listJson(snap);
      byBdf = new Map(devices.map((d) => [d.bdf, d]));
    });
    afterAll(() => snap.remove());

    it('lists the BDFs, ids, classes and drivers that lspci -D -nn -k printed', () => {
      const oracle = lspciNnK(snap.oracle('lspci-D-nn-k.txt'));
      expect(devices.map((d) => d.bdf)).toEqual([...oracle.keys()].sort());
      for (const [bdf, o] of oracle) {
        const d = byBdf.get(bdf);
        expect(`${d?.vendorId.slice(2)}:${d?.deviceId.slice(2)}`, bdf).toBe(o.ids);
        expect(d?.classCode.slice(2, 6), bdf).toBe(o.cls);
        expect(d?.driver ?? null, bdf).toBe(o.driver);
      }
    });

    it('has the IOMMU groups, reset methods and driver overrides of state.txt', () => {
      const state = stateTxt(snap.oracle('state.txt'));
      for (const [bdf, s] of state.devices) {
        const d = byBdf.get(bdf);
        expect(d?.iommuGroup, bdf).toBe(s.group);
        expect(d?.driver ?? null, bdf).toBe(s.driver);
        expect(d?.reset.methods, bdf).toEqual(s.reset ?? []);
        expect(d?.resetFile, bdf).toBe(s.reset !== null);
        expect(d?.driverOverride, bdf).toBe(s.override);
      }
      for (const [group, members] of state.groups) {
        expect(devices.filter((d) => d.iommuGroup === group).map((d) => d.bdf), `group ${group}`).toEqual(members);
      }
    });

    it('has the interrupt modes that msi_irqs and lspci -vvv show', () => {
      const state = stateTxt(snap.oracle('state.txt'));
      const vvv = lspciVvv(snap.oracle('lspci-D-vvv.txt'));
      for (const [bdf, s] of state.devices) {
        const l = vvv.get(bdf);
        const d = byBdf.get(bdf);
        let expected: string;
        if (s.msiIrqs > 0) expected = l?.msix ? 'msix' : 'msi';
        else expected = l?.pin && s.driver && s.driver !== 'vfio-pci' ? 'intx' : 'none';
        expect(d?.interrupts.mode, bdf).toBe(expected);
        if (s.msiIrqs > 0 && expected === 'msi') expect(d?.interrupts.msi.vectors, bdf).toBe(s.msiIrqs);
      }
    });

    it('protects the host bridge, the root filesystem (9p, by mount tag) and the NIC of the default route', () => {
      const route = /^default via \S+ dev (\S+)/m.exec(snap.oracle('state.txt'))?.[1];
      expect(route).toBeDefined();
      const nic = bdfOfLink(join(snap.sys, 'class/net', route ?? ''));
      expect(byBdf.get(nic ?? '')?.protected.map((p) => p.kind)).toEqual(['default-route']);
      expect(reason(byBdf.get(nic ?? ''), 'protected')?.message).toContain(`(${route})`);

      const rootTag = /^\/ (\S+) 9p$/m.exec(snap.oracle('state.txt'))?.[1];
      const virtio = join(snap.sys, 'bus/virtio/devices');
      const rootFn = readdirSync(virtio)
        .map((v) => join(virtio, v))
        .find((v) => {
          try {
            return readFileSync(join(v, 'mount_tag'), 'latin1').replace(/\0/g, '') === rootTag;
          } catch {
            return false;
          }
        });
      expect(rootFn).toBeDefined();
      expect(byBdf.get(bdfOfLink(rootFn ?? '') ?? '')?.protected.map((p) => p.kind)).toEqual(['root-filesystem']);

      for (const d of devices.filter((x) => x.classCode.startsWith('0x0600'))) expect(d.protected.map((p) => p.kind)).toEqual(['host-bridge']);
    });

    it('protects the NVMe for its filesystem on /mnt, reached through nvme-subsys0, but not as the root', () => {
      const mnt = /^(\/mnt) (\/dev\/(\S+)) \S+$/m.exec(snap.oracle('state.txt'));
      expect(mnt).not.toBeNull();
      const oracle = lspciNnK(snap.oracle('lspci-D-nn-k.txt'));
      const nvme = [...oracle].find(([, o]) => o.cls === '0108')?.[0];
      const d = byBdf.get(nvme ?? '');
      expect(d?.protected.map((p) => p.kind)).toEqual(['mounted-filesystem']);
      expect(d?.protected[0].message).toContain(`on ${mnt?.[1]}`);
      expect(d?.assignable.ok).toBe(false);
    });

    it('never offers bridges, and says the conventional e1000s sit behind the PCI bridge of their bus', () => {
      const oracle = lspciNnK(snap.oracle('lspci-D-nn-k.txt'));
      const bridges = [...oracle].filter(([, o]) => o.cls === '0604').map(([b]) => b);
      for (const b of bridges) expect(codes(byBdf.get(b)), b).toEqual(['not-endpoint']);
      const pciBridge = bridges.find((b) => !byBdf.get(b)?.pcieType);
      expect(pciBridge).toBeDefined();
      for (const d of devices.filter((x) => x.parents[0] === pciBridge)) {
        expect(reason(d, 'behind-pci-bridge')?.message, d.bdf).toContain(`bridge ${pciBridge}`);
      }
    });

    it('refuses 05:01.0, whose only reset is a bus reset shared with 05:02.0, and 05:02.0, which has no reset at all', () => {
      const state = stateTxt(snap.oracle('state.txt'));
      expect(state.devices.get('0000:05:01.0')?.reset).toEqual(['bus']);
      expect(reason(byBdf.get('0000:05:01.0'), 'reset-hits-others')?.message).toContain('0000:05:02.0');
      expect(state.devices.get('0000:05:02.0')?.reset).toBeNull();
      expect(codes(byBdf.get('0000:05:02.0'))).toContain('no-reset');
      expect(byBdf.get('0000:05:02.0')?.assignable.ok).toBe(false);
    });
  });
}

describe('the assigned snapshot, by the README', () => {
  let snap: Snapshot;
  let byBdf: Map<string, HostDevice>;
  beforeAll(async () => {
    snap = await extract('assigned');
    byBdf = new Map(listJson(snap).map((d) => [d.bdf, d]));
  });
  afterAll(() => snap.remove());

  it('finds group 11 not viable for 05:01.0 on vfio-pci, naming 05:02.0 and the driver it keeps', () => {
    const state = stateTxt(snap.oracle('state.txt'));
    expect(state.groups.get(11)).toEqual(['0000:04:00.0', '0000:05:01.0', '0000:05:02.0']);
    const sibling = state.devices.get('0000:05:02.0')?.driver;
    expect(sibling).toBe('e1000');
    const d = byBdf.get('0000:05:01.0');
    expect(d?.owner).toEqual({ kind: 'vfio' });
    expect(reason(d, 'group-not-viable')?.message).toContain(`0000:05:02.0 (${sibling})`);
    expect(d?.assignable.ok).toBe(false);
  });

  it('shows check --json with the members of the group and their drivers', () => {
    const r = hotslot(snap, 'check', '0000:05:01.0', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as HostDevice & { groupMembers: { bdf: string; driver: string | null }[] };
    const state = stateTxt(snap.oracle('state.txt'));
    expect(out.groupMembers.map((m) => [m.bdf, m.driver])).toEqual(
      (state.groups.get(11) ?? []).filter((b) => b !== '0000:05:01.0').map((b) => [b, state.devices.get(b)?.driver ?? null]),
    );
  });

  it('offers the vfio-bound e1000e and both VFs, each alone in its group with FLR or PM reset', () => {
    const state = stateTxt(snap.oracle('state.txt'));
    const vvv = lspciVvv(snap.oracle('lspci-D-vvv.txt'));
    for (const [bdf, s] of state.devices) {
      if (s.driver !== 'vfio-pci' && s.driver !== 'igbvf') continue;
      if ((state.groups.get(s.group) ?? []).length > 1) continue;
      expect(byBdf.get(bdf)?.assignable, bdf).toEqual({ ok: true, reasons: [] });
    }
    const vfs = snap
      .oracle('lspci-D-nn-k.txt')
      .split('\n')
      .filter((l) => /^[0-9a-f]{4}:.* Virtual Function \[/.test(l))
      .map((l) => l.slice(0, 12));
    expect(vfs.length).toBeGreaterThan(0);
    const pf = byBdf.get(byBdf.get(vfs[0])?.physfn ?? '');
    expect(pf?.virtfns).toEqual(vfs);
    expect(pf?.sriov?.numVFs).toBe(vvv.get(pf?.bdf ?? '')?.numVFs);
    expect(pf?.virtfns).toHaveLength(pf?.sriov?.numVFs ?? -1);
  });

  it('is read the same by lspci through sysfs.path as by the lab kernel', () => {
    const oracle = lspciNnK(snap.oracle('lspci-D-nn-k.txt'));
    const viaTree = lspciNnK(
      execFileSync('lspci', ['-D', '-nn', '-k', '-O', `sysfs.path=${join(snap.sys, 'bus/pci')}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    expect([...viaTree]).toEqual([...oracle]);
  });
});
