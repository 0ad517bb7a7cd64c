import fc from 'fast-check';
import xtermHeadless from '@xterm/headless';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeTags, fit, safeText, textWidth, truncate } from '../../src/tui/width.js';
import { build, labState, makeDevice } from './fixtures.js';
import { openDashboard, type Harness } from './harness.js';

const { Terminal } = xtermHeadless;

let h: Harness | undefined;
afterEach(() => h?.close());

describe('safeText', () => {
  it('replaces emoji and wide characters by one ? each', () => {
    expect(safeText('vm😀1')).toBe('vm?1');
    expect(safeText('数据库')).toBe('???');
    expect(safeText('ｗｉｄｅ')).toBe('????');
  });

  it('drops what takes no column: combining marks, joiners, variation selectors, bidi overrides', () => {
    expect(safeText('e\u0301')).toBe('e');
    expect(safeText('a\u200db')).toBe('ab');
    expect(safeText('☺\ufe0f')).toBe('?');
    expect(safeText('abc\u202edef')).toBe('abcdef');
  });

  it('removes control characters and terminal escape sequences', () => {
    expect(safeText('vm\x1b[31mred\x1b[0m')).toBe('vmred');
    expect(safeText('a\x1b]0;title\x07b')).toBe('ab');
    expect(safeText('line\nbreak\r\x07\x00')).toBe('linebreak');
    expect(safeText('tab\there')).toBe('tab here');
  });

  it('keeps Latin, Greek, Cyrillic, arrows, box drawing and the symbols the dashboard draws', () => {
    const kept = 'Ünïcödé αβγ жук → │ ─ ✓ ✗ … ●';
    expect(safeText(kept)).toBe(kept);
  });

  it('gives text whose width is its length, for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 0, max: 40 }), (s, w) => {
        const safe = safeText(s);
        for (const ch of safe) expect(ch.codePointAt(0)).toBeLessThan(0x2800);
        expect(textWidth(fit(safe, w))).toBe(w);
        expect(textWidth(truncate(safe, w))).toBeLessThanOrEqual(w);
      }),
    );
  });
});

describe('fit and truncate', () => {
  it('marks a cut with an ellipsis and pads to the width', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(fit('abcdef', 1)).toBe('…');
  });
});

describe('escapeTags', () => {
  it("keeps blessed's tags in a name from changing colours", () => {
    expect(escapeTags('{red-fg}x{/}')).toBe('{open}red-fg{close}x{open}/{close}');
  });
});

describe('names from guests and devices on screen', () => {
  it('do not break the borders, as a real terminal emulator draws them', async () => {
    const hostile = build(
      [
        { type: 'host.scanned', at: 1, iommu: true, devices: [makeDevice('0000:02:00.0', { deviceName: '🚀 NIC 数据 {red-fg}x\u202e\x1b[2J' }), makeDevice('0000:03:00.0')] },
        { type: 'guest.connected', at: 2, guest: 'vm😀界', qemuVersion: '7.2.0\x07', runState: 'running' },
        {
          type: 'guest.devices',
          at: 2,
          guest: 'vm😀界',
          devices: [{ qdevId: 'hd👍', bus: 1, slot: 0, function: 0, classDescription: null, vendorId: 0x8086, deviceId: 0x10d3, hostBdf: '0000:02:00.0' }],
          freeSlots: ['rp1'],
        },
      ],
      labState(),
    );
    const d = (h = openDashboard(hostile));
    const xterm = new Terminal({ cols: 80, rows: 24, allowProposedApi: true });
    let parsed = Promise.resolve();
    d.term.output.on('data', (chunk: Buffer) => {
      parsed = new Promise((resolve) => xterm.write(chunk, resolve));
    });
    // Draw the whole screen again, now that the emulator listens; blessed writes on the next tick.
    d.dash.screen.alloc();
    d.dash.render();
    await new Promise((resolve) => setImmediate(resolve));
    await parsed;
    const rows = Array.from({ length: 24 }, (_, y) => xterm.buffer.active.getLine(y)?.translateToString(false) ?? '');
    const nameRow = rows.find((r) => r.includes('0000:02:00.0')) ?? '';
    expect(nameRow).toContain('? NIC ?? {red-fg}x');
    // Every row of the devices pane ends on its border in the last column.
    for (let y = 2; y <= 9; y++) expect(rows[y][79]).toBe('│');
    const guestRow = rows.find((r) => r.startsWith('│vm??')) ?? '';
    expect(guestRow[39]).toBe('│');
    expect(guestRow).toMatch(/vm\?\?\s+running\s+7\.2\.0\s+1\s+1│/);
  });
});
