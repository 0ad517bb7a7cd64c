import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { runOperation, withOperationFlags, type OperationFlags } from '../run-operation.js';

export function registerMove(program: Command): void {
  withOperationFlags(
    program
      .command('move')
      .description('move a device from its guest to another, with a reset between; if the new guest refuses, it goes back')
      .argument('<bdf>', 'host PCI address, e.g. 0000:03:00.0')
      .argument('<guest>', 'the guest to move it to'),
  ).action(async (bdf: string, guest: string, opts: OperationFlags, cmd: Command) => {
    const b = bdfArg(bdf);
    await runOperation(cmd, opts, `move ${b} to guest ${guest}?`, (s) => s.hotplug.move(b, guest));
  });
}
