import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readText } from '../../src/host/sysfs-files.js';

describe('reading procfs-sized files', () => {
  it('reads a file far larger than its buffer to the end (interrupts on a host with many CPUs)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hotslot-files-')), 'interrupts');
    const line = (i: number) => `${String(i).padStart(4)}: ${'0 '.repeat(200)} PCI-MSIX-0000:01:00.0 ${i}-edge eth0-TxRx-${i}\n`;
    const text = Array.from({ length: 600 }, (_, i) => line(i)).join('');
    expect(text.length).toBeGreaterThan(200_000);
    writeFileSync(file, text);
    expect(readText(file)).toBe(text);
  });

  it('answers null for a file that is not there', () => {
    expect(readText(join(tmpdir(), 'no-such-hotslot-file'))).toBeNull();
  });
});
