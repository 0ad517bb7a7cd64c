import { hostname, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createBus } from '../../core/bus.js';
import { systemClock } from '../../core/clock.js';
import { scanHost } from '../../host/inventory.js';
import { startDashboard } from '../../tui/dashboard.js';
import { loadTheme, ThemeError, type Theme } from '../../tui/theme.js';
import { globalOptions } from '../context.js';
import { usageError } from '../exit-codes.js';
import { hostSources } from './list.js';

interface DashOptions {
  readOnly?: boolean;
  theme?: string;
}

function themeFor(name: string | undefined): Theme {
  try {
    return loadTheme(name);
  } catch (err) {
    if (err instanceof ThemeError) throw usageError(err.message);
    throw err;
  }
}

/** A line of procfs, or null when the tree has no such file (snapshots keep only a few). */
function procLine(procRoot: string, rel: string): string | null {
  try {
    return readFileSync(join(procRoot, rel), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

const SIGNALS = { SIGTERM: 15, SIGHUP: 1, SIGINT: 2 } as const;

export function registerDash(program: Command): void {
  program
    .command('dash')
    .description('the dashboard: every device, its owner, IOMMU group and interrupt mode, with hotplug from the keys')
    .option('--read-only', 'show everything, change nothing: attach, detach, move, return and recover are off')
    .option('--theme <name>', 'colour theme: default, high-contrast, solarized-dark, monochrome (the default when NO_COLOR is set), or yours in $XDG_CONFIG_HOME/hotslot/themes/NAME.json')
    .action(async (opts: DashOptions, cmd: Command) => {
      const theme = themeFor(opts.theme);
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('dash needs a terminal on stdin and stdout; for scripts use list --json or check --json');
      const g = globalOptions(cmd);
      const live = g.procRoot === '/proc';
      const inventory = scanHost(hostSources(g));

      // For now one scan of the host; the watcher, the guests and the hotplug executor are wired in later.
      const bus = createBus();
      const code = await new Promise<number>((resolve) => {
        const dash = startDashboard({
          state$: bus.state$,
          events$: bus.events$,
          sendIntent: () => {
            throw new Error('changes from the dashboard are not wired up yet; use the attach/detach commands');
          },
          readOnly: opts.readOnly === true,
          theme,
          header: {
            host: procLine(g.procRoot, 'sys/kernel/hostname') ?? (live ? hostname() : 'snapshot'),
            kernel: procLine(g.procRoot, 'sys/kernel/osrelease') ?? (live ? release() : 'unknown'),
            ...(live ? { mode: 'live' as const } : {}),
          },
          onExit: (c) => {
            cleanup();
            resolve(c);
          },
        });
        const onSignal = (signal: keyof typeof SIGNALS) => () => {
          dash.stop();
          cleanup();
          resolve(128 + SIGNALS[signal]);
        };
        const handlers = (Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>).map((s) => [s, onSignal(s)] as const);
        for (const [s, h] of handlers) process.once(s, h);
        function cleanup(): void {
          for (const [s, h] of handlers) process.removeListener(s, h);
        }
        bus.emit({ type: 'host.scanned', at: systemClock.now(), iommu: inventory.iommu, devices: inventory.devices });
      });
      bus.close();
      process.stdin.pause();
      process.exitCode = code;
    });
}
