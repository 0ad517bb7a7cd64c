/**
 * The fixture builder makes trees that the system's lspci reads as it reads the kernel's
 * (`lspci -O sysfs.path=DIR/bus/pci`), from a short description and from real-hardware dumps.
 * lspci runs here; nothing it says is stored.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanHost } from '../../src/host/inventory.js';
import { buildHostTree, specsFromConfigDumps, type FunctionSpec } from '../../src/host/sysfs-builder.js';
import { readLspciDump } from '../../src/pci/lspci-dump.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus', 'pciutils-dumps');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function lspci(args: string[]): string {
  return execFileSync('lspci', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** lspci output split per function: BDF -> its block of text. */
function blocks(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const chunk of out.split(/\n(?=[0-9a-f]{4}:[0-9a-f]{2}:)/)) {
    const m = /^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(chunk);
    if (m) map.set(m[1], chunk);
  }
  return map;
}

const FUNCTIONS: FunctionSpec[] = [
  { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, interruptPin: null, iommuGroup: 0 },
  { bdf: '0000:00:10.0', vendorId: 0x1b36, deviceId: 0x000c, classCode: 0x060400, driver: 'pcieport', iommuGroup: 1, msix: { tableSize: 1, enabled: 1 } },
  {
    bdf: '0000:01:00.0',
    parent: '0000:00:10.0',
    vendorId: 0x8086,
    deviceId: 0x10c9,
    classCode: 0x020000,
    revision: 1,
    driver: 'igb',
    iommuGroup: 2,
    pcie: { type: 'endpoint', flr: true },
    msi: { vectors: 1 },
    msix: { tableSize: 10, enabled: 5 },
    acs: { sourceValidation: true, requestRedirect: true },
    sriov: { totalVFs: 7, numVFs: 2, vfDeviceId: 0x10ca },
    bars: [
      { index: 0, size: 0x20000 },
      { index: 2, size: 0x20, space: 'io' },
      { index: 3, size: 0x4000 },
    ],
  },
  ...['0000:01:10.0', '0000:01:10.2'].map(
    (bdf, i): FunctionSpec => ({
      bdf,
      parent: '0000:00:10.0',
      physfn: '0000:01:00.0',
      vendorId: 0x8086,
      deviceId: 0x10ca,
      classCode: 0x020000,
      driver: i === 0 ? 'vfio-pci' : 'igbvf',
      driverOverride: i === 0 ? 'vfio-pci' : null,
      iommuGroup: 3 + i,
      pcie: { type: 'endpoint', flr: true },
      pm: null,
      msix: { tableSize: 3, enabled: i === 0 ? 0 : 3 },
      bars: [{ index: 0, size: 0x4000, is64Bit: true, prefetchable: true }],
    }),
  ),
  { bdf: '0000:00:13.0', vendorId: 0x1b36, deviceId: 0x000c, classCode: 0x060400, driver: 'pcieport', iommuGroup: 5 },
  { bdf: '0000:04:00.0', parent: '0000:00:13.0', vendorId: 0x1b36, deviceId: 0x0001, classCode: 0x060400, pcie: null, iommuGroup: 6 },
  {
    bdf: '0000:05:01.0',
    parent: '0000:04:00.0',
    vendorId: 0x8086,
    deviceId: 0x100e,
    classCode: 0x020000,
    driver: 'e1000',
    pcie: null,
    pm: null,
    iommuGroup: 6,
    irq: 20,
    resetMethods: ['bus'],
  },
];

