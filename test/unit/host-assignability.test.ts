/**
 * One fixture tree per assignability rule: each is a small host built with the sysfs builder,
 * read back through the real reader, and judged. Every rule is shown both firing and not firing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostDevice } from '../../src/host/host-device.js';
import { scanHost, type HostInventory } from '../../src/host/inventory.js';
import { buildHostTree, type FunctionSpec, type HostSpec } from '../../src/host/sysfs-builder.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function host(spec: HostSpec, protect: string[] = []): HostInventory {
  const dir = mkdtempSync(join(tmpdir(), 'hotslot-assign-'));
  made.push(dir);
  const t = buildHostTree(dir, spec);
  return scanHost({ sysfsRoot: t.sysfsRoot, procRoot: t.procRoot, protect, configFile: '/etc/hotslot.json' });
}

const hostBridge: FunctionSpec = { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0 };
const rootPort = (bdf: string, group: number): FunctionSpec => ({
  bdf,
  vendorId: 0x1b36,
  deviceId: 0x000c,
  classCode: 0x060400,
  driver: 'pcieport',
  iommuGroup: group,
  msix: { tableSize: 1, enabled: 1 },
});
const nic = (bdf: string, parent: string | undefined, group: number | null, extra: Partial<FunctionSpec> = {}): FunctionSpec => ({
  bdf,
  parent,
  vendorId: 0x8086,
  deviceId: 0x10d3,
  classCode: 0x020000,
  driver: 'e1000e',
  iommuGroup: group,
  pcie: { type: 'endpoint', flr: true },
  msix: { tableSize: 5, enabled: 3 },
  bars: [{ index: 0, size: 0x20000 }],
  ...extra,
});

const codes = (d: HostDevice | undefined) => d?.assignable.reasons.map((r) => r.code) ?? ['<missing device>'];
const reason = (d: HostDevice | undefined, code: string) => d?.assignable.reasons.find((r) => r.code === code);

describe('a healthy endpoint', () => {
  it('behind its own root port, in its own group, with FLR, is assignable with no reasons', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2)] });
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.assignable).toEqual({ ok: true, reasons: [] });
    expect(d?.reset.methods).toEqual(['flr', 'pm', 'bus']);
    expect(d?.reset.busResetPossible).toBe(true);
  });
});

describe('no-iommu', () => {
  it('blocks every device when /sys/kernel/iommu_groups is missing, without also claiming a missing group', () => {
    const inv = host({ iommu: false, functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2)] });
    expect(inv.iommu).toBe(false);
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.assignable.ok).toBe(false);
    expect(codes(d)).toEqual(['no-iommu']);
    expect(reason(d, 'no-iommu')?.message).toMatch(/intel_iommu=on/);
  });
});

describe('no-iommu-group', () => {
  it('blocks a function the IOMMU does not cover while others have groups', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', null)] });
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.iommuGroup).toBeNull();
    expect(codes(d)).toEqual(['no-iommu-group']);
    expect(d?.assignable.ok).toBe(false);
  });
});

describe('not-endpoint', () => {
  it('blocks a bridge, and says it is a bridge', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2)] });
    const port = inv.byBdf.get('0000:00:10.0');
    expect(port?.headerType).toBe('bridge');
    expect(codes(port)).toEqual(['not-endpoint']);
    expect(reason(port, 'not-endpoint')?.message).toMatch(/bridge/);
  });
});

describe('protected', () => {
  const spec: HostSpec = {
    functions: [
      hostBridge,
      rootPort('0000:00:10.0', 1),
      nic('0000:01:00.0', '0000:00:10.0', 2, { net: ['eth0'] }),
      rootPort('0000:00:11.0', 3),
      nic('0000:02:00.0', '0000:00:11.0', 4, {
        vendorId: 0x1af4,
        deviceId: 0x1042,
        classCode: 0x010000,
        driver: 'virtio-pci',
        block: [{ name: 'vda', majorMinor: '254:0', partitions: [{ name: 'vda1', majorMinor: '254:1' }] }],
      }),
      { bdf: '0000:00:02.0', vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, driver: 'bochs-drm', bootVga: true, iommuGroup: 5 },
      { bdf: '0000:00:03.0', vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, driver: 'bochs-drm', bootVga: false, iommuGroup: 6 },
      rootPort('0000:00:12.0', 7),
      nic('0000:03:00.0', '0000:00:12.0', 8),
    ],
    mounts: [{ source: '/dev/vda1', mountPoint: '/', fsType: 'ext4', majorMinor: '254:1' }],
    defaultRoute: 'eth0',
  };
  const inv = host(spec, ['0000:03:00.0']);
  const protectedBy = (bdf: string) => inv.byBdf.get(bdf)?.protected.map((p) => p.kind);

  it('keeps the host bridge', () => {
    expect(protectedBy('0000:00:00.0')).toEqual(['host-bridge']);
    expect(inv.byBdf.get('0000:00:00.0')?.assignable.ok).toBe(false);
  });
  it('keeps the disk under the root filesystem, found from a partition', () => {
    expect(protectedBy('0000:02:00.0')).toEqual(['root-filesystem']);
    expect(reason(inv.byBdf.get('0000:02:00.0'), 'protected')?.message).toBe('protected because it holds the root filesystem (/dev/vda1, ext4)');
  });
  it('keeps the NIC of the default route', () => {
    expect(protectedBy('0000:01:00.0')).toEqual(['default-route']);
    expect(reason(inv.byBdf.get('0000:01:00.0'), 'protected')?.message).toMatch(/default route \(eth0\)/);
  });
  it('keeps the boot VGA but not a second VGA', () => {
    expect(protectedBy('0000:00:02.0')).toEqual(['boot-vga']);
    expect(protectedBy('0000:00:03.0')).toEqual([]);
  });
  it('keeps a BDF of the config protect list and names the file', () => {
    expect(protectedBy('0000:03:00.0')).toEqual(['config']);
    expect(reason(inv.byBdf.get('0000:03:00.0'), 'protected')?.message).toMatch(/\/etc\/hotslot\.json/);
    expect(inv.byBdf.get('0000:03:00.0')?.assignable.ok).toBe(false);
  });
});

describe('group-not-viable', () => {
  const functions = (other: Partial<FunctionSpec>) => [
    hostBridge,
    rootPort('0000:00:10.0', 1),
    nic('0000:01:00.0', '0000:00:10.0', 2, { driver: 'vfio-pci', msix: { tableSize: 5 } }),
    nic('0000:01:00.1', '0000:00:10.0', 2, { deviceId: 0x10d4, ...other }),
  ];

  it('blocks while another endpoint of the group is on a host driver, naming it and its driver', () => {
    const inv = host({ functions: functions({ driver: 'igb' }) });
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.assignable.ok).toBe(false);
    expect(reason(d, 'group-not-viable')?.message).toMatch(/IOMMU group 2 is not viable: 0000:01:00\.1 \(igb\)/);
  });
  it('is viable once the other endpoint is unbound', () => {
    const inv = host({ functions: functions({ driver: null }) });
    expect(codes(inv.byBdf.get('0000:01:00.0'))).not.toContain('group-not-viable');
  });
  it('is viable when the other endpoint is on vfio-pci', () => {
    const inv = host({ functions: functions({ driver: 'vfio-pci' }) });
    expect(codes(inv.byBdf.get('0000:01:00.0'))).not.toContain('group-not-viable');
  });
  it('ignores a bound bridge in the group', () => {
    const inv = host({
      functions: [hostBridge, { ...rootPort('0000:00:10.0', 2) }, nic('0000:01:00.0', '0000:00:10.0', 2, { driver: 'vfio-pci', msix: { tableSize: 5 } })],
    });
    expect(codes(inv.byBdf.get('0000:01:00.0'))).not.toContain('group-not-viable');
  });
});

describe('behind-pci-bridge', () => {
  const pciBridge: FunctionSpec = {
    bdf: '0000:04:00.0',
    parent: '0000:00:13.0',
    vendorId: 0x1b36,
    deviceId: 0x0001,
    classCode: 0x060400,
    pcie: null,
    iommuGroup: 11,
  };
  const conventional = (bdf: string, parent: string, group: number): FunctionSpec =>
    nic(bdf, parent, group, { deviceId: 0x100e, driver: 'e1000', pcie: null, msix: null, resetMethods: ['pm'] });

  it('warns that a conventional function behind a PCIe-to-PCI bridge goes with the whole bus, and still allows it', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:13.0', 6), pciBridge, conventional('0000:05:01.0', '0000:04:00.0', 11)] });
    const d = inv.byBdf.get('0000:05:01.0');
    const r = reason(d, 'behind-pci-bridge');
    expect(r?.severity).toBe('warning');
    expect(r?.message).toMatch(/PCIe-to-PCI bridge 0000:04:00\.0/);
    expect(d?.assignable.ok).toBe(true);
  });
  it('names every function behind the bridge', () => {
    const inv = host({
      functions: [
        hostBridge,
        rootPort('0000:00:13.0', 6),
        pciBridge,
        conventional('0000:05:01.0', '0000:04:00.0', 11),
        { ...conventional('0000:05:02.0', '0000:04:00.0', 11), driver: 'vfio-pci' },
      ],
    });
    expect(reason(inv.byBdf.get('0000:05:01.0'), 'behind-pci-bridge')?.message).toMatch(/0000:05:01\.0 and 0000:05:02\.0/);
  });
  it('does not fire for a conventional function plugged straight into a PCIe root port', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:13.0', 6), conventional('0000:01:00.0', '0000:00:13.0', 7)] });
    expect(codes(inv.byBdf.get('0000:01:00.0'))).not.toContain('behind-pci-bridge');
  });
});

describe('bar-not-page-aligned', () => {
  it('warns about a memory BAR smaller than a page, with its index and size', () => {
    const inv = host({
      functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2, { bars: [{ index: 0, size: 0x20000 }, { index: 2, size: 0x100 }] })],
    });
    const d = inv.byBdf.get('0000:01:00.0');
    const r = reason(d, 'bar-not-page-aligned');
    expect(r?.severity).toBe('warning');
    expect(r?.message).toMatch(/BAR 2 is 256 bytes/);
    expect(d?.assignable.ok).toBe(true);
  });
  it('warns about a page-sized BAR that starts off a page boundary', () => {
    const inv = host({
      functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2, { bars: [{ index: 0, size: 0x2000, address: 0xfe001800n }] })],
    });
    expect(reason(inv.byBdf.get('0000:01:00.0'), 'bar-not-page-aligned')?.message).toMatch(/BAR 0 at 0xfe001800 is not aligned/);
  });
  it('leaves small I/O BARs alone (they are always trapped)', () => {
    const inv = host({
      functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2, { bars: [{ index: 0, size: 0x20000 }, { index: 1, size: 0x40, space: 'io' }] })],
    });
    expect(codes(inv.byBdf.get('0000:01:00.0'))).toEqual([]);
  });
});

describe('no-reset and reset-hits-others', () => {
  it('blocks a function on the root bus with no reset method, saying no bridge can reset it', () => {
    const inv = host({ functions: [hostBridge, nic('0000:00:05.0', undefined, 3, { pcie: null, pm: null, resetMethods: null })] });
    const d = inv.byBdf.get('0000:00:05.0');
    expect(d?.resetFile).toBe(false);
    expect(reason(d, 'no-reset')?.message).toMatch(/root bus/);
    expect(d?.assignable.ok).toBe(false);
  });
  it('says which functions a bus reset would hit when the kernel offers none', () => {
    const inv = host({
      functions: [
        hostBridge,
        rootPort('0000:00:10.0', 1),
        nic('0000:01:00.0', '0000:00:10.0', 2, { resetMethods: ['flr'] }),
        nic('0000:01:00.1', '0000:00:10.0', 3, { pcie: { type: 'endpoint', flr: false }, pm: null, resetMethods: null }),
      ],
    });
    expect(reason(inv.byBdf.get('0000:01:00.1'), 'no-reset')?.message).toMatch(/would also reset 0000:01:00\.0 \(e1000e\) on bus 01/);
  });
  it('blocks a function whose only reset is a bus reset shared with another function', () => {
    const inv = host({
      functions: [
        hostBridge,
        rootPort('0000:00:10.0', 1),
        nic('0000:01:00.0', '0000:00:10.0', 2, { resetMethods: ['bus'] }),
        nic('0000:01:00.1', '0000:00:10.0', 3, { resetMethods: ['flr'] }),
      ],
    });
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.reset.busResetPossible).toBe(false);
    expect(reason(d, 'reset-hits-others')?.message).toMatch(/bus 01 also holds 0000:01:00\.1 \(e1000e\)/);
    expect(d?.assignable.ok).toBe(false);
  });
  it('accepts a bus reset when the function is alone on its bus', () => {
    const inv = host({ functions: [hostBridge, rootPort('0000:00:10.0', 1), nic('0000:01:00.0', '0000:00:10.0', 2, { resetMethods: ['bus'] })] });
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.reset.busResetPossible).toBe(true);
    expect(codes(d)).toEqual([]);
  });
});

describe('with-guest', () => {
  const functions = [
    hostBridge,
    rootPort('0000:00:10.0', 1),
    nic('0000:01:00.0', '0000:00:10.0', 2, { driver: 'vfio-pci', msix: { tableSize: 5 } }),
    nic('0000:01:00.1', '0000:00:10.0', 2, { driver: 'vfio-pci', msix: { tableSize: 5 } }),
  ];
  const scan = (guestHolders?: Map<string, { guest: string; qdevId?: string }>) => {
    const dir = mkdtempSync(join(tmpdir(), 'hotslot-assign-'));
    made.push(dir);
    const t = buildHostTree(dir, { functions });
    return scanHost({ sysfsRoot: t.sysfsRoot, procRoot: t.procRoot, guestHolders });
  };

  it('blocks a device a guest already holds, naming the guest and the qdev id', () => {
    expect(scan().byBdf.get('0000:01:00.0')?.assignable).toEqual({ ok: true, reasons: [] });
    const inv = scan(new Map([['0000:01:00.0', { guest: 'web1', qdevId: 'hs-0000-01-00-0' }]]));
    const d = inv.byBdf.get('0000:01:00.0');
    expect(d?.owner).toEqual({ kind: 'guest', guest: 'web1', qdevId: 'hs-0000-01-00-0' });
    expect(codes(d)).toEqual(['with-guest']);
    expect(reason(d, 'with-guest')?.message).toMatch(/guest web1 as hs-0000-01-00-0/);
    expect(d?.assignable.ok).toBe(false);
  });

  it('makes the group not viable for another guest, but not for the guest that holds the rest', () => {
    const held = scan(new Map([['0000:01:00.1', { guest: 'web1' }]]));
    expect(reason(held.byBdf.get('0000:01:00.0'), 'group-not-viable')?.message).toMatch(/0000:01:00\.1 \(with guest web1\)/);
    const both = scan(
      new Map([
        ['0000:01:00.0', { guest: 'web1' }],
        ['0000:01:00.1', { guest: 'web1' }],
      ]),
    );
    expect(codes(both.byBdf.get('0000:01:00.0'))).toEqual(['with-guest']);
  });
});

describe('shared-intx', () => {
  it('warns when an INTx-only function shares its line with another INTx user', () => {
    const intxOnly = (bdf: string, group: number, driver: string): FunctionSpec =>
      nic(bdf, undefined, group, { driver, pcie: null, msix: null, msi: null, irq: 20, resetMethods: ['pm'] });
    const inv = host({ functions: [hostBridge, intxOnly('0000:00:05.0', 3, 'e1000'), intxOnly('0000:00:06.0', 4, 'snd_hda_intel')] });
    const r = reason(inv.byBdf.get('0000:00:05.0'), 'shared-intx');
    expect(r?.severity).toBe('warning');
    expect(r?.message).toMatch(/IRQ 20 with 0000:00:06\.0 \(snd_hda_intel\)/);
  });
  it('does not warn for a function that can use MSI', () => {
    const inv = host({
      functions: [
        hostBridge,
        nic('0000:00:05.0', undefined, 3, { driver: 'e1000e', msix: null, msi: { vectors: 1 }, irq: 20, resetMethods: ['pm'] }),
        nic('0000:00:06.0', undefined, 4, { driver: 'e1000', pcie: null, msix: null, irq: 20, resetMethods: ['pm'] }),
      ],
    });
    expect(codes(inv.byBdf.get('0000:00:05.0'))).not.toContain('shared-intx');
  });
});
