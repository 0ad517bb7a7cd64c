import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPciIds, parsePciIds } from '../../src/pci/pci-ids.js';

const SAMPLE = [
  '#',
  '#\tList of PCI IDs',
  '#',
  '',
  '# Vendors, devices and subsystems.',
  '8086  Intel Corporation',
  '\t10c9  82576 Gigabit Network Connection',
  '\t\t8086 a03c  Ethernet Server Adapter I340-T4',
  '\t\t8086 a03d  Ethernet Server Adapter I340-T2',
  '# a comment between devices',
  '\t3a34  82801JI (ICH10 Family) USB UHCI Controller #1',
  '15b3  Mellanox Technologies',
  '\t1007  MT27520 Family [ConnectX-3 Pro]',
  '1af4  Red Hat, Inc.',
  '',
  '# List of known device classes, subclasses and programming interfaces',
  'C 02  Network controller',
  '\t00  Ethernet controller',
  'C 0c  Serial bus controller',
  '\t03  USB controller',
  '\t\t00  UHCI',
  '\t\t30  XHCI',
  'C 06  Bridge',
  '\t04  PCI bridge',
  '\t\t00  Normal decode',
  '',
].join('\n');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotslot-pciids-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('pci.ids names', () => {
  it('finds vendor, device and subsystem names in a pci.ids file', () => {
    const path = join(dir, 'pci.ids');
    writeFileSync(path, SAMPLE);
    const names = loadPciIds(path);
    expect(names.vendor(0x8086)).toBe('Intel Corporation');
    expect(names.device(0x8086, 0x10c9)).toBe('82576 Gigabit Network Connection');
    expect(names.device(0x8086, 0x3a34)).toBe('82801JI (ICH10 Family) USB UHCI Controller #1');
    expect(names.device(0x15b3, 0x1007)).toBe('MT27520 Family [ConnectX-3 Pro]');
    expect(names.subsystem?.(0x8086, 0x10c9, 0x8086, 0xa03d)).toBe('Ethernet Server Adapter I340-T2');
    expect(names.path).toBe(path);
  });

  it('reads names in UTF-8 from the file, accents and all', () => {
    const path = join(dir, 'utf8.ids');
    writeFileSync(path, ['1234  Société Générale ☃', '\tabcd  Gerät für Prüfungen', '\t\t1234 0001  Ünter-System', 'C 02  Réseau'].join('\n'));
    const names = loadPciIds(path);
    expect(names.vendor(0x1234)).toBe('Société Générale ☃');
    expect(names.device(0x1234, 0xabcd)).toBe('Gerät für Prüfungen');
    expect(names.subsystem?.(0x1234, 0xabcd, 0x1234, 0x0001)).toBe('Ünter-System');
    expect(names.className?.(0x020000)).toBe('Réseau');
  });

  it('answers null for ids the file does not list', () => {
    const names = parsePciIds(SAMPLE);
    expect(names.vendor(0x10de)).toBeNull();
    expect(names.device(0x8086, 0xffff)).toBeNull();
    expect(names.device(0x1af4, 0x1000)).toBeNull();
    expect(names.subsystem?.(0x8086, 0x10c9, 0x1028, 0x0001)).toBeNull();
  });

  it('names classes as lspci does (subclass, else base class) and programming interfaces apart', () => {
    const names = parsePciIds(SAMPLE);
    expect(names.className?.(0x020000)).toBe('Ethernet controller');
    expect(names.className?.(0x0c0330)).toBe('USB controller');
    expect(names.progIfName?.(0x0c0330)).toBe('XHCI');
    expect(names.className?.(0x0280ff)).toBe('Network controller');
    expect(names.className?.(0xff0000)).toBeNull();
  });

  it('does not mistake class lines for vendors (class 02 is not vendor 0002)', () => {
    const names = parsePciIds(SAMPLE);
    expect(names.vendor(0x0002)).toBeNull();
    expect(names.vendor(0x0c03)).toBeNull();
  });

  it('reads CRLF files', () => {
    const names = parsePciIds(SAMPLE.replace(/\n/g, '\r\n'));
    expect(names.device(0x8086, 0x10c9)).toBe('82576 Gigabit Network Connection');
  });

  it('gives null names, not an error, when the file is missing', () => {
    const names = loadPciIds(join(dir, 'nope.ids'));
    expect(names.vendor(0x8086)).toBeNull();
    expect(names.device(0x8086, 0x10c9)).toBeNull();
    expect(names.className?.(0x020000)).toBeNull();
    expect(names.path).toBeNull();
  });

  it('reads the file at the first lookup, not when loaded', () => {
    const path = join(dir, 'late.ids');
    const names = loadPciIds(path);
    writeFileSync(path, SAMPLE);
    expect(names.vendor(0x15b3)).toBe('Mellanox Technologies');
  });

  it('survives lines that do not fit the format', () => {
    const names = parsePciIds(['zzzz  Not hex', '\tqqqq  bad device', '8086  Intel', '\t10c9 short', '\t\t8086  bad subsystem', 'C zz  bad class', '\t00  orphan'].join('\n'));
    expect(names.vendor(0x8086)).toBe('Intel');
    expect(names.device(0x8086, 0x10c9)).toBe('short');
  });

  it('reads a vendor listed twice as lspci does: the first name, devices from both, a later device entry winning', () => {
    const names = parsePciIds(
      ['8086  Intel', '\t10c9  first', '\t\t8086 a03c  gone with its device', '15b3  Mellanox', '8086  Intel again', '\t10c9  second', '\t1521  I350', '\t\t8086 0001  kept'].join('\n'),
    );
    expect(names.vendor(0x8086)).toBe('Intel');
    expect(names.device(0x8086, 0x10c9)).toBe('second');
    expect(names.device(0x8086, 0x1521)).toBe('I350');
    expect(names.subsystem?.(0x8086, 0x10c9, 0x8086, 0xa03c)).toBeNull();
    expect(names.subsystem?.(0x8086, 0x1521, 0x8086, 0x0001)).toBe('kept');
    expect(names.vendor(0x15b3)).toBe('Mellanox');
  });

  it('keeps subsystems with their device across comments and device lines that do not fit, and reads upper-case ids', () => {
    const names = parsePciIds(['ABCD  Upper', '\tEF01  Device', '# note', '\tzz  not a device', '\t\t1AF4 0002  Sub', '\t0002  Next', '\t\t1af4 0003  Other'].join('\n'));
    expect(names.vendor(0xabcd)).toBe('Upper');
    expect(names.device(0xabcd, 0xef01)).toBe('Device');
    expect(names.subsystem?.(0xabcd, 0xef01, 0x1af4, 0x0002)).toBe('Sub');
    expect(names.subsystem?.(0xabcd, 0xef01, 0x1af4, 0x0003)).toBeNull();
    expect(names.subsystem?.(0xabcd, 0x0002, 0x1af4, 0x0003)).toBe('Other');
  });

  it('finds names in the system pci.ids when it is installed', () => {
    // lspci's own file on this machine (Debian: /usr/share/misc/pci.ids).
    const names = loadPciIds();
    expect(names.path).not.toBeNull();
    expect(names.vendor(0x8086)).toBe('Intel Corporation');
    expect(names.device(0x1af4, 0x1041)).toBe('Virtio 1.0 network device');
  });
});
