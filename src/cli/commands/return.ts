import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { runOperation, withOperationFlags, type OperationFlags } from '../run-operation.js';

export function registerReturn(program: Command): void {
  withOperationFlags(
    program
      .command('return')
      .description('give a device back to its host driver: from a guest (as detach) or from vfio-pci (after park)')
      .argument('<bdf>', 'host PCI address, e.g. 0000:03:00.0'),
  ).action(async (bdf: string, opts: OperationFlags, cmd: Command) => {
    const b = bdfArg(bdf);
    await runOperation(cmd, opts, `return ${b} to its host driver?`, (s) => s.hotplug.return(b));
  });
}
