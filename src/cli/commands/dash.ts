import { release } from 'node:os';
import type { Command } from 'commander';
import type { Theme } from '../../tui/theme.js';
import { globalOptions, type GlobalOptions } from '../context.js';
import { usageError } from '../exit-codes.js';

interface DashOptions {
  readOnly?: boolean;
  theme?: string;
  record?: string | boolean;
}

/** The theme by name; its loader (and zod) load only for the commands that draw. */
export async function themeFor(name: string | undefined): Promise<Theme> {
  const { loadTheme, ThemeError } = await import('../../tui/theme.js');
  try {
    return loadTheme(name);
  } catch (err) {
    if (err instanceof ThemeError) throw usageError(err.message);
    throw err;
  }
}

export function registerDash(program: Command): void {
  program
    .command('dash')
    .description('the dashboard: every device, its owner, IOMMU group and interrupt mode, with hotplug from the keys')
    .option('--record <file>', 'record the session to FILE (default: $XDG_STATE_HOME/hotslot/sessions/)')
    .option('--no-record', 'do not record the session')
    .option('--read-only', 'show everything, change nothing: attach, detach, move, return and recover are off')
    .option('--theme <name>', 'colour theme: default, high-contrast, solarized-dark, monochrome (the default when NO_COLOR is set), or yours in $XDG_CONFIG_HOME/hotslot/themes/NAME.json')
    .action(async (opts: DashOptions, cmd: Command) => {
      process.exitCode = await runDash(globalOptions(cmd), opts);
    });
}

/** The dashboard on the host and the configured guests. */
export async function runDash(g: GlobalOptions, opts: DashOptions): Promise<number> {
  const theme = await themeFor(opts.theme);
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('dash needs a terminal on stdin and stdout; for scripts use list --json or check --json');
  const live = g.procRoot === '/proc';
  // Loaded on use: the dashboard's modules are heavy, and most commands never need them.
  const [{ liveTargetFrom, recordPathOf, hostLabel, procLine }, { runDashboard }] = await Promise.all([import('../open-live-session.js'), import('../run-dashboard.js')]);
  return runDashboard({
    ...liveTargetFrom(g, { readOnly: opts.readOnly === true }),
    theme,
    readOnly: opts.readOnly === true,
    recordPath: recordPathOf(opts.record),
    header: {
      host: hostLabel(g),
      kernel: procLine(g.procRoot, 'sys/kernel/osrelease') ?? (live ? release() : 'unknown'),
      ...(live ? { mode: 'live' as const } : {}),
    },
  });
}
