/**
 * `hotslot list --json` on the project's own snapshots of the lab host's real sysfs
 * (test/fixtures/lab-*.tar.gz, taken by `hotslot snapshot` inside the lab: `npm run lab --
 * --save-snapshots`), held against what lspci printed on the live lab host at the same moment,
 * and against what LAB.md reports of that kernel.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDevice } from '../../src/host/host-device.js';
import { extractProjectSnapshot, projectSnapshotNames, type LabSnapshot } from '../support/lab-snapshot.js';
import { lspciNnK, lspciVvv } from '../support/lspci-oracle.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const names = projectSnapshotNames();

function listJson(snap: LabSnapshot): HostDevice[] {
  const r = spawnSync(process.execPath, [CLI, '--sysfs-root', snap.sysfsRoot, '--proc-root', snap.procRoot, 'list', '--json', '--all'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as HostDevice[];
}

const byIds = (devices: HostDevice[], ids: string) => devices.filter((d) => `${d.vendorId}:${d.deviceId}` === ids);

it('the project carries real-kernel snapshots from the lab (lab-boot at least)', () => {
  expect(names).toContain('lab-boot');
});

for (const name of names) {
  describe(`test/fixtures/${name}.tar.gz`, () => {
    let snap: LabSnapshot;
    let devices: HostDevice[];
    let byBdf: Map<string, HostDevice>;
    const oracle = (f: string) => readFileSync(join(snap.oracleDir, f), 'utf8');
    beforeAll(async () => {
      snap = await extractProjectSnapshot(name);
      devices = listJson(snap);
      byBdf = new Map(devices.map((d) => [d.bdf, d]));
    });
    afterAll(() => snap.remove());

    it('lists the BDFs, ids, classes and drivers lspci -D -nn -k printed on the lab host', () => {
      const nnk = lspciNnK(oracle('lspci-D-nn-k.txt'));
      expect(devices.map((d) => d.bdf)).toEqual([...nnk.keys()].sort());
      for (const [bdf, o] of nnk) {
        const d = byBdf.get(bdf);
        expect(`${d?.vendorId.slice(2)}:${d?.deviceId.slice(2)}`, bdf).toBe(o.ids);
        expect(d?.classCode.slice(2, 6), bdf).toBe(o.cls);
        expect(d?.driver ?? null, bdf).toBe(o.driver);
      }
    });

    it('has the IOMMU groups and the MSI / MSI-X state that lspci -vvv printed', () => {
      for (const [bdf, l] of lspciVvv(oracle('lspci-D-vvv.txt'))) {
        const d = byBdf.get(bdf);
        expect(d?.iommuGroup, bdf).toBe(l.group);
        expect(d?.interrupts.msix.enabled, bdf).toBe(l.msix);
        expect(d?.interrupts.msi.enabled, bdf).toBe(l.msi);
        if (l.msix) expect(d?.interrupts.mode, bdf).toBe('msix');
        if (l.numVFs !== null) expect(d?.sriov?.numVFs, bdf).toBe(l.numVFs);
      }
    });

    it('shows what LAB.md reports of the kernel: resets per device and the bridge group of the two e1000', () => {
      const [igb] = byIds(devices, '0x8086:0x10c9');
      const [e1000e] = byIds(devices, '0x8086:0x10d3');
      const [nvme] = byIds(devices, '0x1b36:0x0010');
      const e1000s = byIds(devices, '0x8086:0x100e');
      expect(igb.reset.methods).toEqual(['flr', 'pm', 'bus']);
      expect(igb.interrupts.mode).toBe('msix');
      expect(e1000e.reset.methods).toEqual(['pm', 'bus']);
      expect(nvme.reset.methods).toEqual(['flr', 'bus']);
      expect(e1000s).toHaveLength(2);
      const group = e1000s[0].iommuGroup;
      expect(e1000s[1].iommuGroup).toBe(group);
      const members = devices.filter((d) => d.iommuGroup === group);
      expect(members.map((d) => d.headerType).sort()).toEqual(['bridge', 'endpoint', 'endpoint']);
      for (const d of e1000s) {
        expect(d.interrupts.mode, d.bdf).toBe('intx');
        expect(d.assignable.ok, d.bdf).toBe(false);
      }
      // With its sibling bound to e1000, the group is not viable, and the reason says who holds it.
      const sibling = e1000s[1];
      const why = e1000s[0].assignable.reasons.find((r) => r.code === 'group-not-viable');
      expect(why?.message).toContain(`${sibling.bdf} (${sibling.driver})`);
    });

    it('offers the e1000e, alone in its group with a PM reset, when it is on its host driver', () => {
      const [e1000e] = byIds(devices, '0x8086:0x10d3');
      expect(devices.filter((d) => d.iommuGroup === e1000e.iommuGroup)).toHaveLength(1);
      if (e1000e.driver === 'e1000e') expect(e1000e.assignable).toEqual({ ok: true, reasons: [] });
    });

    it('shows every VF of the igb in a group of its own, with FLR, and one on vfio-pci when a guest has it', () => {
      const [igb] = byIds(devices, '0x8086:0x10c9');
      const vfs = (igb.virtfns ?? []).map((b) => byBdf.get(b));
      expect(vfs).toHaveLength(igb.sriov?.numVFs ?? -1);
      for (const vf of vfs) {
        expect(vf?.physfn, vf?.bdf).toBe(igb.bdf);
        expect(devices.filter((d) => d.iommuGroup === vf?.iommuGroup), vf?.bdf).toHaveLength(1);
        expect(vf?.reset.methods, vf?.bdf).toEqual(['flr']);
      }
      if (name === 'lab-vf-in-guest') {
        expect(vfs.map((v) => v?.driver)).toContain('vfio-pci');
        expect(vfs.find((v) => v?.driver === 'vfio-pci')?.owner).toEqual({ kind: 'vfio' });
      }
    });
  });
}
