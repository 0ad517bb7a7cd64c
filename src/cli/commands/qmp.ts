import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerQmp(program: Command): void {
  program.command('qmp').description('(not yet built)');
}