describe('a tree built from a description', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotslot-builder-'));
  made.push(dir);
  const tree = buildHostTree(dir, { functions: FUNCTIONS });
  const pciPath = join(tree.sysfsRoot, 'bus/pci');

  it('lists the same BDFs, ids and drivers in lspci -D -nn -k', () => {
    const out = blocks(lspci(['-D', '-nn', '-k', '-O', `sysfs.path=${pciPath}`]));
    expect([...out.keys()].sort()).toEqual(FUNCTIONS.map((f) => f.bdf).sort());
    for (const f of FUNCTIONS) {
      const text = out.get(f.bdf) ?? '';
      const ids = `[${f.vendorId.toString(16).padStart(4, '0')}:${f.deviceId.toString(16).padStart(4, '0')}]`;
      expect(text.split('\n')[0], f.bdf).toContain(ids);
      const driver = /Kernel driver in use: (\S+)/.exec(text)?.[1] ?? null;
      expect(driver, f.bdf).toBe(f.driver ?? null);
    }
  });

  it('shows capabilities and their state in lspci -vvv as described', () => {
    const out = blocks(lspci(['-D', '-vvv', '-O', `sysfs.path=${pciPath}`]));
    const pf = out.get('0000:01:00.0') ?? '';
    expect(pf).toMatch(/MSI-X: Enable\+ Count=10/);
    expect(pf).toMatch(/MSI: Enable- Count=1\/1/);
    expect(pf).toMatch(/Express \(v2\) Endpoint/);
    expect(pf).toMatch(/FLReset\+/);
    expect(pf).toMatch(/ACSCap:\tSrcValid\+ TransBlk- ReqRedir\+/);
    expect(pf).toMatch(/Total VFs: 7, Number of VFs: 2/);
    expect(pf).toMatch(/IOMMU group: 2/);
    expect(pf).toMatch(/Region 0: Memory at [0-9a-f]+ \(32-bit, non-prefetchable\) \[size=128K\]/);
    expect(pf).toMatch(/Region 2: I\/O ports at [0-9a-f]+ \[size=32\]/);
    expect(out.get('0000:01:10.0')).toMatch(/Region 0: Memory at [0-9a-f]+ \(64-bit, prefetchable\) \[size=16K\]/);
    expect(out.get('0000:04:00.0')).toMatch(/Bus: primary=04, secondary=05, subordinate=05/);
    expect(out.get('0000:05:01.0')).toMatch(/Interrupt: pin A routed to IRQ 20/);
    expect(out.get('0000:05:01.0')).not.toMatch(/Capabilities:/);
  });

  it('lays out links as the kernel does: relative, from bus/pci and drivers into devices/', () => {
    expect(readlinkSync(join(tree.sysfsRoot, 'bus/pci/devices/0000:05:01.0'))).toBe('../../../devices/pci0000:00/0000:00:13.0/0000:04:00.0/0000:05:01.0');
    expect(readlinkSync(join(tree.sysfsRoot, 'bus/pci/drivers/igb/0000:01:00.0'))).toBe('../../../../devices/pci0000:00/0000:00:10.0/0000:01:00.0');
    const dev = join(tree.sysfsRoot, 'devices/pci0000:00/0000:00:10.0/0000:01:00.0');
    expect(readlinkSync(join(dev, 'driver'))).toBe('../../../../bus/pci/drivers/igb');
    expect(readlinkSync(join(dev, 'iommu_group'))).toBe('../../../../kernel/iommu_groups/2');
    expect(readlinkSync(join(dev, 'virtfn0'))).toBe('../0000:01:10.0');
    expect(readlinkSync(join(dev, 'virtfn1'))).toBe('../0000:01:10.2');
    expect(readFileSync(join(dev, '../0000:01:10.2/driver_override'), 'utf8')).toBe('(null)\n');
    expect(statSync(join(dev, 'reset')).mode & 0o777).toBe(0o200);
    expect(statSync(join(dev, 'config')).size).toBe(4096);
    // A VF's own config space reads 0xffff for its ids; sysfs has the real ones.
    expect([...readFileSync(join(dev, '../0000:01:10.0/config')).subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('reads back through hotslot with the described state', () => {
    const inv = scanHost({ sysfsRoot: tree.sysfsRoot, procRoot: tree.procRoot });
    const pf = inv.byBdf.get('0000:01:00.0');
    expect(pf?.virtfns).toEqual(['0000:01:10.0', '0000:01:10.2']);
    expect(pf?.sriov).toEqual({ totalVFs: 7, numVFs: 2 });
    expect(pf?.interrupts.mode).toBe('msix');
    const vf = inv.byBdf.get('0000:01:10.0');
    expect(vf?.vendorId).toBe('0x8086');
    expect(vf?.deviceId).toBe('0x10ca');
    expect(vf?.physfn).toBe('0000:01:00.0');
    expect(vf?.owner).toEqual({ kind: 'vfio' });
    expect(vf?.driverOverride).toBe('vfio-pci');
    expect(inv.byBdf.get('0000:05:01.0')?.parents).toEqual(['0000:04:00.0', '0000:00:13.0']);
  });
});

describe('a tree built from a real machine dump', () => {
  it('shows lspci the same capabilities through sysfs as the dump gives it directly', () => {
    const file = join(CORPUS, 'tree-asus-p6t6');
    const dumps = readLspciDump(readFileSync(file, 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'hotslot-builder-dump-'));
    made.push(dir);
    const tree = buildHostTree(dir, { functions: specsFromConfigDumps(dumps) });
    const fromDump = blocks(lspci(['-F', file, '-D', '-vvv']));
    const fromTree = blocks(lspci(['-O', `sysfs.path=${join(tree.sysfsRoot, 'bus/pci')}`, '-D', '-vvv']));
    expect([...fromTree.keys()].sort()).toEqual([...fromDump.keys()].sort());
    const caps = (text: string | undefined) => (text ?? '').split('\n').filter((l) => /^\tCapabilities: \[/.test(l));
    for (const bdf of fromDump.keys()) expect(caps(fromTree.get(bdf)), bdf).toEqual(caps(fromDump.get(bdf)));
  });

  it('places each function behind the bridge of its bus', () => {
    const dumps = readLspciDump(readFileSync(join(CORPUS, 'tree-asus-p6t6'), 'utf8'));
    const specs = specsFromConfigDumps(dumps);
    const withParent = specs.filter((s) => s.parent);
    expect(withParent.length).toBeGreaterThan(0);
    for (const s of withParent) {
      const bridge = dumps.find((d) => d.bdf === s.parent);
      // The bridge's secondary bus number (config 0x19) is the child's bus.
      expect(bridge?.bytes[0x19], s.bdf).toBe(parseInt(s.bdf.slice(5, 7), 16));
    }
  });
});
