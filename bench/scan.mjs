#!/usr/bin/env node
// Benchmark: the host scan on a generated sysfs tree of 4,096 functions (mostly SR-IOV VFs under a
// few PFs, as on a virtualization host), against `lspci -vvv -D -k` reading the same tree, and an
// unchanged watcher cycle against a full scan. Prints times and ratios; asserts nothing about time.
//
//   npm run build && node bench/scan.mjs [--functions N] [--runs N] [--keep | --tree DIR]
//
// Goals: a full scan no slower than lspci's (ratio <= 1); an unchanged watcher cycle at most a
// fifth of a full scan (ratio <= 0.2). Wall times decide; the CPU times (user + system, of the
// child process for lspci and the CLI, its helper threads included) say how much of a wall time
// on a shared machine was waiting for a CPU.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { median } from './stats.mjs';

const repo = join(import.meta.dirname, '..');
const dist = (p) => join(repo, 'dist', p);
const { buildHostTree } = await import(dist('host/sysfs-builder.js'));
const { scanHost } = await import(dist('host/inventory.js'));
const { HostWatcher } = await import(dist('host/watcher.js'));
const { loadPciIds } = await import(dist('pci/pci-ids.js'));

const { values: args } = parseArgs({
  options: {
    functions: { type: 'string', default: '4096' },
    runs: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
    // A tree kept by an earlier --keep (building one takes a while): its `sys` and `proc`.
    tree: { type: 'string' },
    measure: { type: 'string' },
  },
});
const TOTAL = Number(args.functions);
const RUNS = Number(args.runs);
const PFS = 16;

const hex2 = (n) => n.toString(16).padStart(2, '0');

/** A host bridge, PFS root ports each with one PF (Intel E810, ice), and the rest VFs spread over the PFs. */
function hostSpec(total) {
  const functions = [{ bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0 }];
  let group = 1;
  const vfTotal = total - 1 - 2 * PFS;
  for (let p = 0; p < PFS; p++) {
    const port = `0000:00:${hex2(0x10 + (p >> 3))}.${p & 7}`;
    const bus = hex2(p + 1);
    const pf = `0000:${bus}:00.0`;
    const vfs = Math.floor(vfTotal / PFS) + (p < vfTotal % PFS ? 1 : 0);
    functions.push({ bdf: port, vendorId: 0x8086, deviceId: 0x7c09, classCode: 0x060400, driver: 'pcieport', iommuGroup: group++, msix: { tableSize: 1, enabled: 1 } });
    functions.push({
      bdf: pf,
      parent: port,
      vendorId: 0x8086,
      deviceId: 0x1593,
      classCode: 0x020000,
      driver: 'ice',
      iommuGroup: group++,
      pcie: { type: 'endpoint', flr: true },
      msix: { tableSize: 1024, enabled: 64 },
      acs: { sourceValidation: true, requestRedirect: true, completionRedirect: true, upstreamForwarding: true },
      sriov: { totalVFs: 256, vfOffset: 1, vfStride: 1, vfDeviceId: 0x1889 },
      bars: [{ index: 0, size: 0x2000000, is64Bit: true, prefetchable: true }, { index: 3, size: 0x10000, is64Bit: true, prefetchable: true }],
      net: [`ens${p + 1}f0`],
    });
    for (let v = 0; v < vfs; v++) {
      const devfn = 1 + v;
      const vfio = v % 2 === 0;
      functions.push({
        bdf: `0000:${bus}:${hex2(devfn >> 3)}.${devfn & 7}`,
        parent: port,
        physfn: pf,
        vendorId: 0x8086,
        deviceId: 0x1889,
        classCode: 0x020000,
        driver: vfio ? 'vfio-pci' : 'iavf',
        driverOverride: vfio ? 'vfio-pci' : null,
        iommuGroup: group++,
        pcie: { type: 'endpoint', flr: true },
        pm: null,
        msix: { tableSize: 17, enabled: vfio ? 0 : 5 },
        bars: [{ index: 0, size: 0x20000, is64Bit: true, prefetchable: true }, { index: 3, size: 0x4000, is64Bit: true, prefetchable: true }],
      });
    }
  }
  return { functions, defaultRoute: 'ens1f0', mounts: [] };
}


const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (ms, user + system) of this process's children that have ended, from /proc/self/stat. */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17; the slice starts at field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/** Median wall time, and mean CPU time per run: this process's own, and its children's. */
function time(fn, runs = RUNS) {
  const ms = [];
  let result;
  const own0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  const own = process.cpuUsage(own0);
  return { ms: median(ms), cpu: (own.user + own.system) / 1000 / runs, childCpu: (childrenCpuMs() - children0) / runs, result };
}

