import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { computeLayout, type Rect } from '../../src/tui/layout.js';
import { labState } from './fixtures.js';
import { openDashboard, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(() => h?.close());

const overlaps = (a: Rect, b: Rect) => a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

describe('layout', () => {
  it('tiles the screen without overlap and within its edges at any size from 80x24 up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 80, max: 400 }), fc.integer({ min: 24, max: 150 }), fc.constantFrom('main' as const, 'details' as const), (cols, rows, view) => {
        const l = computeLayout(cols, rows, view);
        if (l.tooSmall) return false;
        const rects = [l.header, l.devices, l.guests, l.details, l.log, l.sparkline, l.bar].filter((r): r is Rect => r !== null);
        for (const r of rects) {
          expect(r.left).toBeGreaterThanOrEqual(0);
          expect(r.top).toBeGreaterThanOrEqual(0);
          expect(r.left + r.width).toBeLessThanOrEqual(cols);
          expect(r.top + r.height).toBeLessThanOrEqual(rows);
          expect(r.height).toBeGreaterThan(0);
        }
        for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) expect(overlaps(rects[i], rects[j])).toBe(false);
        const area = rects.reduce((n, r) => n + r.width * r.height, 0);
        expect(area).toBe(cols * rows);
        return true;
      }),
    );
  });

  it('keeps at least six device rows at 80x24', () => {
    const l = computeLayout(80, 24, 'main');
    if (l.tooSmall || !l.devices) throw new Error('80x24 must fit');
    expect(l.devices.height - 3).toBeGreaterThanOrEqual(6);
  });

  it('says when the terminal is smaller than 80x24', () => {
    expect(computeLayout(79, 24, 'main').tooSmall).toBe(true);
    expect(computeLayout(80, 23, 'main').tooSmall).toBe(true);
  });
});

describe('resize', () => {
  it('re-lays out the panes when the terminal grows, and back when it shrinks', () => {
    const d = (h = openDashboard(labState()));
    const devicesTitle = () => d.lines().findIndex((l) => l.includes('Devices 7'));
    const guestsTitle = () => d.lines().findIndex((l) => l.includes('Guests 2/3'));
    expect(guestsTitle()).toBeGreaterThan(devicesTitle());

    d.term.resize(240, 60);
    expect(d.lines()).toHaveLength(60);
    expect(d.lines()[0]).toHaveLength(240);
    // Wide: devices on the left, guests on the right, on the same row.
    expect(guestsTitle()).toBe(devicesTitle());
    expect(d.lines()[59]).toContain('q quit');
    // The wide table has the vendor and operation columns.
    expect(d.text()).toMatch(/BDF\s+VENDOR\s+NAME\s+DRIVER.*OPERATION/);

    d.term.resize(80, 24);
    expect(d.lines()).toHaveLength(24);
    expect(guestsTitle()).toBeGreaterThan(devicesTitle());
    expect(d.text()).not.toContain('VENDOR');
  });

  it('rebuilds the interrupt chart in its new place', () => {
    const d = (h = openDashboard(labState()));
    d.emit({ type: 'host.interrupts', at: 10, counts: { '0000:00:00.0': 5 } }, { type: 'host.interrupts', at: 11, counts: { '0000:00:00.0': 9 } });
    const chartRight = () => {
      const title = d.lines().find((l) => l.includes('Interrupts/s')) ?? '';
      return title.lastIndexOf('┐');
    };
    expect(chartRight()).toBe(79);
    d.term.resize(100, 30);
    expect(chartRight()).toBe(99);
    expect(d.text()).toContain('00:00.0 now 4 max 4');
  });

  it('asks for a bigger terminal below 80x24, and q still quits', async () => {
    const d = (h = openDashboard(labState()));
    d.term.resize(60, 20);
    expect(d.text()).toContain('hotslot needs 80x24 or more (this is 60x20); q quits');
    await d.press('q');
    expect(d.exits).toEqual([0]);
  });
});
