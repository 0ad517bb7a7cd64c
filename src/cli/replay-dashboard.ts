import type { Recording } from '../record/reader.js';
import { Replayer } from '../record/replayer.js';
import { startDashboard } from '../tui/dashboard.js';
import type { Theme } from '../tui/theme.js';

/** The dashboard driven by a recording: no kernel port, no QMP, intents go nowhere. */
export async function replayDashboard(rec: Recording, opts: { speed: number; fromMs: number; theme: Theme }): Promise<number> {
  const replayer = new Replayer({
    events: rec.events,
    ...(rec.header.continued ? { initial: rec.header.continued.state } : {}),
    speed: opts.speed,
    fromMs: opts.fromMs,
  });
  const code = await new Promise<number>((resolve) => {
    startDashboard({
      replay: {
        frames$: replayer.frames$,
        control: (c) => replayer.control(c),
        now: () => replayer.now(),
        ...(rec.problem ? { endNote: `the recording ends early, at line ${rec.problem.line}: ${rec.problem.message}` } : {}),
      },
      sendIntent: () => undefined,
      readOnly: true,
      theme: opts.theme,
      header: { host: rec.header.host, kernel: '', recordedAt: rec.header.startedAt, mode: 'replay' },
      ...(process.env.TERM ? { terminal: process.env.TERM } : {}),
      onExit: resolve,
    });
    replayer.start();
  });
  replayer.stop();
  process.stdin.pause();
  return code;
}
