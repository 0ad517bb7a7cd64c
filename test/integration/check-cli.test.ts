/**
 * `hotslot check` and `hotslot list` as an operator meets them (the built CLI): what a bad address,
 * a missing device or a bad config file does (exit 2, one line), what `check` explains, and that
 * the human output fits 100 columns.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDevice } from '../../src/host/host-device.js';
import { buildHostTree, type BuiltTree, type FunctionSpec } from '../../src/host/sysfs-builder.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

let dir: string;
let tree: BuiltTree;

const FUNCTIONS: FunctionSpec[] = [
  { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0 },
  { bdf: '0000:00:10.0', vendorId: 0x1b36, deviceId: 0x000c, classCode: 0x060400, driver: 'pcieport', iommuGroup: 1 },
  {
    bdf: '0000:01:00.0',
    parent: '0000:00:10.0',
    vendorId: 0x8086,
    deviceId: 0x10d3,
    classCode: 0x020000,
    driver: 'e1000e',
    iommuGroup: 2,
    msix: { tableSize: 5, enabled: 3 },
    msi: { vectors: 1 },
    resetMethods: ['bus'],
    bars: [{ index: 0, size: 0x20000 }],
  },
  {
    bdf: '0000:01:00.1',
    parent: '0000:00:10.0',
    vendorId: 0x8086,
    deviceId: 0x10d3,
    classCode: 0x020000,
    driver: 'e1000e',
    iommuGroup: 2,
    net: ['eth0'],
  },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotslot-check-'));
  tree = buildHostTree(join(dir, 'host'), { functions: FUNCTIONS, defaultRoute: 'eth0' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hotslot(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '--sysfs-root', tree.sysfsRoot, '--proc-root', tree.procRoot, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('errors', () => {
  it('refuses an address that is not a BDF with exit 2 and one line, before touching any path', () => {
    for (const bad of ['0000:01:00', '../../block', '0000:01:20.0', 'zz:00.0']) {
      const r = hotslot('check', bad);
      expect(r.status, bad).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), bad).toHaveLength(1);
      expect(r.stderr).toContain('not a PCI address');
    }
  });

  it('says there is no such device with exit 2 and one line naming the root', () => {
    const r = hotslot('check', '0000:07:00.0');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`hotslot: no PCI device 0000:07:00.0 under ${tree.sysfsRoot}\n`);
  });

  it('rejects a bad config file with exit 2, naming the file and the field', () => {
    const cases: [string, string, RegExp][] = [
      ['missing.json', '', /missing\.json: no such file/],
      ['broken.json', '{"protect": [', /broken\.json: not valid JSON/],
      ['notlist.json', '{"protect": "0000:01:00.0"}', /notlist\.json: protect: expected a list of PCI addresses/],
      ['badbdf.json', '{"protect": ["0000:01:00.0", "01:00"]}', /badbdf\.json: protect\[1\]: not a PCI address: "01:00"/],
    ];
    for (const [name, text, expected] of cases) {
      const file = name === 'missing.json' ? join(dir, name) : writeConfig(name, text);
      for (const args of [['list'], ['check', '0000:01:00.0']]) {
        const r = hotslot('--config', file, ...args);
        expect(r.status, `${name} ${args[0]}`).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(expected);
      }
    }
  });

  it('accepts a config with guests beside protect, and protects what it lists, naming the file', () => {
    const file = writeConfig('good.json', JSON.stringify({ protect: ['01:00.0'], guests: { web: '/run/web.qmp' } }));
    const r = hotslot('--config', file, 'check', '0000:01:00.0', '--json');
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as HostDevice;
    expect(d.protected).toEqual([{ kind: 'config', message: `it is on the protect list of ${file}` }]);
    expect(d.assignable.ok).toBe(false);
  });
});

describe('check', () => {
  it('explains a device: group members and drivers, reset methods, capabilities and every reason', () => {
    const r = hotslot('check', '01:00.0');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^0000:01:00\.0 .*\[8086:10d3\]/);
    expect(out).toMatch(/IOMMU group\s+2, with 0000:01:00\.1 .*\(e1000e\)/);
    expect(out).toMatch(/reset\s+bus; FLR no/);
    expect(out).toMatch(/capabilities\s+\[40\] Power Management/);
    expect(out).toMatch(/interrupts\s+msix now/);
    expect(out).toMatch(/assignable: no/);
    expect(out).toMatch(/✗ group-not-viable: IOMMU group 2 is not viable: 0000:01:00\.1 \(e1000e\)/);
    expect(out).toMatch(/✗ reset-hits-others:/);
    for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100);
  });

  it('says why a protected device must stay', () => {
    const r = hotslot('check', '0000:01:00.1');
    expect(r.stdout).toMatch(/protected\s+it carries the default route \(eth0\)/);
    expect(r.stdout).toMatch(/✗ protected: protected because it carries the default route \(eth0\)/);
  });

  it('prints one device record with its group members in --json', () => {
    const r = hotslot('check', '0000:01:00.0', '--json');
    const d = JSON.parse(r.stdout) as HostDevice & { groupMembers: { bdf: string; driver: string | null }[] };
    expect(d.bdf).toBe('0000:01:00.0');
    expect(d.classCode).toBe('0x020000');
    expect(d.groupMembers.map((m) => [m.bdf, m.driver])).toEqual([['0000:01:00.1', 'e1000e']]);
    expect(d.assignable.reasons.map((r) => [r.code, r.severity])).toEqual([
      ['group-not-viable', 'blocker'],
      ['reset-hits-others', 'blocker'],
    ]);
  });
});

describe('list', () => {
  it('shows endpoints only by default, in a table that fits 100 columns, with owner, group, mode and mark', () => {
    const r = hotslot('list');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^BDF\s+ID\s+NAME\s+DRIVER\s+OWNER\s+GRP\s+INT\s+A\s+WHY$/);
    const rows = lines.filter((l) => /^[0-9a-f]{4}:/.test(l));
    expect(rows.map((l) => l.slice(0, 12))).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(rows[0]).toMatch(/e1000e\s+host\s+2 msix ✗ group-not-viable \+1/);
    expect(rows[1]).toMatch(/✗ protected: default route/);
    expect(lines.at(-1)).toMatch(/2 devices, 0 assignable; 2 bridges hidden \(--all shows them\); IOMMU on/);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
  });

  it('shows bridges with --all, and --json follows the same choice', () => {
    expect(hotslot('list', '--all').stdout).toMatch(/^0000:00:10\.0 .* ✗ not-endpoint$/m);
    const all = JSON.parse(hotslot('list', '--json', '--all').stdout) as HostDevice[];
    const some = JSON.parse(hotslot('list', '--json').stdout) as HostDevice[];
    expect(all.map((d) => d.bdf)).toEqual(FUNCTIONS.map((f) => f.bdf).sort());
    expect(some.map((d) => d.bdf)).toEqual(['0000:01:00.0', '0000:01:00.1']);
  });

  it('on a host without an IOMMU, says so once under the table and names what is particular to each row', () => {
    const bare = buildHostTree(join(dir, 'no-iommu'), { functions: FUNCTIONS, defaultRoute: 'eth0', iommu: false });
    const r = spawnSync(process.execPath, [CLI, '--sysfs-root', bare.sysfsRoot, '--proc-root', bare.procRoot, 'list'], { encoding: 'utf8' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.find((l) => l.startsWith('0000:01:00.1'))).toMatch(/✗ protected: default route$/);
    expect(lines.find((l) => l.startsWith('0000:01:00.0'))).toMatch(/✗ reset-hits-others$/);
    expect(lines.at(-1)).toMatch(/no IOMMU: nothing can be assigned$/);
  });

  it('documents the default and the columns in --help', () => {
    const r = hotslot('list', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--all\s+include bridges and host bridges/);
    expect(r.stdout).toMatch(/Without --all only endpoints are listed/);
  });
});
