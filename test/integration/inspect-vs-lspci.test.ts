/**
 * Differential test: `hotslot inspect --dump FILE --json` (the built CLI) against what the
 * system's `lspci -F FILE -vvv` says about the same real-hardware dumps (pciutils' own test
 * dumps). Nothing from lspci is stored: it runs here, and its text is read with small regexes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Device, PcieType } from '../../src/core/device.js';
import { decodeConfigSpace } from '../../src/pci/config-space.js';
import { readLspciDump } from '../../src/pci/lspci-dump.js';

const REPO = join(import.meta.dirname, '..', '..');
const CORPUS = join(REPO, '..', 'shared', 'corpus', 'pciutils-dumps');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const FILES = readdirSync(CORPUS)
  .filter((f) => f !== 'README.md')
  .sort();

/** One function as lspci -vvv printed it: its header line and the indented lines under it. */
interface LspciFunction {
  bdf: string;
  title: string;
  text: string;
}

function runLspci(file: string): LspciFunction[] {
  // -D: always print the domain, so that addresses compare with hotslot's DDDD:BB:DD.F.
  const out = execFileSync('lspci', ['-F', join(CORPUS, file), '-vvv', '-D'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const blocks: LspciFunction[] = [];
  for (const chunk of out.split(/\n(?=[0-9a-f]{4}:)/)) {
    const m = /^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (.*)/.exec(chunk);
    if (m) blocks.push({ bdf: m[1], title: m[2], text: chunk });
  }
  return blocks;
}

const LSPCI = new Map(FILES.map((f) => [f, runLspci(f)] as const));

const PCIE_WORDS: Record<string, PcieType> = {
  Endpoint: 'endpoint',
  'Legacy Endpoint': 'legacy-endpoint',
  'Root Port': 'root-port',
  'Upstream Port': 'upstream-port',
  'Downstream Port': 'downstream-port',
  'PCI-Express to PCI/PCI-X Bridge': 'pcie-to-pci-bridge',
  'PCI/PCI-X to PCI-Express Bridge': 'pci-to-pcie-bridge',
  'Root Complex Integrated Endpoint': 'root-complex-endpoint',
  'Root Complex Event Collector': 'root-complex-event-collector',
};

const plus = (s: string) => s === '+';

/** Capability lines that name a capability (not `<chain looped>` and the like). */
function capabilityOffsets(text: string, extended: boolean): number[] {
  const re = extended ? /^\tCapabilities: \[([0-9a-f]{3}) v\d+\] (.*)$/gm : /^\tCapabilities: \[([0-9a-f]{2})\] (.*)$/gm;
  return [...text.matchAll(re)].filter((m) => !m[2].startsWith('<')).map((m) => parseInt(m[1], 16));
}

/** The DevCap register's lines: `DevCap:` and its continuation lines (three tabs). */
function devCapText(text: string): string | null {
  const m = /^\t\tDevCap:.*(?:\n\t\t\t.*)*/m.exec(text);
  return m ? m[0] : null;
}

function runInspect(file: string): Device[] {
  const r = spawnSync(process.execPath, [CLI, 'inspect', '--dump', join(CORPUS, file), '--json'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Device[];
}

it('the corpus holds every function the README promises, and lspci reads each of them', () => {
  const total = [...LSPCI.values()].reduce((n, fns) => n + fns.length, 0);
  // The README says 130; the files hold 172 function blocks (bridges and trees are many).
  expect(total).toBe(172);
});

describe.each(FILES)('%s', (file) => {
  let devices: Map<string, Device>;
  const fromLspci = LSPCI.get(file) ?? [];
  const bytesByBdf = new Map(readLspciDump(readFileSync(join(CORPUS, file), 'utf8')).map((f) => [f.bdf, f.bytes]));

  beforeAll(() => {
    devices = new Map(runInspect(file).map((d) => [d.bdf, d]));
  });

  it('lists the same functions as lspci', () => {
    expect([...devices.keys()].sort()).toEqual(fromLspci.map((f) => f.bdf).sort());
  });

  it.each(fromLspci.map((f) => [`${f.bdf} ${f.title.slice(0, 60)}`, f] as const))('%s agrees with lspci -vvv', (_name, fn) => {
    const d = devices.get(fn.bdf);
    expect(d, `hotslot has no ${fn.bdf}`).toBeDefined();
    if (!d) return;
    const text = fn.text;
    const cfg = decodeConfigSpace(bytesByBdf.get(fn.bdf) ?? new Uint8Array());

    // Capability chains, offsets in order.
    expect(d.capabilities.filter((c) => !c.extended).map((c) => c.offset)).toEqual(capabilityOffsets(text, false));
    expect(d.capabilities.filter((c) => c.extended).map((c) => c.offset)).toEqual(capabilityOffsets(text, true));

    // MSI: lspci prints Count=enabled/capable.
    const msi = /MSI: Enable([+-]) Count=(\d+)\/(\d+) Maskable([+-]) 64bit([+-])/.exec(text);
    expect(d.interrupts.msi.capable).toBe(msi !== null);
    if (msi) {
      expect(d.interrupts.msi.enabled).toBe(plus(msi[1]));
      expect(d.interrupts.msi.vectors).toBe(Number(msi[2]));
      expect(d.interrupts.msi.maxVectors).toBe(Number(msi[3]));
      // Not in the device record; the decoder has them.
      expect(cfg.msi?.maskable).toBe(plus(msi[4]));
      expect(cfg.msi?.is64Bit).toBe(plus(msi[5]));
    }

    const msix = /MSI-X: Enable([+-]) Count=(\d+) Masked([+-])/.exec(text);
    expect(d.interrupts.msix.capable).toBe(msix !== null);
    if (msix) {
      expect(d.interrupts.msix.enabled).toBe(plus(msix[1]));
      expect(d.interrupts.msix.tableSize).toBe(Number(msix[2]));
      expect(cfg.msix?.functionMasked).toBe(plus(msix[3]));
    }

    // PCIe port type, version and slot.
    const express = /Capabilities: \[[0-9a-f]{2}\] Express \(v(\d+)\) (.+?)(?: \(Slot([+-])\))?, MSI [0-9a-f]{2}$/m.exec(text);
    if (express) {
      expect(d.pcieType).toBe(PCIE_WORDS[express[2]] ?? null);
      expect(cfg.pcie?.version).toBe(Number(express[1]));
      // lspci shows the slot bit only for port types that can have a slot.
      if (express[3] !== undefined) expect(cfg.pcie?.slotImplemented).toBe(plus(express[3]));
    } else {
      expect(d.pcieType).toBeNull();
    }

    // FLR from DevCap. lspci 3.9 prints FLReset for every port type except the PCI/PCI-X to
    // PCIe bridge; where it prints nothing there is nothing to compare against.
    const devCap = devCapText(text);
    const flReset = devCap ? /FLReset([+-])/.exec(devCap) : null;
    if (flReset) expect(d.reset.flr).toBe(plus(flReset[1]));
    if (!express) expect(d.reset.flr).toBe(false);

    // PM: NoSoftRst from the PMCSR.
    const pmStatus = /^\t\tStatus: D\d NoSoftRst([+-])/m.exec(text);
    expect(d.reset.pmNoSoftReset).toBe(pmStatus ? plus(pmStatus[1]) : null);
    if (pmStatus) expect(d.reset.methods.includes('pm')).toBe(!plus(pmStatus[1]));

    // PCI Advanced Features: af_flr is a method only with both TP and FLR, as in the kernel.
    const afCap = /AFCap: TP([+-]) FLR([+-])/.exec(text);
    expect(d.reset.afFlr).toBe(afCap ? plus(afCap[2]) : false);
    expect(d.reset.methods.includes('af_flr')).toBe(afCap !== null && plus(afCap[1]) && plus(afCap[2]));

    // ACS capability register bits.
    const acs = /ACSCap:\s+SrcValid([+-]) TransBlk([+-]) ReqRedir([+-]) CmpltRedir([+-]) UpstreamFwd([+-]) EgressCtrl([+-]) DirectTrans([+-])/.exec(text);
    if (acs) {
      expect(d.acs).toEqual({
        capable: true,
        flags: {
          sourceValidation: plus(acs[1]),
          translationBlocking: plus(acs[2]),
          requestRedirect: plus(acs[3]),
          completionRedirect: plus(acs[4]),
          upstreamForwarding: plus(acs[5]),
          egressControl: plus(acs[6]),
          directTranslatedP2P: plus(acs[7]),
        },
      });
    } else {
      expect(d.acs).toBeNull();
    }

    // SR-IOV.
    const iov = /Initial VFs: (\d+), Total VFs: (\d+), Number of VFs: (\d+)/.exec(text);
    if (iov) {
      expect(d.sriov).toEqual({ totalVFs: Number(iov[2]), numVFs: Number(iov[3]) });
      expect(cfg.sriov?.initialVFs).toBe(Number(iov[1]));
    } else {
      expect(d.sriov).toBeNull();
    }

    // Interrupt pin and line. lspci prints the Interrupt Line register as "IRQ"; 255 means
    // "not connected", which the record gives as null.
    const intr = /^\tInterrupt: pin ([A-D]) routed to IRQ (\d+)/m.exec(text);
    expect(d.interrupts.pin).toBe(intr ? intr[1] : null);
    if (intr) expect(d.interrupts.irq).toBe(intr[2] === '255' ? null : Number(intr[2]));

    // Vendor and device ids: lspci's names come from the same pci.ids, its numbers from -nn
    // would say the same as the bytes; the title line carries the names.
    if (d.vendorName && d.deviceName) expect(fn.title).toContain(d.deviceName);
  });
});

describe('inspect on the command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotslot-inspect-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  function inspect(...args: string[]) {
    return spawnSync(process.execPath, [CLI, 'inspect', ...args], { encoding: 'utf8' });
  }

  /** A usage error: exit 2, nothing on stdout, exactly one line on stderr. */
  function expectUsageError(r: ReturnType<typeof inspect>, pattern: RegExp) {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  }

  it('refuses a missing file with one line and exit 2', () => {
    expectUsageError(inspect('--dump', join(dir, 'missing.txt')), /^hotslot: cannot read dump .*missing\.txt: no such file\n$/);
  });

  it('refuses a directory with one line and exit 2', () => {
    expectUsageError(inspect('--dump', dir), /cannot read dump .*: is a directory/);
  });

  it('refuses text that is not a dump with one line and exit 2', () => {
    const file = join(dir, 'garbage.txt');
    writeFileSync(file, 'this is not\nan lspci dump\n');
    expectUsageError(inspect('--dump', file, '--json'), /garbage\.txt: not an lspci dump/);
  });

  it('refuses binary garbage with one line and exit 2', () => {
    const file = join(dir, 'garbage.bin');
    writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    expectUsageError(inspect('--dump', file), /garbage\.bin: not an lspci dump \(binary data/);
  });

  it('names the line of a malformed hex row', () => {
    const file = join(dir, 'bad-row.txt');
    writeFileSync(file, '00:1d.0 USB controller: X\n00: 86 80 34 3a\n10: 00 0g 00\n');
    expectUsageError(inspect('--dump', file), /bad-row\.txt: line 3: malformed hex row: "0g"/);
  });

  it('prints a readable summary per function, with every capability lspci shows at its offset', () => {
    const file = 'cap-pcie-2';
    const r = inspect('--dump', join(CORPUS, file));
    expect(r.status).toBe(0);
    const [fn] = LSPCI.get(file) ?? [];
    expect(r.stdout).toContain(fn.bdf);
    expect(r.stdout).toMatch(/\[8086:10c9\] Ethernet controller \[020000\]: Intel Corporation 82576 Gigabit Network Connection/);
    expect(r.stdout).toMatch(/PCIe +Endpoint \(v2\)/);
    expect(r.stdout).toMatch(/MSI-X Enable\+ Count=10/);
    expect(r.stdout).toMatch(/reset +flr, pm/);
    expect(r.stdout).toMatch(/SR-IOV +8 VFs total, 1 enabled/);
    for (const at of [...capabilityOffsets(fn.text, false), ...capabilityOffsets(fn.text, true)]) {
      expect(r.stdout).toContain(`[${at.toString(16)}] `);
    }
  });

  it('takes names from the pci.ids file given with --pci-ids, and gives null names when it is missing', () => {
    const ids = join(dir, 'pci.ids');
    writeFileSync(ids, '8086  Chipzilla\n\t10c9  Gigabit Wonder\n');
    const run = (path: string) => {
      const r = spawnSync(process.execPath, [CLI, '--pci-ids', path, 'inspect', '--dump', join(CORPUS, 'cap-pcie-2'), '--json'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return (JSON.parse(r.stdout) as Device[])[0];
    };
    expect(run(ids)).toMatchObject({ vendorName: 'Chipzilla', deviceName: 'Gigabit Wonder' });
    expect(run(join(dir, 'no-such.ids'))).toMatchObject({ vendorId: '0x8086', vendorName: null, deviceName: null });
  });

  it('shows ACS capability bits in the summary', () => {
    const r = inspect('--dump', join(CORPUS, 'cap-aer-root'));
    expect(r.stdout).toMatch(/ACS +SrcValid\+ TransBlk\+ ReqRedir\+ CmpltRedir\+ UpstreamFwd\+ EgressCtrl- DirectTrans-/);
  });
});
