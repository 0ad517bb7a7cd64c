import type { HotslotState } from '../../core/state.js';
import { cell, type Cell } from './cells.js';
import { activeOperations, currentStep, elapsedMs, formatMs, operationTitle, spinnerFrame } from './operations.js';
import { textWidth } from '../width.js';

export interface HeaderInfo {
  host: string;
  kernel: string;
  mode?: 'demo' | 'replay' | 'live';
}

interface Part {
  cell: Cell;
  /** Lower goes first when the line is too long. */
  keep: number;
}

const SEP = ' │ ';

/**
 * The header: host, kernel, IOMMU, guests connected, the operation in progress, and the flags
 * that change what keys do (read-only, demo, replay). Parts that do not fit are left out, least
 * important first.
 */
export function headerCells(state: HotslotState, info: HeaderInfo, readOnly: boolean, now: number, spinner: readonly string[], width: number): Cell[] {
  const guests = Object.values(state.guests);
  const connected = guests.filter((g) => g.connected).length;
  const active = activeOperations(state.operations);
  const parts: Part[] = [
    { cell: cell('hotslot', 'accent'), keep: 9 },
    { cell: cell(info.host), keep: 6 },
    { cell: cell(`kernel ${info.kernel}`), keep: 2 },
    {
      cell: state.iommu === null ? cell('IOMMU ?', 'muted') : cell(`IOMMU ${state.iommu ? 'on' : 'off'}`, state.iommu ? 'ok' : 'error'),
      keep: 7,
    },
    { cell: cell(`${Object.keys(state.devices).length} devices`), keep: 1 },
    { cell: cell(`guests ${connected}/${guests.length}`, connected > 0 ? 'normal' : 'muted'), keep: 5 },
  ];
  if (active.length > 0) {
    const op = active[0];
    const step = currentStep(op);
    const elapsed = elapsedMs(op, now);
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    parts.push({ cell: cell(`${spinnerFrame(spinner, elapsed)} ${operationTitle(op)}: ${step?.step ?? 'starting'} ${formatMs(elapsed)}${more}`, 'pending'), keep: 8 });
  } else parts.push({ cell: cell('idle', 'muted'), keep: 3 });
  if (readOnly) parts.push({ cell: cell('READ-ONLY', 'warn'), keep: 10 });
  if (info.mode === 'demo' || info.mode === 'replay') parts.push({ cell: cell(info.mode.toUpperCase(), 'warn'), keep: 10 });

  const shown = [...parts];
  const total = () => shown.reduce((n, p) => n + textWidth(p.cell.text), 0) + SEP.length * (shown.length - 1) + 1;
  while (total() > width && shown.length > 1) {
    const least = shown.reduce((a, b) => (b.keep < a.keep ? b : a));
    shown.splice(shown.indexOf(least), 1);
  }
  const out: Cell[] = [cell(' ')];
  shown.forEach((p, i) => {
    if (i > 0) out.push(cell(SEP, 'muted'));
    out.push(p.cell);
  });
  return out;
}
