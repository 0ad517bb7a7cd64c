import type { Command } from 'commander';

/** Options every command may read; set on the root program (DESIGN.md section 4). */
export interface GlobalOptions {
  sysfsRoot: string;
  procRoot: string;
  kernel: 'real' | 'sim';
  guest: string[];
  guestDir?: string;
  config?: string;
  stateDir?: string;
  pciIds?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/** Writes a line to stdout; JSON output is always one document followed by a newline. */
export function printJson(value: unknown): void {
  // Indented for a person at a terminal; compact for a pipe, where the 4,096 records of a big host
  // would otherwise cost more to indent than to read from sysfs.
  process.stdout.write((process.stdout.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n');
}