/** Median times of the four contenders on a built tree; runs in a fresh process (see below). */
function measure(sysfsRoot, procRoot) {
  const pciPath = join(sysfsRoot, 'bus/pci');
  // Warm the page cache and pci.ids for everyone alike.
  execFileSync('lspci', ['-D', '-O', `sysfs.path=${pciPath}`], { stdio: 'ignore' });
  const names = loadPciIds();
  names.vendor(0x8086);

  const lspci = time(() => {
    const r = spawnSync('lspci', ['-vvv', '-D', '-k', '-O', `sysfs.path=${pciPath}`], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`lspci failed: ${r.stderr}`);
    return r.stdout.split('\n\n').length - 1;
  });
  const src = { sysfsRoot, procRoot, names };
  const scan = time(() => {
    const inv = scanHost(src);
    JSON.stringify(inv.devices, null, 2);
    return inv.devices.length;
  });
  const cli = time(() => {
    const r = spawnSync(process.execPath, [dist('cli/main.js'), '--sysfs-root', sysfsRoot, '--proc-root', procRoot, 'list', '--json', '--all'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (r.status !== 0) throw new Error(`hotslot list failed: ${r.stderr}`);
    return r.stdout;
  });
  cli.result = JSON.parse(cli.result).length;
  // What node itself costs before any of hotslot runs, for reading the CLI figure.
  const node = time(() => spawnSync(process.execPath, ['-e', '0']).status);
  const watcher = new HostWatcher(src);
  watcher.scan();
  const poll = time(() => {
    const events = watcher.poll();
    if (events.length !== 0) throw new Error(`an unchanged cycle emitted ${events.length} events`);
    return 0;
  }, RUNS * 2);
  return {
    lspci: lspci.ms,
    scan: scan.ms,
    cli: cli.ms,
    node: node.ms,
    poll: poll.ms,
    cpu: { lspci: lspci.childCpu, scan: scan.cpu, cli: cli.childCpu, node: node.childCpu, poll: poll.cpu },
    seen: [lspci.result, scan.result, cli.result],
  };
}

if (args.measure) {
  // The child: a heap untouched by building the tree.
  const [sysfsRoot, procRoot] = args.measure.split(',');
  process.stdout.write(JSON.stringify(measure(sysfsRoot, procRoot)));
} else {
  const dir = args.tree ?? mkdtempSync(join(tmpdir(), 'hotslot-bench-'));
  try {
    const spec = hostSpec(TOTAL);
    const vfs = spec.functions.filter((f) => f.physfn).length;
    let sysfsRoot = join(dir, 'host', 'sys');
    let procRoot = join(dir, 'host', 'proc');
    if (args.tree) console.log(`tree: ${spec.functions.length} functions (${vfs} VFs under ${PFS} PFs), kept in ${dir}`);
    else {
      const built = time(() => buildHostTree(join(dir, 'host'), spec), 1);
      ({ sysfsRoot, procRoot } = built.result);
      console.log(`tree: ${spec.functions.length} functions (${vfs} VFs under ${PFS} PFs), built in ${built.ms.toFixed(0)} ms`);
    }
    const child = spawnSync(process.execPath, [import.meta.filename, '--runs', String(RUNS), '--measure', `${sysfsRoot},${procRoot}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error('measurement failed');
    const m = JSON.parse(child.stdout);
    for (const n of m.seen) if (n !== spec.functions.length) throw new Error(`a contender saw ${n} of ${spec.functions.length} functions`);
    const row = (label, ms, cpu) => console.log(`${label.padEnd(46)} ${ms.toFixed(1).padStart(9)} ms   cpu ${cpu.toFixed(0).padStart(5)} ms`);
    row('lspci -vvv -D -k (sysfs.path)', m.lspci, m.cpu.lspci);
    row('full scan, in process (scanHost + JSON)', m.scan, m.cpu.scan);
    row('hotslot list --json --all (CLI, node start-up)', m.cli, m.cpu.cli);
    row('  of which node start-up alone (node -e 0)', m.node, m.cpu.node);
    row('watcher cycle, nothing changed', m.poll, m.cpu.poll);
    const ratio = (label, a, b, goal) =>
      console.log(`${label.padEnd(46)} ${(a / b).toFixed(3).padStart(9)}   goal <= ${goal}  ${a / b <= goal ? 'met' : 'MISSED'}`);
    ratio('full scan / lspci', m.scan, m.lspci, 1);
    ratio('CLI list --json / lspci', m.cli, m.lspci, 1);
    ratio('unchanged watcher cycle / full scan', m.poll, m.scan, 0.2);
    console.log(`${'CLI list --json / lspci, CPU time'.padEnd(46)} ${(m.cpu.cli / m.cpu.lspci).toFixed(3).padStart(9)}`);
  } finally {
    if (!args.keep && !args.tree) rmSync(dir, { recursive: true, force: true });
    else console.log(`tree kept in ${dir}`);
  }
}
