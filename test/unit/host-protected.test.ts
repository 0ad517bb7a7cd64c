/**
 * Finding the devices the host cannot lose, through the kernel's own indirections: partitions,
 * device-mapper slaves, the virtual nvme-subsystem, 9p mount tags, bridges and bonds over NICs,
 * IPv6 default routes and swap.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProtected, parseMountinfo, readInUse, defaultRouteInterfaces, type Protection } from '../../src/host/protected-devices.js';
import { buildHostTree, type FunctionSpec, type HostSpec } from '../../src/host/sysfs-builder.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function build(spec: HostSpec) {
  const dir = mkdtempSync(join(tmpdir(), 'hotslot-protect-'));
  made.push(dir);
  return buildHostTree(dir, spec);
}

function protections(t: { sysfsRoot: string; procRoot: string }, functions: FunctionSpec[]): Map<string, Protection[]> {
  return findProtected({
    sysfsRoot: t.sysfsRoot,
    inUse: readInUse(t.procRoot),
    functions: functions.map((f) => ({ bdf: f.bdf, classCode: f.classCode, bootVga: f.bootVga ?? null })),
    configProtect: [],
  });
}

const fn = (bdf: string, extra: Partial<FunctionSpec> = {}): FunctionSpec => ({
  bdf,
  vendorId: 0x1af4,
  deviceId: 0x1041,
  classCode: 0x020000,
  driver: 'virtio-pci',
  iommuGroup: null,
  ...extra,
});

describe('the root filesystem', () => {
  it('leads through the virtual nvme-subsystem to the NVMe controller function', () => {
    const functions = [fn('0000:03:00.0', { classCode: 0x010802, driver: 'nvme', block: [{ name: 'nvme0n1', majorMinor: '259:1', nvme: true }] })];
    const t = build({ functions, mounts: [{ source: '/dev/nvme0n1', mountPoint: '/', fsType: 'ext4', majorMinor: '259:1' }] });
    expect(protections(t, functions).get('0000:03:00.0')).toEqual([{ kind: 'root-filesystem', message: 'it holds the root filesystem (/dev/nvme0n1, ext4)' }]);
  });

  it('leads through a device-mapper volume to the disks under its slaves', () => {
    const functions = [
      fn('0000:00:02.0', { classCode: 0x010000, block: [{ name: 'vda', majorMinor: '254:0', partitions: [{ name: 'vda2', majorMinor: '254:2' }] }] }),
      fn('0000:00:03.0', { classCode: 0x010000, block: [{ name: 'vdb', majorMinor: '254:16' }] }),
    ];
    const t = build({ functions, mounts: [{ source: '/dev/mapper/vg-root', mountPoint: '/', fsType: 'xfs', majorMinor: '253:0' }] });
    // dm-0 spans a partition of vda and the whole of vdb, as LVM would.
    const dm = join(t.sysfsRoot, 'devices/virtual/block/dm-0');
    mkdirSync(join(dm, 'slaves'), { recursive: true });
    symlinkSync('../../../../pci0000:00/0000:00:02.0/block/vda/vda2', join(dm, 'slaves/vda2'));
    symlinkSync('../../../../pci0000:00/0000:00:03.0/block/vdb', join(dm, 'slaves/vdb'));
    symlinkSync('../../devices/virtual/block/dm-0', join(t.sysfsRoot, 'dev/block/253:0'));
    const p = protections(t, functions);
    expect(p.get('0000:00:02.0')?.map((x) => x.kind)).toEqual(['root-filesystem']);
    expect(p.get('0000:00:03.0')?.map((x) => x.kind)).toEqual(['root-filesystem']);
  });

  it('leads from a 9p root to the virtio function whose mount tag matches (the tag ends in NUL)', () => {
    const functions = [fn('0000:00:01.0', { classCode: 0x000200, mountTag: 'rootfs' }), fn('0000:00:02.0', { classCode: 0x000200, mountTag: 'lab' })];
    const t = build({
      functions,
      mounts: [
        { source: 'rootfs', mountPoint: '/', fsType: '9p', options: 'ro,trans=virtio,version=9p2000.L' },
        { source: 'lab', mountPoint: '/tmp/lab', fsType: '9p', options: 'rw,trans=virtio' },
      ],
    });
    const p = protections(t, functions);
    expect(p.get('0000:00:01.0')?.map((x) => x.kind)).toEqual(['root-filesystem']);
    expect(p.get('0000:00:02.0')).toEqual([{ kind: 'mounted-filesystem', message: 'it holds a mounted filesystem (lab on /tmp/lab, 9p)' }]);
  });

  it('does not repeat the root disk as a mounted filesystem for its other partitions', () => {
    const functions = [
      fn('0000:00:02.0', {
        classCode: 0x010000,
        block: [{ name: 'vda', majorMinor: '254:0', partitions: [{ name: 'vda1', majorMinor: '254:1' }, { name: 'vda2', majorMinor: '254:2' }] }],
      }),
    ];
    const t = build({
      functions,
      mounts: [
        { source: '/dev/vda2', mountPoint: '/', fsType: 'ext4', majorMinor: '254:2' },
        { source: '/dev/vda1', mountPoint: '/boot', fsType: 'vfat', majorMinor: '254:1' },
      ],
    });
    expect(protections(t, functions).get('0000:00:02.0')?.map((x) => x.kind)).toEqual(['root-filesystem']);
  });
});

describe('swap', () => {
  it('keeps the disk that holds a swap partition', () => {
    const functions = [fn('0000:00:04.0', { classCode: 0x010000, block: [{ name: 'vdc', majorMinor: '254:32', partitions: [{ name: 'vdc1', majorMinor: '254:33' }] }] })];
    const t = build({ functions, swaps: ['/dev/vdc1'] });
    expect(protections(t, functions).get('0000:00:04.0')).toEqual([{ kind: 'swap', message: 'it holds swap space (/dev/vdc1)' }]);
  });
});

describe('the default route', () => {
  it('leads through a bridge and a bond to the NICs under them', () => {
    const functions = [fn('0000:01:00.0', { net: ['enp1s0'] }), fn('0000:02:00.0', { net: ['enp2s0'] }), fn('0000:03:00.0', { net: ['enp3s0'] })];
    const t = build({ functions, defaultRoute: 'br0' });
    const virt = (name: string, lowers: string[]) => {
      const d = join(t.sysfsRoot, 'devices/virtual/net', name);
      mkdirSync(d, { recursive: true });
      for (const l of lowers) symlinkSync(`../${l}`, join(d, `lower_${l}`));
      symlinkSync(`../../devices/virtual/net/${name}`, join(t.sysfsRoot, 'class/net', name));
    };
    // The bond's lower links point at the NICs' own directories; only the names matter here.
    virt('bond0', ['enp1s0', 'enp2s0']);
    virt('br0', ['bond0']);
    const p = protections(t, functions);
    expect(p.get('0000:01:00.0')?.[0]?.message).toBe('it carries the default route (br0)');
    expect(p.get('0000:02:00.0')?.map((x) => x.kind)).toEqual(['default-route']);
    expect(p.get('0000:03:00.0')).toBeUndefined();
  });

  it('reads IPv6 default routes, skipping the reject route on lo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotslot-route6-'));
    made.push(dir);
    mkdirSync(join(dir, 'net'));
    writeFileSync(
      join(dir, 'net/ipv6_route'),
      [
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth1',
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
      ].join('\n'),
    );
    expect(defaultRouteInterfaces(readInUse(dir))).toEqual(['eth1']);
  });
});

describe('mountinfo', () => {
  it('reads the device number, mount point with escapes, type and source', () => {
    const [m] = parseMountinfo('27 1 254:0 / /mnt/my\\040disk rw,relatime - ext4 /dev/vda rw\n');
    expect(m).toEqual({ majorMinor: '254:0', mountPoint: '/mnt/my disk', fsType: 'ext4', source: '/dev/vda', options: 'rw' });
  });
});
