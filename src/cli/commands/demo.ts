import type { Command } from 'commander';
import { unixEndpoint } from '../../qmp/endpoint.js';
import { loadPciIds } from '../../pci/pci-ids.js';
import { listThemes } from '../../tui/theme-files.js';
import { usageError } from '../exit-codes.js';
import { themeFor } from './dash.js';

interface DemoOptions {
  theme?: string;
  readOnly?: boolean;
  record?: string | boolean;
}

/** The dashboard on the built-in simulated lab: no hardware, no root, nothing on this machine is touched. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const theme = await themeFor(opts.theme);
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('the demo needs a terminal on stdin and stdout');
  const [{ startDemoLab }, { runDashboard }] = await Promise.all([import('../../demo/demo-lab.js'), import('../run-dashboard.js')]);
  const { recordPathOf } = await import('../open-live-session.js');
  const lab = await startDemoLab();
  try {
    return await runDashboard({
      sources: { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot, names: loadPciIds() },
      kernel: lab.kernel.port,
      stateDir: lab.stateDir,
      guests: lab.guestSockets.map((g) => ({ name: g.name, endpoint: unixEndpoint(g.socket), source: 'the demo lab' })),
      theme,
      readOnly: opts.readOnly === true,
      recordPath: recordPathOf(opts.record),
      header: { host: 'demo-lab (simulated)', kernel: 'simulated 6.1', mode: 'demo' },
    });
  } finally {
    await lab.stop();
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the dashboard on a built-in simulated lab: a host with NICs, SR-IOV VFs, NVMe and a GPU, and three guests (no hardware, no root)')
    .option('--record <file>', 'record the session to FILE (default: $XDG_STATE_HOME/hotslot/sessions/)')
    .option('--no-record', 'do not record the session')
    .option('--read-only', 'show everything, change nothing')
    .option('--theme <name>', 'colour theme (the themes are listed below)')
    // Listed only when help is shown: sorting the names starts the ICU collator, which every
    // other command would pay for at start-up.
    .addHelpText('after', () => `\nThemes: ${[...listThemes().keys()].join(', ')}`)
    .action(async (opts: DemoOptions) => {
      process.exitCode = await runDemo(opts);
    });
}
