import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { runOperation, withOperationFlags, type OperationFlags } from '../run-operation.js';

export function registerPark(program: Command): void {
  withOperationFlags(
    program
      .command('park')
      .description('unbind, reset and bind vfio-pci, and keep it there for a guest that is not running yet (undo: return)')
      .argument('<bdf>', 'host PCI address, e.g. 0000:03:00.0')
      .option('--no-reset', 'park it without a reset'),
  ).action(async (bdf: string, opts: OperationFlags & { reset: boolean }, cmd: Command) => {
    const b = bdfArg(bdf);
    await runOperation(cmd, opts, `park ${b} on vfio-pci?`, (s) => s.hotplug.park(b, { noReset: !opts.reset }));
  });
}
