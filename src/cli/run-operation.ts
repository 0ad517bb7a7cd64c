import type { Command } from 'commander';
import type { OperationResult } from '../hotplug/hotplug.js';
import { globalOptions } from './context.js';
import type { HotplugSession } from './hotplug-session.js';
import { usageError } from './exit-codes.js';

export interface OperationFlags {
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  unplugTimeout?: string;
}

export function withOperationFlags(cmd: Command): Command {
  return cmd
    .option('--json', 'print the result as JSON: steps with times, reset method, final owner')
    .option('--dry-run', 'print every sysfs write and QMP message it would send, and change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--unplug-timeout <seconds>', 'how long a guest has to release a device after device_del', '30');
}

/** Opens a session, asks, runs one operation, prints it, and sets the exit status. */
export async function runOperation(
  cmd: Command,
  flags: OperationFlags,
  question: string,
  op: (s: HotplugSession) => Promise<OperationResult>,
): Promise<void> {
  const g = globalOptions(cmd);
  const seconds = Number(flags.unplugTimeout ?? '30');
  if (!Number.isFinite(seconds) || seconds <= 0) throw usageError(`--unplug-timeout wants a number of seconds, got ${JSON.stringify(flags.unplugTimeout)}`);
  const { asCliError, confirm, exitCodeOf, openHotplugSession } = await import('./hotplug-session.js');
  const { printResult } = await import('./operation-output.js');
  if (!flags.dryRun) await confirm(question, flags.yes);
  const session = await openHotplugSession(g, { dryRun: flags.dryRun ?? false, timeouts: { unplugMs: seconds * 1000 } });
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
