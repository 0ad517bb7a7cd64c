import type { Command } from 'commander';
import { readRecording, RecordingError, type Recording } from '../../record/reader.js';
import { printJson } from '../context.js';
import { usageError } from '../exit-codes.js';

interface ReplayOptions {
  speed?: string;
  from?: string;
  check?: boolean;
  json?: boolean;
  theme?: string;
}

function load(file: string): Recording {
  try {
    return readRecording(file);
  } catch (err) {
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

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('show a recorded session in the dashboard (read-only by construction), or check a recording')
    .argument('<file>', 'a session recording (JSON Lines)')
    .option('--speed <n>', 'play faster (2) or slower (0.5)', '1')
    .option('--from <seconds>', 'start this many seconds into the session')
    .option('--check', 'validate the recording and summarise it; exit 2 naming the first bad line')
    .option('--json', 'with --check: the summary as JSON')
    .option('--theme <name>', 'colour theme')
    .action(async (file: string, opts: ReplayOptions) => {
      const rec = load(file);
      const speed = positive('--speed', opts.speed, 1);
      if (speed === 0) throw usageError('--speed must be above 0');
      const fromMs = positive('--from', opts.from, 0) * 1000;
      if (opts.check) {
        const ops = rec.events.filter((e) => e.event.type === 'op.started').length;
        const summary = {
          file,
          ok: rec.problem === null,
          host: rec.header.host,
          startedAt: rec.header.startedAt,
          events: rec.events.length,
          operations: ops,
          durationMs: rec.events.at(-1)?.t ?? 0,
          problem: rec.problem,
        };
        if (opts.json) printJson(summary);
        else process.stdout.write(`${file}: ${rec.events.length} events, ${ops} operations, ${Math.round(summary.durationMs / 100) / 10} s, recorded on ${rec.header.host} at ${rec.header.startedAt}\n`);
        if (rec.problem) throw usageError(`${file}:${rec.problem.line}: ${rec.problem.message}; the ${rec.events.length} events before it replay`);
        return;
      }
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('replay needs a terminal; use --check to validate a recording from a script');
      const [{ replayDashboard }, { themeFor }] = await Promise.all([import('../replay-dashboard.js'), import('./dash.js')]);
      process.exitCode = await replayDashboard(rec, { speed, fromMs, theme: themeFor(opts.theme), file });
    });
}
