import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHostTree, type FunctionSpec, type HostSpec } from '../host/sysfs-builder.js';
import { SimulatedKernel } from '../kernel/index.js';
import { SimulatedGuest } from './simulated-guest.js';

/**
 * The built-in demo: a simulated virtualization host (no hardware, no root) with the variety an
 * operator meets, driven by the simulated kernel, and three simulated guests that speak QMP on
 * real unix sockets. One of them never lets go of a device, so a stuck unplug can be tried too.
 */

const rootPort = (bdf: string, group: number): FunctionSpec => ({
  bdf,
  vendorId: 0x8086,
  deviceId: 0x7c70,
  classCode: 0x060400,
  pcie: { type: 'root-port', slotImplemented: true },
  driver: 'pcieport',
  iommuGroup: group,
  resetMethods: null,
  msi: { vectors: 1, enabled: 1 },
});

export const DEMO_HOST: HostSpec = {
  functions: [
    { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0, resetMethods: null },
    {
      bdf: '0000:00:01.0', vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, pcie: null, driver: 'bochs-drm', iommuGroup: 1,
      bootVga: true, interruptPin: null, bars: [{ index: 0, size: 16 << 20, prefetchable: true }, { index: 2, size: 4096 }],
    },
    {
      bdf: '0000:00:03.0', vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000, driver: 'virtio-pci', iommuGroup: 2,
      msix: { tableSize: 3, enabled: 3 }, net: ['eth0'], resetMethods: ['flr'], pcie: { type: 'endpoint', flr: true },
    },
    {
      bdf: '0000:00:04.0', vendorId: 0x1af4, deviceId: 0x1042, classCode: 0x010000, driver: 'virtio-pci', iommuGroup: 3,
      msix: { tableSize: 2, enabled: 2 }, block: [{ name: 'vda', majorMinor: '254:0', partitions: [{ name: 'vda1', majorMinor: '254:1' }] }],
      resetMethods: ['flr'], pcie: { type: 'endpoint', flr: true },
    },
    rootPort('0000:00:1c.0', 4),
    {
      bdf: '0000:01:00.0', parent: '0000:00:1c.0', vendorId: 0x8086, deviceId: 0x10c9, classCode: 0x020000, driver: 'igb', iommuGroup: 5,
      pcie: { type: 'endpoint', flr: true }, msix: { tableSize: 10, enabled: 5 }, sriov: { totalVFs: 7, numVFs: 2, vfOffset: 128, vfStride: 2, vfDeviceId: 0x10ca },
      net: ['enp1s0f0'], resetMethods: ['flr', 'pm', 'bus'], bars: [{ index: 0, size: 128 << 10 }, { index: 3, size: 16 << 10 }],
    },
    {
      bdf: '0000:01:10.0', parent: '0000:00:1c.0', physfn: '0000:01:00.0', vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000, driver: 'igbvf',
      iommuGroup: 12, pcie: { type: 'endpoint', flr: true }, msix: { tableSize: 3, enabled: 3 }, resetMethods: ['flr'], interruptPin: null, net: ['enp1s0f0v0'],
    },
    {
      bdf: '0000:01:10.2', parent: '0000:00:1c.0', physfn: '0000:01:00.0', vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000, driver: 'igbvf',
      iommuGroup: 13, pcie: { type: 'endpoint', flr: true }, msix: { tableSize: 3, enabled: 3 }, resetMethods: ['flr'], interruptPin: null, net: ['enp1s0f0v1'],
    },
    rootPort('0000:00:1c.1', 6),
    {
      bdf: '0000:02:00.0', parent: '0000:00:1c.1', vendorId: 0x8086, deviceId: 0x10d3, classCode: 0x020000, driver: 'e1000e', iommuGroup: 7,
      pcie: { type: 'endpoint', flr: false }, msi: { vectors: 1, enabled: 1 }, msix: { tableSize: 5 }, net: ['enp2s0'], resetMethods: ['pm', 'bus'],
    },
    rootPort('0000:00:1c.2', 8),
    {
      bdf: '0000:03:00.0', parent: '0000:00:1c.2', vendorId: 0x144d, deviceId: 0xa808, classCode: 0x010802, driver: 'nvme', iommuGroup: 9,
      pcie: { type: 'endpoint', flr: true }, msix: { tableSize: 65, enabled: 9 }, resetMethods: ['flr', 'bus'],
      block: [{ name: 'nvme0n1', majorMinor: '259:0', nvme: true }],
    },
    rootPort('0000:00:1c.3', 10),
    {
      bdf: '0000:04:00.0', parent: '0000:00:1c.3', vendorId: 0x10de, deviceId: 0x1eb8, classCode: 0x030200, driver: 'nouveau', iommuGroup: 11,
      pcie: { type: 'legacy-endpoint', flr: false }, msi: { vectors: 1, enabled: 1 }, resetMethods: ['bus'],
      bars: [{ index: 0, size: 16 << 20 }, { index: 1, size: 256 << 20, is64Bit: true, prefetchable: true }],
    },
    {
      bdf: '0000:04:00.1', parent: '0000:00:1c.3', vendorId: 0x10de, deviceId: 0x10f8, classCode: 0x040300, driver: 'snd_hda_intel', iommuGroup: 11,
      pcie: { type: 'endpoint', flr: false }, msi: { vectors: 1, enabled: 1 }, resetMethods: ['bus'],
    },
    {
      bdf: '0000:00:1e.0', vendorId: 0x8086, deviceId: 0x244e, classCode: 0x060401, pcie: { type: 'pcie-to-pci-bridge' }, iommuGroup: 14, resetMethods: null,
    },
    {
      bdf: '0000:05:01.0', parent: '0000:00:1e.0', vendorId: 0x8086, deviceId: 0x100e, classCode: 0x020000, driver: 'e1000', iommuGroup: 14,
      pcie: null, msi: null, msix: null, interruptPin: 'A', resetMethods: ['bus'], net: ['ens1'],
    },
  ],
  mounts: [
    { source: '/dev/vda1', mountPoint: '/', fsType: 'ext4', majorMinor: '254:1' },
  ],
  defaultRoute: 'eth0',
  // A host prepared for passthrough: `modprobe vfio-pci`, nothing bound to it yet.
  loadedDrivers: ['vfio-pci'],
};

