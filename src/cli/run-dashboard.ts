import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { merge } from 'rxjs';
import { systemClock } from '../core/clock.js';
import { Recorder } from '../record/recorder.js';
import { VERSION } from './version.js';
import type { GuestSpec } from '../guests/guest-specs.js';
import type { HostSources } from '../host/inventory.js';
import { Journal } from '../hotplug/journal.js';
import type { KernelPort } from '../kernel/index.js';
import { LiveSession } from '../live/live-session.js';
import type { HeaderInfo } from '../tui/present/header.js';
import { startDashboard } from '../tui/dashboard.js';
import type { Theme } from '../tui/theme.js';

const SIGNALS = { SIGTERM: 15, SIGHUP: 1, SIGINT: 2 } as const;

export interface RunDashboardOptions {
  sources: HostSources;
  kernel: KernelPort | null;
  stateDir: string;
  guests: GuestSpec[];
  theme: Theme;
  header: HeaderInfo;
  readOnly: boolean;
  /** Where the session is recorded; null: not recorded. */
  recordPath: string | null;
}

/** `$XDG_STATE_HOME/hotslot/sessions/2026-11-21T08-55-00.jsonl`. */
export function defaultRecordPath(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'hotslot', 'sessions', `${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
}

/** The dashboard on a live session until the operator leaves; resolves with the exit status. */
export async function runDashboard(opts: RunDashboardOptions): Promise<number> {
  let recorder: Recorder | null = null;
  const session = new LiveSession({
    sources: opts.sources,
    kernel: opts.readOnly ? null : opts.kernel,
    journal: opts.readOnly ? null : new Journal(opts.stateDir),
    guests: opts.guests,
    clock: systemClock,
    // What led up to a change is on disk before the change begins.
    beforeChange: () => recorder?.flush(),
  });
  recorder = opts.recordPath
    ? new Recorder({
        path: opts.recordPath,
        clock: systemClock,
        header: {
          hotslotVersion: VERSION,
          host: opts.header.host,
          user: userInfo().username,
          startedAt: new Date().toISOString(),
          terminal: process.stdout.columns ? { cols: process.stdout.columns, rows: process.stdout.rows } : null,
        },
        maxBytes: 64 << 20,
      }).attach(merge(session.bus.events$, session.bus.notes$))
    : null;
  const code = await new Promise<number>((resolve) => {
    const dash = startDashboard({
      state$: session.bus.state$,
      events$: session.bus.events$,
      sendIntent: (intent) => session.sendIntent(intent),
      note: (n) => session.bus.note(n),
      readOnly: opts.readOnly,
      theme: opts.theme,
      header: opts.header,
      ...(process.env.TERM ? { terminal: process.env.TERM } : {}),
      onExit: (c) => {
        cleanup();
        resolve(c);
      },
    });
    const onSignal = (signal: keyof typeof SIGNALS) => () => {
      dash.stop();
      cleanup();
      resolve(128 + SIGNALS[signal]);
    };
    const handlers = (Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>).map((s) => [s, onSignal(s)] as const);
    for (const [s, h] of handlers) process.once(s, h);
    function cleanup(): void {
      for (const [s, h] of handlers) process.removeListener(s, h);
    }
    session.start();
  });
  session.stop();
  recorder?.close();
  process.stdin.pause();
  if (recorder?.failure) process.stderr.write(`hotslot: ${recorder.failure}\n`);
  return code;
}
