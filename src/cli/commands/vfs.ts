import type { Command } from 'commander';
import { bdfArg } from '../args.js';
import { scanHost } from '../../host/inventory.js';
import { KernelError } from '../../kernel/kernel-port.js';
import { hostSources } from './list.js';
import { globalOptions, printJson } from '../context.js';
import { CliError, ExitCode, failure, usageError } from '../exit-codes.js';

export function registerVfs(program: Command): void {
  program
    .command('vfs')
    .description("set an SR-IOV physical function's number of virtual functions (refused while one of its VFs is in use)")
    .argument('<bdf>', 'the physical function, e.g. 0000:01:00.0')
    .argument('<count>', 'how many VFs (0 removes them all)')
    .option('--json', 'print the result as JSON')
    .option('--dry-run', 'print the sysfs writes and change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (bdf: string, countText: string, opts: { json?: boolean; dryRun?: boolean; yes?: boolean }, cmd: Command) => {
      const b = bdfArg(bdf);
      const [{ confirm, openHotplugSession }, { holdersOf }] = await Promise.all([import('../hotplug-session.js'), import('../guest-holders.js')]);
      if (!/^\d+$/.test(countText)) throw usageError(`COUNT must be a whole number, got ${JSON.stringify(countText)}`);
      const count = Number(countText);
      const g = globalOptions(cmd);
      const inv = scanHost(hostSources(g));
      const pf = inv.byBdf.get(b);
      if (!pf) throw usageError(`no PCI device ${b} on this host (${g.sysfsRoot}/bus/pci/devices)`);
      if (!pf.sriov) throw usageError(`${b} is not an SR-IOV physical function`);
      if (count > pf.sriov.totalVFs) throw usageError(`${b} supports at most ${pf.sriov.totalVFs} VFs, not ${count}`);
      const notAllowed = pf.assignable.reasons.find((r) => r.code === 'not-allowed');
      if (notAllowed) throw new CliError(`refused (not-allowed): ${b}: ${notAllowed.message}`, ExitCode.refused);
      if (!opts.dryRun) await confirm(`set ${b} to ${count} VFs (removing any it has now)?`, opts.yes);
      const session = await openHotplugSession(g, { dryRun: opts.dryRun ?? false });
      try {
        const held = await holdersOf(session.guests);
        const busy = pf.virtfns.filter((vf) => held.has(vf) || inv.byBdf.get(vf)?.driver === 'vfio-pci');
        if (busy.length > 0 && count !== pf.sriov.numVFs) {
          throw new CliError(`refused (vf-in-use): ${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} with a guest or on vfio-pci; return ${busy.length === 1 ? 'it' : 'them'} first`, ExitCode.refused);
        }
        const before = pf.sriov.numVFs;
        if (count !== before) {
          try {
            await session.kernel.setNumVfs(b, count, { throughZero: true });
          } catch (err) {
            if (err instanceof KernelError) throw failure(err.message);
            throw err;
          }
        }
        const after = opts.dryRun ? before : ((await session.kernel.sriov(b))?.numVfs ?? count);
        const writes = session.writes();
        if (opts.json) printJson({ bdf: b, before, requested: count, numVFs: after, dryRun: opts.dryRun ?? false, ...(opts.dryRun ? { writes } : {}) });
        else if (opts.dryRun) for (const w of writes) process.stdout.write(`echo ${JSON.stringify(w.value.trim())} > ${w.path}\n`);
        else process.stdout.write(`${b}: ${before} -> ${after} VFs\n`);
      } finally {
        await session.close();
      }
    });
}
