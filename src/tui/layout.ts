/**
 * Where each pane goes, from the terminal's size. Pure, so that a resize is a new layout and
 * nothing else. At 80x24 the panes stack (devices on top); from 140 columns the devices and the
 * log take the left and guests, details and the sparkline the right.
 */
import type { View } from './keymap.js';

export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export type PaneName = 'header' | 'devices' | 'guests' | 'details' | 'log' | 'sparkline' | 'bar';

export type Layout = { tooSmall: true } | ({ tooSmall: false } & Record<PaneName, Rect | null>);

export const MIN_COLS = 80;
export const MIN_ROWS = 24;
export const WIDE_COLS = 140;

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

export function computeLayout(cols: number, rows: number, view: View): Layout {
  if (cols < MIN_COLS || rows < MIN_ROWS) return { tooSmall: true };
  const header: Rect = { top: 0, left: 0, width: cols, height: 1 };
  const bar: Rect = { top: rows - 1, left: 0, width: cols, height: 1 };
  const top = 1;
  const h = rows - 2;

  if (view === 'details') {
    const spark = 6;
    return {
      tooSmall: false,
      header,
      bar,
      details: { top, left: 0, width: cols, height: h - spark },
      sparkline: { top: top + h - spark, left: 0, width: cols, height: spark },
      devices: null,
      guests: null,
      log: null,
    };
  }

  if (cols >= WIDE_COLS) {
    const leftW = Math.floor(cols * 0.6);
    const rightW = cols - leftW;
    const logH = clamp(Math.floor(h * 0.3), 6, 20);
    const guestsH = clamp(Math.floor(h * 0.25), 6, 16);
    const sparkH = 6;
    return {
      tooSmall: false,
      header,
      bar,
      devices: { top, left: 0, width: leftW, height: h - logH },
      log: { top: top + h - logH, left: 0, width: leftW, height: logH },
      guests: { top, left: leftW, width: rightW, height: guestsH },
      details: { top: top + guestsH, left: leftW, width: rightW, height: h - guestsH - sparkH },
      sparkline: { top: top + h - sparkH, left: leftW, width: rightW, height: sparkH },
    };
  }

  const bottomH = clamp(Math.floor(h * 0.27), 6, 14);
  const middleH = clamp(Math.floor(h * 0.27), 6, 16);
  const devicesH = h - bottomH - middleH;
  const half = Math.floor(cols / 2);
  const logW = Math.floor(cols * 0.62);
  return {
    tooSmall: false,
    header,
    bar,
    devices: { top, left: 0, width: cols, height: devicesH },
    guests: { top: top + devicesH, left: 0, width: half, height: middleH },
    details: { top: top + devicesH, left: half, width: cols - half, height: middleH },
    log: { top: top + devicesH + middleH, left: 0, width: logW, height: bottomH },
    sparkline: { top: top + devicesH + middleH, left: logW, width: cols - logW, height: bottomH },
  };
}
