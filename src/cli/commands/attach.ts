import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { runOperation, withOperationFlags, type OperationFlags } from '../run-operation.js';

export function registerAttach(program: Command): void {
  withOperationFlags(
    program
      .command('attach')
      .description("give a host device to a running guest: unbind its driver, reset it, bind vfio-pci, device_add")
      .argument('<bdf>', 'host PCI address, e.g. 0000:03:00.0')
      .argument('<guest>', 'guest name (from --guest NAME=SOCKET or --guest-dir)')
      .option('--group', "take every endpoint of the device's IOMMU group along")
      .option('--no-reset', 'hand it over without a reset (for functions that have no reset method)'),
  ).action(async (bdf: string, guest: string, opts: OperationFlags & { group?: boolean; reset: boolean }, cmd: Command) => {
    const b = bdfArg(bdf);
    await runOperation(cmd, opts, `attach ${b} to guest ${guest}?`, (s) => s.hotplug.attach(b, guest, { group: opts.group ?? false, noReset: !opts.reset }));
  });
}
