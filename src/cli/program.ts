import { Command, CommanderError, Option } from 'commander';
import { CliError, ExitCode } from './exit-codes.js';
import { registerQmp } from './commands/qmp.js';
import { registerList } from './commands/list.js';
import { registerCheck } from './commands/check.js';
import { registerInspect } from './commands/inspect.js';
import { registerAttach } from './commands/attach.js';
import { registerDetach } from './commands/detach.js';
import { registerMove } from './commands/move.js';
import { registerReturn } from './commands/return.js';
import { registerPark } from './commands/park.js';
import { registerRecover } from './commands/recover.js';
import { registerGuests } from './commands/guests.js';
import { registerVfs } from './commands/vfs.js';
import { registerDash, runDash } from './commands/dash.js';
import type { GlobalOptions } from './context.js';
import { anyGuestConfigured, prepareConfigSchema } from './config-file.js';
import { registerDemo, runDemo } from './commands/demo.js';
import { registerReplay } from './commands/replay.js';
import { registerExportCast } from './commands/export-cast.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerWatch } from './commands/watch.js';

import { VERSION } from './version.js';

export { VERSION };

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command('hotslot')
    .description('Live PCI passthrough for QEMU, from the keyboard')
    .version(VERSION)
    .option('--sysfs-root <dir>', 'root of the sysfs tree to read', '/sys')
    .option('--proc-root <dir>', 'root of the procfs tree to read (interrupts, mounts, routes)', '/proc')
    .addOption(new Option('--kernel <kind>', 'kernel port: the real kernel, or the simulator on a fixture tree').choices(['real', 'sim']).default('real'))
    .option('--guest <name=socket>', 'a guest QMP socket (repeatable)', collect, [])
    .option('--guest-dir <dir>', 'a directory of guest QMP sockets')
    .option('--config <file>', 'configuration file')
    .option('--state-dir <dir>', 'where the journal and lock live')
    .option('--pci-ids <file>', 'pci.ids file to take names from')
    .showHelpAfterError('(run hotslot --help for usage)')
    .hook('preAction', (thisCommand) => prepareConfigSchema(thisCommand.opts<GlobalOptions>()))
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
    });

  registerQmp(program);
  registerList(program);
  registerCheck(program);
  registerInspect(program);
  registerAttach(program);
  registerDetach(program);
  registerMove(program);
  registerReturn(program);
  registerPark(program);
  registerRecover(program);
  registerGuests(program);
  registerVfs(program);
  registerDash(program);
  registerWatch(program);
  registerDemo(program);
  registerReplay(program);
  registerExportCast(program);
  registerSnapshot(program);
  // A bare `hotslot`: the dashboard on the configured guests, or the demo lab when there are none.
  program.action(async (_opts: unknown, cmd: Command) => {
    const g = cmd.opts<GlobalOptions>();
    process.exitCode = anyGuestConfigured(g) ? await runDash(g, {}) : await runDemo({});
  });
  return program;
}

/** Runs the CLI and returns the exit status; expected failures print one line, never a stack. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`hotslot: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`hotslot: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 70;
  }
}
