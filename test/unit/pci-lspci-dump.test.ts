import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LspciDumpError, readLspciDump } from '../../src/pci/lspci-dump.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus', 'pciutils-dumps');

const rows = (count: number, first = 0, byte = '00') =>
  Array.from({ length: count }, (_, i) => `${(first + i * 16).toString(16).padStart(2, '0')}: ${Array(16).fill(byte).join(' ')}`);

function errorOf(text: string): LspciDumpError {
  try {
    readLspciDump(text);
  } catch (err) {
    if (err instanceof LspciDumpError) return err;
    throw err;
  }
  throw new Error('the dump was accepted');
}

describe('reading lspci -x dumps', () => {
  it('reads one function of lspci -x (64 bytes) with its address in domain 0000', () => {
    const fns = readLspciDump(['00:1d.0 USB controller: Intel Corporation Device 3a34', '00: 86 80 34 3a 05 00 90 02 00 00 03 0c 00 00 80 00', ...rows(3, 0x10), ''].join('\n'));
    expect(fns).toHaveLength(1);
    expect(fns[0].bdf).toBe('0000:00:1d.0');
    expect(fns[0].bytes.length).toBe(64);
    expect([...fns[0].bytes.slice(0, 4)]).toEqual([0x86, 0x80, 0x34, 0x3a]);
    expect(fns[0].line).toBe(1);
  });

  it('reads several functions with domains, 256 and 4096 bytes, and skips the -vvv text between', () => {
    const text = [
      '0001:02:00.0 PCI bridge: Freescale Semiconductor Inc P2020E (rev 21)',
      '\tControl: I/O+ Mem+ BusMaster+',
      '\tCapabilities: [44] Power Management version 3',
      ...rows(16),
      '',
      '0001:03:00.0 Network controller: Qualcomm Atheros AR93xx',
      ...rows(256),
      '',
    ].join('\n');
    const fns = readLspciDump(text);
    expect(fns.map((f) => [f.bdf, f.bytes.length])).toEqual([
      ['0001:02:00.0', 256],
      ['0001:03:00.0', 4096],
    ]);
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    const fns = readLspciDump(['00:02.0 VGA compatible controller: X', ...rows(4)].join('\r\n'));
    expect(fns[0].bytes.length).toBe(64);
  });

  it('fills bytes that no row gave with 0xff, as lspci does', () => {
    const fns = readLspciDump(['00:02.0 Host bridge: X', '00: 86 80', '10: 01'].join('\n'));
    expect([...fns[0].bytes]).toEqual([0x86, 0x80, ...new Array<number>(14).fill(0xff), 0x01]);
  });

  it('reads every file of the pciutils corpus, one function per header line', () => {
    for (const file of readdirSync(CORPUS).filter((f) => f !== 'README.md')) {
      const text = readFileSync(join(CORPUS, file), 'utf8');
      const headers = text.split('\n').filter((l) => /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l));
      const fns = readLspciDump(text);
      expect(fns.map((f) => f.bdf.slice(-7))).toEqual(headers.map((h) => h.split(' ')[0].slice(-7)));
      for (const f of fns) expect([64, 256, 4096]).toContain(f.bytes.length);
    }
  });
});

describe('malformed dumps are reported with their line numbers', () => {
  it('a row with something that is not a byte', () => {
    const err = errorOf(['00:1d.0 USB controller: X', '00: 86 80 zz 3a'].join('\n'));
    expect(err.message).toBe('line 2: malformed hex row: "zz" is not a byte (two hex digits)');
    expect(err.line).toBe(2);
  });

  it('a row of three-digit bytes', () => {
    expect(errorOf(['00:1d.0 USB controller: X', ...rows(4), '', '00:1e.0 Y', '00: 868 80'].join('\n')).line).toBe(8);
  });

  it('a hex row before any function header', () => {
    expect(errorOf(['00: 86 80 34 3a'].join('\n')).message).toMatch(/^line 1: hex row outside a function block/);
  });

  it('a hex row after the blank line that ended a function', () => {
    expect(errorOf(['00:1d.0 USB controller: X', '00: 86 80', '', '10: 00 00'].join('\n')).line).toBe(4);
  });

  it('a row that runs past 4096 bytes', () => {
    const err = errorOf(['00:1d.0 USB controller: X', 'ff0: ' + Array(17).fill('00').join(' ')].join('\n'));
    expect(err.message).toMatch(/^line 2: hex row reaches offset 0x1000/);
  });

  it('the same function twice', () => {
    const err = errorOf(['00:1d.0 A', ...rows(4), '', '0000:00:1d.0 B', ...rows(4)].join('\n'));
    expect(err.message).toBe('line 7: function 0000:00:1d.0 appears twice (first at line 1)');
  });

  it('a device number past 1f', () => {
    expect(errorOf(['00:20.0 Bad', ...rows(4)].join('\n')).message).toMatch(/^line 1: not a PCI address: 00:20\.0/);
  });

  it('a five-digit domain, which lspci accepts but a BDF cannot hold', () => {
    expect(errorOf(['10000:00:00.0 Host bridge', ...rows(4)].join('\n')).message).toMatch(/^line 1: PCI domain 10000/);
  });

  it('plain lspci output without hex rows', () => {
    const err = errorOf(['00:00.0 Host bridge: Intel', '\tSubsystem: X', '', '00:01.0 PCI bridge: Intel', ...rows(4)].join('\n'));
    expect(err.message).toMatch(/^line 1: function 0000:00:00\.0 has no hex rows \(make the dump with lspci -xxx/);
  });

  it('text that is no dump at all', () => {
    const err = errorOf('hello\nworld\n');
    expect(err.line).toBeNull();
    expect(err.message).toMatch(/^not an lspci dump/);
    expect(errorOf('').message).toMatch(/^not an lspci dump/);
  });
});
