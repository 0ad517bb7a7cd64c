import type { Command } from 'commander';
import { globalOptions, type GlobalOptions } from '../context.js';
import { ExitCode, usageError } from '../exit-codes.js';
import type { WatchRecord } from '../watch-report.js';

interface WatchOptions {
  json?: boolean;
  returnOnExit: boolean;
  record?: string | boolean;
}

const STOP_SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description("follow the host and the guests without the dashboard, one line per event; a guest's devices go back to the host when its QEMU exits")
    .option('--json', 'JSON Lines: one object per event (see the README for its fields)')
    .option('--no-return-on-exit', 'only report when a guest exits; leave its devices on vfio-pci')
    .option('--record <file>', 'record the session to FILE (default: $XDG_STATE_HOME/hotslot/sessions/)')
    .option('--no-record', 'do not record the session')
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM (exit 0), after letting a running operation finish. At start it
recovers what the journal shows unfinished, as the dashboard does. Other hotslot commands may run
meanwhile: watch holds the host lock only while it changes a device.`,
    )
    .action(async (opts: WatchOptions, cmd: Command) => {
      process.exitCode = await runWatch(globalOptions(cmd), opts);
    });
}

/** Follows the live session until a stop signal; resolves with the exit status. */
export async function runWatch(g: GlobalOptions, opts: WatchOptions): Promise<number> {
  const [{ guestSpecs }, { liveTargetFrom, openLiveSession, recordPathOf, hostLabel }, { reduce }, { initialState }, { watchLine, watchRecords }] = await Promise.all([
    import('../hotplug-session.js'),
    import('../open-live-session.js'),
    import('../../core/reducer.js'),
    import('../../core/state.js'),
    import('../watch-report.js'),
  ]);
  const configured = guestSpecs(g);
  if (configured.length === 0) throw usageError('nothing to watch: no guest is configured (use --guest NAME=SOCKET or --guest-dir DIR)');
  const returnOnExit = opts.returnOnExit !== false;
  const recordPath = recordPathOf(opts.record);
  const target = liveTargetFrom(g, { readOnly: false });
  const live = openLiveSession({ ...target, readOnly: false, returnOnExit, countInterrupts: false, recordPath, host: hostLabel(g) });

  let stdoutOpen = true;
  const print = (r: WatchRecord) => {
    if (!stdoutOpen) return;
    const time = new Date().toISOString();
    const { event, ...rest } = r;
    process.stdout.write(opts.json ? `${JSON.stringify({ event, time, ...rest })}\n` : `${time} ${watchLine(r)}\n`);
  };
  let state = initialState;
  const sub = live.session.bus.events$.subscribe((e) => {
    const before = state;
    state = reduce(state, e);
    for (const r of watchRecords(before, state, e, { returnOnExit })) print(r);
  });

  let stopping = false;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((s) => [s, () => onSignal(s)] as const);
  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  function onSignal(s: StopSignal): void {
    // A second signal while an operation finishes: leave at once; the journal lets `recover` finish it.
    if (stopping) process.exit(128 + STOP_SIGNALS[s]);
    stopping = true;
    stop(s);
  }
  for (const [s, h] of handlers) process.on(s, h);
  // A reader that went away (`watch | head`) stops the watch as a signal would.
  const onStdoutError = () => {
    stdoutOpen = false;
    stopping = true;
    stop('stdout closed');
  };
  process.stdout.once('error', onStdoutError);

  print({ event: 'watch.started', guests: target.guests.map((s) => s.name), returnOnExit, recording: recordPath });
  void live.start();
  const why = await stopped;
  await live.close();
  sub.unsubscribe();
  if (live.recordingFailure) process.stderr.write(`hotslot: ${live.recordingFailure}\n`);
  print({ event: 'watch.stopped', reason: why });
  for (const [s, h] of handlers) process.removeListener(s, h);
  process.stdout.removeListener('error', onStdoutError);
  return ExitCode.ok;
}
