import type { Command } from 'commander';
import { printJson } from '../context.js';
import { usageError } from '../exit-codes.js';

interface ReplayOptions {
  speed?: string;
  from?: string;
  check?: boolean;
  json?: boolean;
  theme?: string;
}

/** A file that is not a recording is bad input (exit 2), said in one line. */
/** A recording that cannot be read is bad input (exit 2). */
export async function orUsage<T>(reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (err) {
    const { RecordingError } = await import('../../record/reader.js');
    if (err instanceof RecordingError) throw usageError(err.message);
    throw err;
  }
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw usageError(`${name} wants a number, got ${JSON.stringify(text)}`);
  return n;
}

/** `--check`: the whole file is read as a stream and replayed with no screen; nothing is kept but the state. */
async function check(file: string, json: boolean): Promise<void> {
  // The recording modules (and zod) load only when this command runs.
  const { replayHeadless } = await import('../../record/headless.js');
  const rec = await orUsage(replayHeadless(file));
  const { operations, notes } = rec;
  const summary = {
    file,
    ok: rec.problem === null,
    schema: rec.header.schema,
    host: rec.header.host,
    startedAt: rec.header.startedAt,
    events: rec.events,
    operations,
    notes,
    skipped: rec.skipped,
    durationMs: rec.durationMs,
    problem: rec.problem,
  };
  if (json) printJson(summary);
  else {
    const skipped = rec.skipped > 0 ? `, ${rec.skipped} lines of kinds this hotslot does not know (skipped)` : '';
    process.stdout.write(
      `${file}: ${rec.events} events, ${operations} operations, ${Math.round(rec.durationMs / 100) / 10} s, recorded on ${rec.header.host} at ${rec.header.startedAt}${skipped}\n`,
    );
  }
  if (rec.problem) throw usageError(`${file}:${rec.problem.line}: ${rec.problem.message}; the ${rec.events} events before it replay`);
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('show a recorded session in the dashboard (read-only by construction), or check a recording')
    .argument('<file>', 'a session recording (JSON Lines)')
    .option('--speed <n>', 'play faster (2) or slower (0.5)', '1')
    .option('--from <seconds>', 'start this many seconds into the session')
    .option('--check', 'replay it with no screen and summarise it; exit 2 naming the first bad line')
    .option('--json', 'with --check: the summary as JSON')
    .option('--theme <name>', 'colour theme')
    .action(async (file: string, opts: ReplayOptions) => {
      const speed = positive('--speed', opts.speed, 1);
      if (speed === 0) throw usageError('--speed must be above 0');
      const fromMs = positive('--from', opts.from, 0) * 1000;
      if (opts.check) return check(file, opts.json === true);
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('replay needs a terminal; use --check to validate a recording from a script');
      // Only what changes state is kept in memory: QMP traffic and other notes are passed over.
      const [{ changesState }, { readRecording }] = await Promise.all([import('../../core/events.js'), import('../../record/reader.js')]);
      const recording = await orUsage(readRecording(file, (e) => changesState(e.event)));
      const [{ replayDashboard }, { themeFor }] = await Promise.all([import('../replay-dashboard.js'), import('./dash.js')]);
      process.exitCode = await replayDashboard(recording, { speed, fromMs, theme: await themeFor(opts.theme) });
    });
}
