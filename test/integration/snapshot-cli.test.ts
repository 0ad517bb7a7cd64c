/**
 * `hotslot snapshot` (the built CLI): a tarball that reading commands read as they read the tree
 * it was taken from. On a generated host (SR-IOV, a bridge group, a protected root disk), on a
 * real-kernel lab tree (the copy holds exactly what the lab's own capture held), and on this
 * machine's own /sys and /proc (read only), where lspci reads the copy as it reads the machine.
 * Bad inputs end with one line, their exit status, and no file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HOST } from '../../src/demo/demo-lab.js';
import type { HostDevice } from '../../src/host/host-device.js';
import { buildHostTree, type BuiltTree, type FunctionSpec, type HostSpec } from '../../src/host/sysfs-builder.js';
import { hotslot } from '../support/hotslot-cli.js';
import { extractLabSnapshot, extractSnapshotFile, treeListing, type LabSnapshot } from '../support/lab-snapshot.js';

const made: string[] = [];
const extracted: LabSnapshot[] = [];
afterAll(() => {
  for (const s of extracted) s.remove();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `hotslot-snapshot-${label}-`));
  made.push(d);
  return d;
}

async function extract(tarball: string): Promise<LabSnapshot> {
  const s = await extractSnapshotFile(tarball);
  extracted.push(s);
  return s;
}

/** A reading command on a pair of roots: its exit status and stdout, stderr required empty. */
async function read(roots: { sysfsRoot: string; procRoot: string }, ...args: string[]): Promise<string> {
  const r = await hotslot(['--sysfs-root', roots.sysfsRoot, '--proc-root', roots.procRoot, ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

interface Summary {
  file: string;
  files: number;
  links: number;
  dirs: number;
  bytes: number;
  lspci: boolean;
  warnings: string[];
}

async function snapshot(roots: { sysfsRoot: string; procRoot: string }, output: string): Promise<Summary> {
  const r = await hotslot(['--sysfs-root', roots.sysfsRoot, '--proc-root', roots.procRoot, 'snapshot', '-o', output, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Summary;
}

/** The manifest's rows by path: type, mode, kernel size, bytes kept, note. */
function manifest(s: LabSnapshot): Map<string, string[]> {
  const rows = readFileSync(join(s.oracleDir, 'manifest.tsv'), 'utf8').trimEnd().split('\n').slice(1);
  return new Map(rows.map((r) => r.split('\t')).map(([p, ...rest]) => [p, rest]));
}

const E1000_BEHIND_BRIDGE: FunctionSpec = {
  bdf: '0000:05:02.0', parent: '0000:00:1e.0', vendorId: 0x8086, deviceId: 0x100e, classCode: 0x020000, driver: 'vfio-pci', driverOverride: 'vfio-pci',
  iommuGroup: 14, pcie: null, msi: null, msix: null, interruptPin: 'A', resetMethods: null,
};

/** The demo host with more variety: a VF and one bridge-group e1000 on vfio-pci, a 9p share, an NVMe filesystem, swap. */
const HOST: HostSpec = {
  ...DEMO_HOST,
  functions: [
    ...DEMO_HOST.functions.map((f) => (f.bdf === '0000:01:10.0' ? { ...f, driver: 'vfio-pci', driverOverride: 'vfio-pci', msix: { tableSize: 3 }, net: [] } : f)),
    E1000_BEHIND_BRIDGE,
    { bdf: '0000:00:05.0', vendorId: 0x1af4, deviceId: 0x1049, classCode: 0x000200, driver: 'virtio-pci', iommuGroup: 15, msix: { tableSize: 2, enabled: 2 }, mountTag: 'share' },
  ],
  mounts: [
    { source: '/dev/vda1', mountPoint: '/', fsType: 'ext4', majorMinor: '254:1' },
    { source: '/dev/nvme0n1', mountPoint: '/srv', fsType: 'xfs', majorMinor: '259:0' },
    { source: 'share', mountPoint: '/mnt/share', fsType: '9p', options: 'rw,trans=virtio' },
  ],
  swaps: ['/dev/vda1'],
};

describe('snapshot of a generated host', () => {
  let dir: string;
  let tree: BuiltTree;
  let snap: LabSnapshot;
  let summary: Summary;
  const outside = () => join(dir, 'outside');

  beforeAll(async () => {
    dir = tempDir('fixture');
    tree = buildHostTree(join(dir, 'host'), HOST);
    // What a snapshot must not take: BAR contents, more than its bound of one file, and
    // anything a link leads to outside the root.
    writeFileSync(join(tree.sysfsRoot, 'bus/pci/devices/0000:00:01.0/resource0'), 'BAR BYTES');
    writeFileSync(join(tree.sysfsRoot, 'bus/pci/devices/0000:03:00.0/firmware_blob'), Buffer.alloc(3 << 20, 0x5a));
    mkdirSync(outside());
    writeFileSync(join(outside(), 'secret'), 'NOT FROM THE SYSFS ROOT');
    symlinkSync('../../../../outside', join(tree.sysfsRoot, 'devices/pci0000:00/0000:00:03.0/escape'));
    symlinkSync('../../../outside', join(tree.sysfsRoot, 'class/net/escape0'));
    summary = await snapshot(tree, join(dir, 'host.tar.gz'));
    snap = await extract(join(dir, 'host.tar.gz'));
  });

  it('reads back as the same list, protections and verdicts included', async () => {
    const live = await read(tree, 'list', '--json', '--all');
    const devices = JSON.parse(live) as HostDevice[];
    // The fixture shows what the copy must carry: a root disk, an NVMe filesystem behind the
    // nvme-subsystem, a 9p share, the default-route NIC, and a group that is not viable.
    const kinds = (bdf: string) => devices.find((d) => d.bdf === bdf)?.protected.map((p) => p.kind);
    expect(kinds('0000:00:04.0')).toEqual(expect.arrayContaining(['root-filesystem', 'swap']));
    expect(kinds('0000:03:00.0')).toEqual(['mounted-filesystem']);
    expect(kinds('0000:00:05.0')).toEqual(['mounted-filesystem']);
    expect(kinds('0000:00:03.0')).toEqual(['default-route']);
    expect(devices.find((d) => d.bdf === '0000:05:02.0')?.assignable.reasons.map((r) => r.code)).toContain('group-not-viable');
    expect(await read(snap, 'list', '--json', '--all')).toBe(live);
  });

  it('reads back as the same check of a host bridge, a PF, a VF on vfio-pci, the non-viable e1000, the root disk and the NVMe', async () => {
    const bdfs = ['0000:00:00.0', '0000:01:00.0', '0000:01:10.0', '0000:05:02.0', '0000:00:04.0', '0000:03:00.0'];
    const checks = (roots: { sysfsRoot: string; procRoot: string }) => Promise.all(bdfs.map((bdf) => read(roots, 'check', bdf, '--json')));
    const [original, copy] = await Promise.all([checks(tree), checks(snap)]);
    expect(copy).toEqual(original);
  });

  it('keeps every symlink of the tree it copied verbatim', () => {
    const pf = 'bus/pci/devices/0000:01:00.0';
    for (const rel of [pf, `${pf}/virtfn0`, `${pf}/driver`, `${pf}/iommu_group`, 'class/block/nvme0n1', 'dev/block/254:1', 'bus/virtio/devices/virtio00050']) {
      expect(readlinkSync(join(snap.sysfsRoot, rel)), rel).toBe(readlinkSync(join(tree.sysfsRoot, rel)));
    }
  });

  it('records write-only attributes as empty files with their mode', () => {
    const reset = join(snap.sysfsRoot, 'bus/pci/devices/0000:01:00.0/reset');
    expect(statSync(reset).mode & 0o7777).toBe(0o200);
    expect(statSync(reset).size).toBe(0);
    expect(manifest(snap).get('sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/reset')).toEqual(['f', '0200', '0', '0', 'write-only']);
  });

  it('never reads a BAR file, and cuts a file at its bound', () => {
    expect(readFileSync(join(snap.sysfsRoot, 'bus/pci/devices/0000:00:01.0/resource0'), 'utf8')).toBe('');
    expect(manifest(snap).get('sys/devices/pci0000:00/0000:00:01.0/resource0')).toEqual(['f', '0600', '9', '0', 'not-read(bar/rom)']);
    expect(statSync(join(snap.sysfsRoot, 'bus/pci/devices/0000:03:00.0/firmware_blob')).size).toBe(1 << 20);
    expect(manifest(snap).get('sys/devices/pci0000:00/0000:00:1c.2/0000:03:00.0/firmware_blob')?.[4]).toBe('truncated');
  });

  it('keeps links that leave the root as links, and takes nothing from where they lead', () => {
    expect(readlinkSync(join(snap.sysfsRoot, 'class/net/escape0'))).toBe('../../../outside');
    expect(readlinkSync(join(snap.sysfsRoot, 'devices/pci0000:00/0000:00:03.0/escape'))).toBe('../../../../outside');
    expect(existsSync(join(snap.dir, 'outside'))).toBe(false);
    const everything = execFileSync('tar', ['-xzOf', join(dir, 'host.tar.gz')], { maxBuffer: 64 << 20 }).toString('latin1');
    expect(everything).not.toContain('NOT FROM THE SYSFS ROOT');
  });

  it('summarises what the tarball holds of sys/ and proc/', () => {
    // tar's own listing, not the manifest: both would come from the same list in hotslot.
    const entries = execFileSync('tar', ['-tzvf', join(dir, 'host.tar.gz')], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const f = l.split(/\s+/);
        return { type: l[0], size: Number(f[2]), path: f[5] };
      })
      .filter((e) => /^(sys|proc)(\/|$)/.test(e.path));
    expect(summary.files).toBe(entries.filter((e) => e.type === '-').length);
    expect(summary.links).toBe(entries.filter((e) => e.type === 'l').length);
    expect(summary.dirs).toBe(entries.filter((e) => e.type === 'd').length);
    expect(summary.bytes).toBe(entries.filter((e) => e.type === '-').reduce((n, e) => n + e.size, 0));
  });
});

describe('snapshot of a real-kernel lab tree', () => {
  it('holds exactly the entries, modes, link targets and bytes of the lab capture it was taken from', async () => {
    const lab = await extractLabSnapshot('assigned');
    extracted.push(lab);
    const out = join(tempDir('lab'), 'assigned.tar.gz');
    await snapshot(lab, out);
    const copy = await extract(out);
    const sysOf = (s: LabSnapshot) => treeListing(s.sysfsRoot).map((l) => l.replace(/ file (\d+) (\d+) [\d.]+ /, ' file $1 $2 '));
    const labLines = sysOf(lab);
    expect(labLines.length).toBeGreaterThan(2000);
    expect(sysOf(copy)).toEqual(labLines);
    expect(await read(copy, 'list', '--json', '--all')).toBe(await read(lab, 'list', '--json', '--all'));
  });
});

describe('snapshot of this machine (read only)', () => {
  const live = { sysfsRoot: '/sys', procRoot: '/proc' };
  let dir: string;
  let snap: LabSnapshot;
  let summary: Summary;

  beforeAll(async () => {
    dir = tempDir('live');
    // The default name, in the current directory.
    const r = await hotslot(['snapshot', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    summary = JSON.parse(r.stdout) as Summary;
    snap = await extract(summary.file);
  });

  it('is named after the host and the time, in the current directory', () => {
    expect(readdirSync(dir)).toEqual([summary.file.slice(dir.length + 1)]);
    expect(summary.file).toMatch(/\/hotslot-snapshot-[A-Za-z0-9._-]+-\d{8}-\d{6}\.tar\.gz$/);
  });

  it('reads back as the live list', async () => {
    const now = await read(live, 'list', '--json', '--all');
    expect((JSON.parse(now) as HostDevice[]).length).toBeGreaterThan(0);
    expect(await read(snap, 'list', '--json', '--all')).toBe(now);
  });

  it('is read by lspci as lspci reads the machine, and keeps what lspci said then', () => {
    const lspci = (...args: string[]) => execFileSync('lspci', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const now = lspci('-D', '-nn', '-k');
    expect(now).toMatch(/^0000:00:00\.0 /);
    expect(lspci('-O', `sysfs.path=${snap.sysfsRoot}/bus/pci`, '-D', '-nn', '-k')).toBe(now);
    expect(summary.lspci).toBe(true);
    expect(readFileSync(join(snap.oracleDir, 'lspci-D-nn-k.txt'), 'utf8')).toBe(now);
    for (const f of ['lspci-D-vvv.txt', 'lspci-D-xxxx.txt']) expect(readFileSync(join(snap.oracleDir, f), 'utf8').length, f).toBeGreaterThan(now.length);
  });

  it('stores the procfs files hotslot reads as plain files', () => {
    for (const f of ['interrupts', 'self/mountinfo', 'mounts', 'net/route', 'swaps']) {
      const st = statSync(join(snap.procRoot, f));
      expect(st.isFile() && st.size > 0, f).toBe(true);
    }
    expect(readFileSync(join(snap.procRoot, 'net/route'), 'utf8')).toBe(readFileSync('/proc/net/route', 'utf8'));
  });
});

describe('snapshot refuses bad input and leaves nothing behind', () => {
  let tree: BuiltTree;
  beforeAll(() => {
    tree = buildHostTree(join(tempDir('bad'), 'host'), { functions: DEMO_HOST.functions.slice(0, 3) });
  });

  async function refused(args: string[], cwd: string, status: number, message: RegExp): Promise<void> {
    const before = readdirSync(cwd).sort();
    const r = await hotslot(['--sysfs-root', tree.sysfsRoot, '--proc-root', tree.procRoot, ...args], { cwd });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.status).toBe(status);
    expect(readdirSync(cwd).sort()).toEqual(before);
  }

  it('an existing file: exit 2 and the file untouched; --force replaces it', async () => {
    const cwd = tempDir('exists');
    writeFileSync(join(cwd, 'snap.tar.gz'), 'precious');
    await refused(['snapshot', '-o', 'snap.tar.gz'], cwd, 2, /^hotslot: .*snap\.tar\.gz exists; use --force to replace it$/m);
    expect(readFileSync(join(cwd, 'snap.tar.gz'), 'utf8')).toBe('precious');
    const r = await hotslot(['--sysfs-root', tree.sysfsRoot, '--proc-root', tree.procRoot, 'snapshot', '-o', 'snap.tar.gz', '--force'], { cwd });
    expect(r.status).toBe(0);
    expect(readdirSync(cwd)).toEqual(['snap.tar.gz']);
    expect(execFileSync('tar', ['-tzf', join(cwd, 'snap.tar.gz')], { encoding: 'utf8' })).toContain('sys/bus/pci/devices/0000:00:00.0\n');
  });

  it('-o naming a directory: exit 2', async () => {
    const cwd = tempDir('isdir');
    mkdirSync(join(cwd, 'out'));
    await refused(['snapshot', '-o', 'out'], cwd, 2, /out is a directory; give -o a file name/);
  });

  it('a sysfs root that is missing, or not a sysfs tree: exit 2', async () => {
    const cwd = tempDir('noroot');
    await refused(['--sysfs-root', join(cwd, 'nowhere'), 'snapshot'], cwd, 2, /^hotslot: --sysfs-root .*nowhere does not exist$/m);
    mkdirSync(join(cwd, 'plain'));
    await refused(['--sysfs-root', join(cwd, 'plain'), 'snapshot'], cwd, 2, /^hotslot: --sysfs-root .*plain is not a sysfs tree \(it has no bus\/pci\/devices\)$/m);
    await refused(['--proc-root', join(cwd, 'noproc'), 'snapshot'], cwd, 2, /^hotslot: --proc-root .*noproc does not exist$/m);
  });

  it('an output directory that cannot be written: exit 1, nothing written', async () => {
    const cwd = tempDir('unwritable');
    await refused(['snapshot', '-o', 'missing/snap.tar.gz'], cwd, 1, /^hotslot: .*missing does not exist; nothing written$/m);
    writeFileSync(join(cwd, 'afile'), '');
    await refused(['snapshot', '-o', 'afile/snap.tar.gz'], cwd, 1, /^hotslot: cannot write in .*afile \(ENOTDIR\); nothing written$/m);
  });
});
