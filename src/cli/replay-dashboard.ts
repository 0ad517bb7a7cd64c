import type { Subscription } from 'rxjs';
import { createBus } from '../core/bus.js';
import type { Recording } from '../record/reader.js';
import { replayEvents } from '../record/replayer.js';
import { startDashboard } from '../tui/dashboard.js';
import type { Theme } from '../tui/theme.js';

/** The dashboard fed by a recording: no kernel port, no QMP, intents go nowhere. */
export async function replayDashboard(rec: Recording, opts: { speed: number; fromMs: number; theme: Theme; file: string }): Promise<number> {
  const bus = createBus();
  let sub: Subscription | undefined;
  const code = await new Promise<number>((resolve) => {
    startDashboard({
      state$: bus.state$,
      events$: bus.events$,
      sendIntent: () => undefined,
      readOnly: true,
      theme: opts.theme,
      header: { host: `${rec.header.host} (replay of ${opts.file})`, kernel: rec.header.startedAt, mode: 'replay' },
      ...(process.env.TERM ? { terminal: process.env.TERM } : {}),
      onExit: resolve,
    });
    sub = replayEvents(rec.events, { speed: opts.speed, fromMs: opts.fromMs }).subscribe({
      next: (e) => bus.emit(e),
      complete: () => {
        if (rec.problem) {
          bus.emit({ type: 'op.finished', at: rec.events.at(-1)?.event.at ?? 0, opId: 'replay', outcome: 'failed', message: `recording ends at line ${rec.problem.line}: ${rec.problem.message}` });
        }
      },
    });
  });
  sub?.unsubscribe();
  bus.close();
  process.stdin.pause();
  return code;
}
