import type { Command } from 'commander';
import { globalOptions, printJson } from '../context.js';
import { ExitCode } from '../exit-codes.js';

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('finish or undo every operation the journal shows unfinished, so each device is with a guest or back home')
    .option('--json', 'print what was done per operation as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { openHotplugSession } = await import('../hotplug-session.js');
      const session = await openHotplugSession(globalOptions(cmd), { dryRun: false, journalGuests: true });
      try {
        const results = await session.hotplug.recover();
        const ok = results.every((r) => r.ok);
        if (opts.json) printJson({ ok, operations: results });
        else if (results.length === 0) process.stdout.write('nothing to recover: every journalled operation had finished\n');
        else
          for (const r of results) {
            process.stdout.write(`${r.ok ? 'recovered' : 'NOT recovered'}: ${r.op} started ${r.startedAt} (${r.opId})\n`);
            for (const d of r.devices) process.stdout.write(`  ${d.action}: ${d.message}\n`);
          }
        if (!ok) process.exitCode = ExitCode.stuck;
      } finally {
        await session.close();
      }
    });
}
