import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createBus } from '../core/bus.js';
import { changesState } from '../core/events.js';
import type { Recording } from '../record/reader.js';
import { startDashboard } from '../tui/dashboard.js';
import { loadTheme } from '../tui/theme.js';

/** One asciicast v2 event: seconds since the start, "o" output or "m" marker, and its data. */
type CastEvent = [number, 'o' | 'm', string];

/**
 * Replays a recording into the dashboard on an in-memory terminal and keeps what it draws, with
 * the recording's own times, as an asciicast v2 file; each operation gets a marker.
 */
export function recordingToCast(rec: Recording, opts: { cols: number; rows: number; title: string }): string {
  const input = Object.assign(new PassThrough(), { isTTY: true as const });
  const output = Object.assign(new PassThrough(), { isTTY: true as const, columns: opts.cols, rows: opts.rows });
  const events: CastEvent[] = [];
  let now = 0;
  // Taken at the write itself, so each frame carries the time of the event that caused it.
  output.write = ((chunk: string | Uint8Array): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const last = events.at(-1);
    if (last && last[0] === now && last[1] === 'o') last[2] += text;
    else events.push([now, 'o', text]);
    return true;
  }) as typeof output.write;
  const bus = createBus(rec.header.continued?.state);
  const dash = startDashboard({
    state$: bus.state$,
    events$: bus.events$,
    sendIntent: () => undefined,
    readOnly: true,
    theme: loadTheme('default'),
    header: { host: rec.header.host, kernel: '', recordedAt: rec.header.startedAt, mode: 'replay' },
    input,
    output,
    terminal: 'xterm-256color',
    frameMs: 0,
    onExit: () => undefined,
  });
  dash.render();
  dash.screen.program.flush();
  for (const e of rec.events) {
    if (!changesState(e.event)) continue; // a recording read whole still holds QMP traffic and answers
    now = Math.round(e.t) / 1000;
    if (e.event.type === 'op.started') {
      events.push([now, 'm', `${e.event.op} ${e.event.bdfs.join(' ')}${e.event.guest ? ` -> ${e.event.guest}` : ''}`]);
    }
    bus.emit(e.event);
    dash.render();
    // blessed buffers its output until the next tick; take each frame now, at its event's time.
    dash.screen.program.flush();
  }
  dash.stop();
  bus.close();
  const header = {
    version: 2,
    width: opts.cols,
    height: opts.rows,
    timestamp: Math.floor(Date.parse(rec.header.startedAt) / 1000) || undefined,
    title: opts.title,
    env: { TERM: 'xterm-256color' },
  };
  return [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n';
}

export function writeCast(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}
