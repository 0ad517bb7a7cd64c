import type { GuestSpec } from '../guests/guest-specs.js';
import type { HostSources } from '../host/inventory.js';
import type { KernelPort } from '../kernel/index.js';
import type { HeaderInfo } from '../tui/present/header.js';
import { startDashboard } from '../tui/dashboard.js';
import type { Theme } from '../tui/theme.js';
import { openLiveSession } from './open-live-session.js';


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

/** The dashboard on a live session until the operator leaves; resolves with the exit status. */
export async function runDashboard(opts: RunDashboardOptions): Promise<number> {
  const live = openLiveSession({
    ...opts,
    host: opts.header.host,
    terminal: process.stdout.columns ? { cols: process.stdout.columns, rows: process.stdout.rows } : null,
  });
  const session = live.session;
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
    void live.start();
  });
  await live.close();
  process.stdin.pause();
  if (live.recordingFailure) process.stderr.write(`hotslot: ${live.recordingFailure}\n`);
  return code;
}
