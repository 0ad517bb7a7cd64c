import type { Command } from 'commander';
import type { OperationResult } from '../hotplug/hotplug.js';
import { globalOptions } from './context.js';
import { asCliError, confirm, exitCodeOf, openHotplugSession, type HotplugSession } from './hotplug-session.js';
import { printResult } from './operation-output.js';

export interface OperationFlags {
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export function withOperationFlags(cmd: Command): Command {
  return cmd
    .option('--json', 'print the result as JSON: steps with times, reset method, final owner')
    .option('--dry-run', 'print every sysfs write and QMP message it would send, and change nothing')
    .option('-y, --yes', 'do not ask for confirmation');
}

/** Opens a session, asks, runs one operation, prints it, and sets the exit status. */
export async function runOperation(
  cmd: Command,
  flags: OperationFlags,
  question: string,
  op: (s: HotplugSession) => Promise<OperationResult>,
): Promise<void> {
  const g = globalOptions(cmd);
  if (!flags.dryRun) await confirm(question, flags.yes);
  const session = await openHotplugSession(g, { dryRun: flags.dryRun ?? false });
  try {
    const result = await op(session).catch((err: unknown) => {
      throw asCliError(err);
    });
    printResult(result, session, flags.json);
    process.exitCode = exitCodeOf(result);
  } finally {
    await session.close();
  }
}
