import type { Command } from 'commander';
import { usageError } from '../exit-codes.js';

export function registerExportCast(program: Command): void {
  program
    .command('export-cast')
    .description('turn a session recording into an asciicast v2 file (asciinema play), with a marker at each operation')
    .argument('<file>', 'a session recording (JSON Lines)')
    .option('-o, --output <file>', 'where to write the cast (default: FILE with .cast)')
    .option('--cols <n>', 'terminal width', '120')
    .option('--rows <n>', 'terminal height', '36')
    .action(async (file: string, opts: { output?: string; cols: string; rows: string }) => {
      const cols = Number(opts.cols);
      const rows = Number(opts.rows);
      if (!Number.isInteger(cols) || cols < 80 || !Number.isInteger(rows) || rows < 24) throw usageError('--cols and --rows must be whole numbers of at least 80 and 24');
      // QMP traffic, answers and resizes draw nothing: only what changes state is kept.
      const [{ changesState }, { readRecording }, { orUsage }] = await Promise.all([import('../../core/events.js'), import('../../record/reader.js'), import('./replay.js')]);
      const rec = await orUsage(readRecording(file, (e) => changesState(e.event)));
      const out = opts.output ?? file.replace(/(\.jsonl)?$/, '.cast');
      const { recordingToCast, writeCast } = await import('../export-cast.js');
      writeCast(out, recordingToCast(rec, { cols, rows, title: `hotslot: ${rec.header.host}, ${rec.header.startedAt}` }));
      process.stdout.write(`${out}: ${rec.events.length} events${rec.problem ? ` (recording ends at line ${rec.problem.line}: ${rec.problem.message})` : ''}\n`);
    });
}
