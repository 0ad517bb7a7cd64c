import type { ReplayPosition } from '../../core/replay.js';
import type { HotslotState } from '../../core/state.js';
import { cell, type Cell } from './cells.js';
import { activeOperations, currentStep, elapsedMs, formatMs, operationTitle, spinnerFrame } from './operations.js';
import { textWidth } from '../width.js';

export interface HeaderInfo {
  host: string;
  kernel: string;
  mode?: 'demo' | 'replay' | 'live';
  /** A replay's: when the session was recorded, ISO 8601 (shown instead of the kernel). */
  recordedAt?: string;
}

interface Part {
  cell: Cell;
  /** Lower goes first when the line is too long. */
  keep: number;
}

const SEP = ' │ ';

/** A replay's clock: `0:07.5`, `12:03.0`, `1:02:03`. */
export function replayClock(ms: number): string {
  const tenths = Math.floor(Math.max(0, ms) / 100);
  const s = Math.floor(tenths / 10);
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}.${tenths % 10}`;
}

/** Where a replay stands: `REPLAY playing 0:07.5/1:05.0 x2`, `REPLAY PAUSED 0:07.5/1:05.0`, `REPLAY ended 1:05.0/1:05.0`. */
export function replayStatus(p: ReplayPosition): string {
  const what = p.ended ? 'ended' : p.paused ? 'PAUSED' : 'playing';
  const speed = p.speed === 1 ? '' : ` x${p.speed < 1 ? `1/${Math.round(1 / p.speed)}` : p.speed}`;
  return `REPLAY ${what} ${replayClock(p.t)}/${replayClock(p.durationMs)}${speed}`;
}

/**
 * The header: host, kernel, IOMMU, guests connected, the operation in progress, and the flags
 * that change what keys do (read-only, demo, replay). Parts that do not fit are left out, least
 * important first.
 */
export function headerCells(
  state: HotslotState,
  info: HeaderInfo,
  readOnly: boolean,
  now: number,
  spinner: readonly string[],
  width: number,
  replay: ReplayPosition | null = null,
): Cell[] {
  const guests = Object.values(state.guests);
  const connected = guests.filter((g) => g.connected).length;
  const active = activeOperations(state.operations);
  const parts: Part[] = [
    { cell: cell('hotslot', 'accent'), keep: 9 },
    { cell: cell(info.host), keep: 6 },
    { cell: cell(info.recordedAt !== undefined ? `recorded ${info.recordedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC')}` : `kernel ${info.kernel}`), keep: 2 },
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
  // A replay is read-only by nature: its own flag says more.
  if (readOnly && info.mode !== 'replay') parts.push({ cell: cell('READ-ONLY', 'warn'), keep: 10 });
  if (info.mode === 'replay') parts.push({ cell: cell(replay ? replayStatus(replay) : 'REPLAY', 'warn'), keep: 10 });
  else if (info.mode === 'demo') parts.push({ cell: cell('DEMO', 'warn'), keep: 10 });

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