export interface DemoLab {
  dir: string;
  sysfsRoot: string;
  procRoot: string;
  stateDir: string;
  kernel: SimulatedKernel;
  guests: SimulatedGuest[];
  guestSockets: { name: string; socket: string }[];
  stop(): Promise<void>;
}

export const DEMO_GUESTS = [
  { name: 'web', rootPorts: 3, unplugDelayMs: 900 },
  { name: 'db', rootPorts: 2, unplugDelayMs: 1_200 },
  { name: 'legacy', rootPorts: 2, unplugDelayMs: 1_000, neverReleases: true },
] as const;

export async function startDemoLab(opts: { dir?: string } = {}): Promise<DemoLab> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'hotslot-demo-'));
  const tree = buildHostTree(dir, DEMO_HOST);
  const kernel = SimulatedKernel.open(tree.sysfsRoot);
  kernel.setBindDelay(250, 'vfio-pci');
  const guests: SimulatedGuest[] = [];
  for (const g of DEMO_GUESTS) {
    const sg = new SimulatedGuest({
      name: g.name,
      socketPath: join(dir, `${g.name}.qmp`),
      sysfsRoot: tree.sysfsRoot,
      rootPorts: g.rootPorts,
      unplugDelayMs: g.unplugDelayMs,
      neverReleases: 'neverReleases' in g ? g.neverReleases : false,
      memoryBytes: 4 << 30,
    });
    await sg.start();
    guests.push(sg);
  }
  return {
    dir,
    sysfsRoot: tree.sysfsRoot,
    procRoot: tree.procRoot,
    stateDir: join(dir, 'state'),
    kernel,
    guests,
    guestSockets: DEMO_GUESTS.map((g) => ({ name: g.name, socket: join(dir, `${g.name}.qmp`) })),
    async stop() {
      await Promise.all(guests.map((g) => g.stop()));
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
