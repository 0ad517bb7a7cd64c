/** The event log: QMP events, sysfs changes, each operation's steps with their times. */
import type { HotslotEvent } from '../../core/events.js';
import type { Screen } from '../blessed.js';
import type { Rect } from '../layout.js';
import { paintLine } from '../paint.js';
import { cell, type Line } from '../present/cells.js';
import { logClock, logLine, type OperationNames } from '../present/log.js';
import type { Theme } from '../theme.js';
import { createFrame } from './frame.js';

/** Lines kept; older ones are dropped (the session recording has them all). */
export const LOG_LIMIT = 1000;

export interface EventLog {
  lines: Line[];
  /** Adds an event; returns whether it made a line. */
  add(e: HotslotEvent): boolean;
  /** Adds many at once (a replay moved forward); returns how many lines they made. */
  addAll(events: readonly HotslotEvent[]): number;
  /** Forgets everything (a replay went back, and its events come again). */
  clear(): void;
}

export function createEventLog(limit = LOG_LIMIT): EventLog {
  const names: OperationNames = new Map();
  let start: number | null = null;
  const append = (e: HotslotEvent): boolean => {
    const line = logLine(e, names);
    if (e.type === 'op.finished') names.delete(e.opId);
    if (!line) return false;
    start ??= e.at;
    log.lines.push([cell(logClock(e.at - start) + ' ', 'muted'), ...line]);
    return true;
  };
  const trim = () => {
    if (log.lines.length > limit) log.lines.splice(0, log.lines.length - limit);
  };
  const log: EventLog = {
    lines: [],
    add(e) {
      const made = append(e);
      trim();
      return made;
    },
    addAll(events) {
      let made = 0;
      for (const e of events) {
        if (append(e)) made++;
        // Trimmed now and then, not per line: a replay may bring a million events at once.
        if (log.lines.length >= 2 * limit) trim();
      }
      trim();
      return made;
    },
    clear() {
      names.clear();
      start = null;
      log.lines.length = 0;
    },
  };
  return log;
}

export interface LogModel {
  lines: readonly Line[];
  /** Lines scrolled back from the newest. */
  back: number;
  focused: boolean;
}

export function createLogPane(screen: Screen, theme: Theme) {
  const frame = createFrame(screen, theme);
  return {
    frame,
    pageSize: () => Math.max(1, frame.innerHeight()),
    place: (rect: Rect | null) => frame.place(rect),
    render(m: LogModel): void {
      if (!frame.visible()) return;
      const h = frame.innerHeight();
      const end = m.lines.length - m.back;
      frame.title(m.back > 0 ? `Log (${m.back} newer below)` : 'Log', m.focused);
      frame.show(
        m.lines
          .slice(Math.max(0, end - h), end)
          .map((l) => paintLine(l, theme, { width: frame.innerWidth() }))
          .join('\n'),
      );
    },
  };
}
