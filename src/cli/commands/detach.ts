import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { runOperation, withOperationFlags, type OperationFlags } from '../run-operation.js';

export function registerDetach(program: Command): void {
  withOperationFlags(
    program
      .command('detach')
      .description('take a device back from its guest: device_del, reset, and its original host driver bound again')
      .argument('<bdf>', 'host PCI address, e.g. 0000:03:00.0'),
  ).action(async (bdf: string, opts: OperationFlags, cmd: Command) => {
    const b = bdfArg(bdf);
    await runOperation(cmd, opts, `detach ${b} from its guest and return it to the host?`, (s) => s.hotplug.detach(b));
  });
}
